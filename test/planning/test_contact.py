"""Contact poses through the session planner: ManipLLM's chain of thought on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from manip_synthetic import manip_corpus

from rt_grasp_ros.manip.predictor import ContactPredictor
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.contact import ContactModel, place_contact
from rt_grasp_ros.planning.limits import RequestError
from rt_grasp_ros.planning.sessions import PlanRequest, SessionPlanner
from rt_grasp_ros.transforms import Pose
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.predictor import GraspPredictor


@pytest.fixture(scope="module")
def contact_predictor(tmp_path_factory):
    from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

    out = tmp_path_factory.mktemp("tiny_contact")
    build_tiny(TinySpec(family="llava"), manip_corpus(), out)
    backbone = load_backbone(out, "float32", "cpu")
    return ContactPredictor(GraspPredictor(backbone, max_new_tokens=40), reasoning_tokens=8)


def frame(width=80, height=64):
    """A wider-than-high frame of a plane 0.75 m away, seen by a tilted camera."""
    k = np.array([[80.0, 0, width / 2 - 0.5], [0, 80.0, height / 2 - 0.5], [0, 0, 1]])
    extrinsic = Pose.from_position_quat([0.5, 0.1, 0.75], [0.68, -0.72, 0.1, 0.05])
    camera = PinholeCamera(width, height, k, base_from_camera=extrinsic)
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return RGBDFrame(rgb, np.full((height, width), 0.75, np.float32), camera)


def planner(predictor, **kwargs):
    return SessionPlanner(ContactModel(predictor), whole_frame=True, place=place_contact, **kwargs)


def test_a_contact_is_placed_in_the_base_and_camera_frames_with_its_chain(contact_predictor):
    f = frame()
    answer = planner(contact_predictor).plan(f, PlanRequest(instruction="open the drawer"))
    plan = answer.plan
    assert plan.ok, plan.reason
    assert [t.kind for t in plan.prediction.turns] == ["category", "reasoning", "pose"]
    contact = plan.contact
    # the same TCP through the camera extrinsic: position and rotation
    camera_pose = f.camera.base_from_camera @ plan.pose_camera
    np.testing.assert_allclose(camera_pose.position, plan.pose.position, atol=1e-9)
    np.testing.assert_allclose(
        camera_pose.rotation.as_matrix(), plan.pose.rotation.as_matrix(), atol=1e-9
    )
    # z of the TCP is the predicted up (base frame); the plane is 0.75 m away
    np.testing.assert_allclose(plan.pose.rotation.apply([0, 0, 1]), contact.up_base(f.camera))
    assert plan.depth == pytest.approx(0.75)
    # the model saw the whole frame's centred square: its pixel is the full frame's, shifted
    x0, y0 = plan.crop.origin
    assert (x0, y0) == (8, 0)
    np.testing.assert_allclose(plan.pose.position, f.point_at(contact.x + x0, contact.y + y0))
    assert plan.timings["total"] >= plan.timings["decode"] > 0


def test_a_follow_up_re_asks_the_pose_turn_in_the_same_conversation(contact_predictor):
    p = planner(contact_predictor)
    first = p.plan(frame(), PlanRequest(instruction="open the drawer"))
    again = p.plan(None, PlanRequest(session_id=first.session_id, follow_up="more to the left"))
    turns = again.plan.prediction.turns
    assert again.session_id == first.session_id and again.plan.ok, again.plan.reason
    assert [t.kind for t in turns] == ["category", "reasoning", "pose", "pose"]
    assert turns[-1].question.startswith("more to the left ")
    # the new pose turn's prompt holds the conversation before it: the earlier pose prompt,
    # its answer (re-tokenised, so fewer tokens than generated) and the follow-up
    assert turns[-1].prediction.prompt_tokens > turns[-2].prediction.prompt_tokens + 20
    assert again.plan.contact is turns[-1].prediction.pose


def test_without_cot_the_pose_prompt_alone_and_sampling_is_refused(contact_predictor):
    alone = ContactPredictor(contact_predictor.predictor, cot=False)
    plan = planner(alone).plan(frame(), PlanRequest()).plan
    assert plan.ok and [t.kind for t in plan.prediction.turns] == ["pose"]
    with pytest.raises(RequestError, match=r"^samples: 4 sampled answers"):
        planner(alone).plan(frame(), PlanRequest(samples=4))


def test_a_session_is_bounded_in_requests_not_in_turns_of_the_chain(contact_predictor):
    from rt_grasp_ros.planning.limits import PlannerLimits

    p = planner(contact_predictor, limits=PlannerLimits(max_turns=2))
    first = p.plan(frame(), PlanRequest())
    p.plan(None, PlanRequest(session_id=first.session_id, follow_up="lower"))
    with pytest.raises(RequestError, match=r"^follow_up: session 's1' already has 2 turns"):
        p.plan(None, PlanRequest(session_id=first.session_id, follow_up="again"))


def test_a_contact_on_a_pixel_without_depth_is_a_result_with_its_reason(contact_predictor):
    f = frame()
    holes = RGBDFrame(f.rgb, np.full_like(f.depth, np.nan), f.camera)
    plan = planner(contact_predictor).plan(holes, PlanRequest()).plan
    assert not plan.ok and plan.pose is None and plan.pose_camera is None
    assert plan.reason.startswith(f"contact pixel ({plan.contact.x:g}, {plan.contact.y:g}): ")
    assert len(plan.prediction.chain) == 3  # what the model said is kept
