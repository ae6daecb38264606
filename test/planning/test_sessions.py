"""SessionPlanner: requests are checked before the model runs; sessions are bounded."""

from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.limits import Decoding, PlannerLimits, RequestError
from rt_grasp_ros.planning.sessions import PlanRequest, SessionPlanner, accepts, token_counter
from rt_grasp_ros.transforms import Pose
from rt_grasp_ros.vlm.predictor import Prediction


class Session:
    def __init__(self, model, image):
        self.model, self.image, self.turns = model, image, []

    def ask(self, instruction=None, **options):
        prediction = self.model.predict(self.image, instruction, self.turns, **options)
        self.turns.append((instruction, prediction.text))
        return prediction


class Model:
    """Stands in for GraspPredictor: a fixed pose; records what it was asked."""

    def __init__(self):
        self.calls = []

    def predict(
        self, image, instruction=None, history=None, constrained=False, samples=1, temperature=0.7
    ):
        self.calls.append(dict(constrained=constrained, samples=samples, temperature=temperature))
        return Prediction("[0.5, 0.5], 0.0", GraspPose(0.5, 0.5, 0.0), "", None, 10, 5)

    def session(self, image):
        return Session(self, image)


class NucleusModel(Model):
    def predict(self, image, instruction=None, history=None, top_p=1.0, **options):
        self.calls.append(dict(top_p=top_p, **options))
        return Prediction("[0.5, 0.5], 0.0", GraspPose(0.5, 0.5, 0.0), "", None, 10, 5)


def frame(size=64):
    k = np.array([[80.0, 0, size / 2 - 0.5], [0, 80.0, size / 2 - 0.5], [0, 0, 1]])
    camera = PinholeCamera(
        size,
        size,
        k,
        base_from_camera=Pose.from_position_quat(
            [0.5, 0.0, 0.75], [0.7071068, -0.7071068, 0.0, 0.0]
        ),
    )
    rgb = np.full((size, size, 3), 128, np.uint8)
    return RGBDFrame(rgb, np.full((size, size), 0.75, np.float32), camera)


def test_a_bad_request_never_reaches_the_model():
    model = Model()
    planner = SessionPlanner(model, whole_frame=True)
    for request, field in (
        (PlanRequest("pick", samples=2, temperature=-1.0), "temperature"),
        (PlanRequest("pick", samples=1_000_000), "samples"),
        (PlanRequest("x" * 1001), "instruction"),
    ):
        with pytest.raises(RequestError) as info:
            planner.plan(frame(), request)
        assert info.value.field == field
    assert model.calls == [] and planner.session_ids == []


def test_the_default_decoding_is_constrained_and_the_whole_frame_is_planned_on():
    model = Model()
    planner = SessionPlanner(model, whole_frame=True)
    answer = planner.plan(frame(), PlanRequest("pick up the object"))
    assert answer.plan.ok, answer.plan.reason
    assert model.calls == [dict(constrained=True, samples=1, temperature=0.7)]
    assert answer.plan.crop.size == (64, 64) and answer.session_id == "s1" and not answer.note
    SessionPlanner(model, limits=PlannerLimits(decoding="free"), whole_frame=True).plan(
        frame(), PlanRequest("pick", decoding=Decoding.DEFAULT)
    )
    assert model.calls[-1]["constrained"] is False


def test_sampling_defaults_fill_in_and_top_p_goes_only_to_a_model_that_takes_it():
    model = Model()
    planner = SessionPlanner(
        model, limits=PlannerLimits(temperature=0.4, top_p=0.8), whole_frame=True
    )
    answer = planner.plan(frame(), PlanRequest("pick", samples=3))
    assert model.calls[-1] == dict(constrained=True, samples=3, temperature=pytest.approx(0.4))
    assert "top_p=0.8 ignored" in answer.note
    nucleus = NucleusModel()
    answer = SessionPlanner(nucleus, whole_frame=True).plan(
        frame(), PlanRequest("pick", samples=2, top_p=0.5)
    )
    assert nucleus.calls[-1]["top_p"] == 0.5 and not answer.note
    assert not accepts(Model().predict, "top_p") and accepts(NucleusModel().predict, "top_p")


def test_turns_per_session_are_bounded():
    planner = SessionPlanner(Model(), limits=PlannerLimits(max_turns=2), whole_frame=True)
    sid = planner.plan(frame(), PlanRequest("pick")).session_id
    assert planner.plan(None, PlanRequest(session_id=sid, follow_up="left")).plan.ok
    with pytest.raises(RequestError, match=r"^follow_up: .*2 turns.*max_turns=2"):
        planner.plan(None, PlanRequest(session_id=sid, follow_up="more left"))


def test_the_least_recently_used_session_is_evicted_and_says_so():
    planner = SessionPlanner(Model(), limits=PlannerLimits(max_sessions=2), whole_frame=True)
    s1, s2 = (planner.plan(frame(), PlanRequest("pick")).session_id for _ in range(2))
    planner.plan(None, PlanRequest(session_id=s1, follow_up="left"))  # s1 now the most recent
    s3 = planner.plan(frame(), PlanRequest("pick")).session_id
    assert planner.session_ids == [s1, s3]
    with pytest.raises(RequestError, match=r"^session_id: 's2' was evicted .*max_sessions=2"):
        planner.plan(None, PlanRequest(session_id=s2, follow_up="left"))
    with pytest.raises(RequestError, match="unknown"):
        planner.plan(None, PlanRequest(session_id="nope", follow_up="left"))


def test_a_long_follow_up_counts_tokens_of_the_models_tokenizer():
    class Tokenizer:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split()}

    model = Model()
    model.backbone = type("Backbone", (), {"processor": type("P", (), {"tokenizer": Tokenizer()})})
    assert token_counter(model)("a b c") == 3
    planner = SessionPlanner(
        model, limits=PlannerLimits(max_instruction_tokens=3), whole_frame=True
    )
    sid = planner.plan(frame(), PlanRequest("a b c")).session_id
    with pytest.raises(RequestError, match=r"^follow_up: 4 tokens"):
        planner.plan(None, PlanRequest(session_id=sid, follow_up="a b c d"))
    with pytest.raises(RtGraspError, match="no image"):
        planner.plan(None, PlanRequest("pick"))
