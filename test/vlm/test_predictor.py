from __future__ import annotations

import math

import numpy as np
import pytest

from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts.formats import AnswerFormat
from rt_grasp_ros.prompts.spec import GraspPoseSpec, pose_pattern
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.consensus import consensus
from rt_grasp_ros.vlm.constrained import AnswerGrammar
from rt_grasp_ros.vlm.dataset import record_image
from rt_grasp_ros.vlm.predictor import GraspPredictor


@pytest.fixture
def predictor(tiny_base):
    return GraspPredictor(load_backbone(tiny_base, "float32", "cpu"), max_new_tokens=40)


@pytest.fixture
def image(tiny_data):
    return record_image(tiny_data.records(0, "train")[0], tiny_data.image_folder)


@pytest.mark.parametrize("fmt", list(AnswerFormat))
def test_constrained_decoding_guarantees_a_pose_even_from_an_untrained_model(
    tiny_base, image, fmt
):
    predictor = GraspPredictor(
        load_backbone(tiny_base, "float32", "cpu"), answer_format=fmt, max_new_tokens=60
    )
    free = predictor.predict(image)
    constrained = predictor.predict(image, constrained=True)
    assert free.error is not None  # random weights: the free answer is not a pose
    assert constrained.ok, constrained.text
    assert constrained.generated_tokens <= 60


def test_grammar_accepts_exactly_well_formed_poses():
    import regex

    rt = regex.compile(pose_pattern(AnswerFormat.RT, 3))
    assert rt.fullmatch("[0.512, 1.000], -1.047")
    assert not rt.fullmatch("[1.512, 0.100], 0.047")
    assert not rt.fullmatch("[0.5, 0.1], 0.047")
    assert rt.fullmatch("[0.51", partial=True).partial
    b = regex.compile(pose_pattern(AnswerFormat.NO_REASONING_B, 3))
    assert b.fullmatch("[0.512, 0.433] Rotation angle in radians: -1.047")


def test_constrained_decoding_needs_room_for_a_pose(tiny_base, image):
    from rt_grasp_ros.errors import ConfigError

    short = GraspPredictor(load_backbone(tiny_base, "float32", "cpu"), max_new_tokens=10)
    with pytest.raises(ConfigError, match="max_new_tokens >= 24"):
        short.predict(image, constrained=True)


def test_grammar_forces_the_pose_when_the_budget_runs_out(tiny_base):
    tok = load_backbone(tiny_base, "float32", "cpu").processor.tokenizer
    grammar = AnswerGrammar(tok, 0, GraspPoseSpec(AnswerFormat.RT, 3), max_new_tokens=40)
    assert grammar._allowed("The object is", remaining=20) is not None  # must start the pose
    assert grammar._allowed("The object is", remaining=39) is None  # still free to reason
    assert grammar._allowed("It is a pen. [0.500, 0.470], 0.469", remaining=5) == [
        tok.eos_token_id
    ]


def test_batch_answers_equal_single_answers(predictor, tiny_data):
    records = tiny_data.records(0, "train")[:3]
    images = [record_image(r, tiny_data.image_folder) for r in records]
    instructions = [
        "Predict a grasp pose.",
        "Where should the robot grasp the object in this image?",
        None,
    ]
    batch = predictor.predict_batch(images, instructions, constrained=True)
    single = [
        predictor.predict(i, t, constrained=True)
        for i, t in zip(images, instructions, strict=True)
    ]
    assert [b.text for b in batch] == [s.text for s in single]


def test_batches_pad_left_without_changing_the_shared_processor(predictor, tiny_data):
    tokenizer = predictor.backbone.processor.tokenizer
    tokenizer.padding_side = "right"  # as a trainer sharing the processor would leave it
    records = tiny_data.records(0, "train")[:2]
    images = [record_image(r, tiny_data.image_folder) for r in records]
    conversations = [predictor.messages(i, None) for i in ("Grasp.", "Where to grasp the pen?")]
    inputs = predictor._encode(images, conversations)
    mask = inputs["attention_mask"]
    assert not mask.all() and mask[:, -1].all()  # padded, on the left
    predictor.predict_batch(images, ["Grasp.", "Where to grasp the pen?"], constrained=True)
    assert tokenizer.padding_side == "right"


def test_refinement_session_keeps_the_turns(predictor, image):
    session = predictor.session(image)
    first = session.ask(constrained=True)
    second = session.ask("Rotate the gripper by 90 degrees.", constrained=True)
    assert len(session.turns) == 2 and session.turns[0][1] == first.text
    messages = predictor.messages("Now grasp it at the end.", session.turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"][0]["text"] == first.text
    assert [c["type"] for c in messages[0]["content"]] == ["image", "text"]
    assert [c["type"] for c in messages[2]["content"]] == ["text"]
    assert second.prompt_tokens > first.prompt_tokens + first.generated_tokens - 1
    assert session.pose == second.pose


def test_sampling_k_answers_returns_a_consensus(predictor, image):
    result = predictor.predict(image, constrained=True, samples=5, seed=0)
    assert len(result.samples) == 5 and result.consensus is not None and result.ok
    assert 0.0 <= result.consensus.agreement <= 1.0


def test_consensus_uses_axial_angles_and_medians():
    poses = [GraspPose(0.50, 0.40, 1.5), GraspPose(0.52, 0.41, -1.5), GraspPose(0.90, 0.10, 1.52)]
    c = consensus(poses)
    assert (c.pose.x, c.pose.y) == pytest.approx((0.52, 0.40))
    # 1.5 and -1.5 rad are 0.14 rad apart modulo pi: the mean is near +-pi/2, not 0.
    assert abs(abs(c.pose.theta) - math.pi / 2) < 0.05
    assert c.agreement > 0.95 and c.theta_std_deg < 5
    assert c.nearest in (0, 1)
    spread = consensus(
        [
            GraspPose(0.5, 0.5, 0.0),
            GraspPose(0.5, 0.5, math.pi / 4),
            GraspPose(0.5, 0.5, -math.pi / 4),
        ]
    )
    assert spread.agreement < 0.5 and np.isclose(spread.pose.theta, 0.0, atol=1e-9)
