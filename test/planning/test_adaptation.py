"""The contact planner's test-time adaptation (ROS-free): a planned session's contact as a trial.

A tiny untrained LLaVA loaded for adaptation plans contacts through the session planner; an
outcome on a session adapts the very model that plans, on the image and pixel it answered.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("transformers")

from manip_synthetic import manip_corpus

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.tta import ADAPTED_FILE, STATE_FILE, TTAConfig
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.adaptation import ContactAdaptation, default_tta_dir, trial_outcome
from rt_grasp_ros.planning.contact import place_contact
from rt_grasp_ros.planning.limits import Decoding, PlannerLimits
from rt_grasp_ros.planning.sessions import PlanRequest, SessionPlanner
from rt_grasp_ros.transforms import Pose

CONFIG = TTAConfig(steps=2, learning_rate=1e-2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

    out = tmp_path_factory.mktemp("tiny_tta_planner")
    build_tiny(TinySpec(family="llava"), manip_corpus(), out)
    return out


def digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def frame(width=80, height=64):
    """A wider-than-high frame of a plane 0.75 m away: the model sees its centred square."""
    k = np.array([[80.0, 0, width / 2 - 0.5], [0, 80.0, height / 2 - 0.5], [0, 0, 1]])
    extrinsic = Pose.from_position_quat([0.5, 0.1, 0.75], [0.68, -0.72, 0.1, 0.05])
    camera = PinholeCamera(width, height, k, base_from_camera=extrinsic)
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return RGBDFrame(rgb, np.full((height, width), 0.75, np.float32), camera)


def planner(adaptation, **limits):
    return SessionPlanner(
        adaptation.model, limits=PlannerLimits(**limits), whole_frame=True, place=place_contact
    )


def test_an_outcome_adapts_the_planning_model_on_the_image_and_pixel_it_answered(tiny, tmp_path):
    before = digest(tiny)
    adaptation = ContactAdaptation.load(tiny, tmp_path / "tta", CONFIG, device="cpu")
    # the planner's model is the adapter's: what adapts is what plans
    assert adaptation.model.backbone is adaptation.adapter.backbone
    sessions = planner(adaptation)
    answer = sessions.plan(frame(), PlanRequest(instruction="open the drawer"))
    assert answer.plan.ok, answer.plan.reason

    outcome = trial_outcome(sessions, answer.session_id, moved=False)
    contact = answer.plan.contact
    assert outcome.image is answer.plan.crop.frame.rgb  # the 64x64 square the model saw
    assert outcome.image.shape == (64, 64, 3)
    assert outcome.pixel == (contact.x, contact.y) and not outcome.success
    assert outcome.category == answer.plan.prediction.category

    first = adaptation.adapt(sessions, answer.session_id, moved=False)
    assert first.success and first.trials == 1, first.message
    assert math.isfinite(first.loss_before) and math.isfinite(first.loss_after)
    assert first.loss_after != first.loss_before
    assert answer.session_id in first.message and "not moved" in first.message
    second = adaptation.adapt(sessions, answer.session_id, moved=True)
    assert second.success and second.trials == 2, second.message
    # the weights are saved apart; the model folder is never written
    assert (tmp_path / "tta" / ADAPTED_FILE).is_file()
    state = json.loads((tmp_path / "tta" / STATE_FILE).read_text())
    assert [t["success"] for t in state["trials"]] == [False, True]
    assert digest(tiny) == before

    # the adapted model plans; a reset restores the model's own adapter
    again = sessions.plan(frame(), PlanRequest(instruction="open the drawer"))
    assert again.plan.ok, again.plan.reason
    assert "after 2 trial(s)" in adaptation.reset() and adaptation.trials == 0
    restored = adaptation.adapt(sessions, answer.session_id, moved=False)
    assert restored.trials == 1
    assert restored.loss_before == pytest.approx(first.loss_before, rel=1e-5)


def test_a_session_that_cannot_be_adapted_on_is_an_answer_naming_it(tiny, tmp_path):
    adaptation = ContactAdaptation.load(tiny, tmp_path / "tta", CONFIG, device="cpu")
    sessions = planner(adaptation, max_sessions=1)
    for session_id, words in (("s9", "'s9' is unknown"), ("", "session_id: is empty")):
        answer = adaptation.adapt(sessions, session_id, moved=True)
        assert not answer.success and words in answer.message, answer.message
        assert answer.trials == 0 and math.isnan(answer.loss_before)
    # free decoding: the untrained model's answers hold no contact pose
    free = PlanRequest(decoding=Decoding.FREE)
    blind = sessions.plan(frame(), free)
    assert blind.plan.prediction.contact is None
    answer = adaptation.adapt(sessions, blind.session_id, moved=True)
    assert not answer.success and f"session {blind.session_id!r} has no contact" in answer.message
    sessions.plan(frame(), free)  # max_sessions=1: the first is evicted
    answer = adaptation.adapt(sessions, blind.session_id, moved=True)
    assert not answer.success and "was evicted" in answer.message
    assert adaptation.trials == 0 and not (tmp_path / "tta").exists()


def test_without_the_chain_of_thought_the_trial_names_no_category(tiny, tmp_path):
    adaptation = ContactAdaptation.load(tiny, tmp_path / "tta", CONFIG, cot=False, device="cpu")
    sessions = planner(adaptation)
    answer = sessions.plan(frame(), PlanRequest())
    assert answer.plan.ok and answer.plan.prediction.category is None
    assert trial_outcome(sessions, answer.session_id, True).category == ""
    adapted = adaptation.adapt(sessions, answer.session_id, moved=True)
    assert adapted.success, adapted.message


def test_adapted_weights_never_go_into_the_model_folder(tiny):
    with pytest.raises(ConfigError, match="inside the base checkpoint"):
        ContactAdaptation.load(tiny, tiny / "tta", CONFIG, device="cpu")


def test_the_default_folder_is_under_the_ros_home():
    assert default_tta_dir("/grasp_planner", {"ROS_HOME": "/r"}).as_posix() == (
        "/r/rt_grasp/tta/grasp_planner"
    )
    home = default_tta_dir("/ns/grasp_planner", {})
    assert home.parts[-5:] == (".ros", "rt_grasp", "tta", "ns", "grasp_planner")
