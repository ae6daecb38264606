from __future__ import annotations

import math

import pytest

from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.grasp import GraspPose
from rt_grasp_ros.prompts import AnswerFormat, parse_answer, render_answer

POSE = GraspPose(0.5123, 0.25, -1.2)


def test_rt_format_is_reasoning_then_pose_with_three_decimals():
    text = render_answer("rt", POSE, "A mug with a handle. Grasp the handle.")
    assert text == "A mug with a handle. Grasp the handle. [0.512, 0.250], -1.200"


def test_no_reasoning_formats_match_the_paper():
    assert render_answer("no-reasoning-a", POSE) == "[0.512, 0.250], -1.200"
    assert (
        render_answer("no-reasoning-b", POSE)
        == "Grasp point coordinates: [0.512, 0.250] Rotation angle in radians: -1.200"
    )


def test_render_checks_reasoning_presence():
    with pytest.raises(ValueError, match="reasoning"):
        render_answer("rt", POSE)
    with pytest.raises(ValueError, match="no reasoning"):
        render_answer("no-reasoning-a", POSE, "text")
    with pytest.raises(ValueError, match="expected one of"):
        AnswerFormat.parse("cot")


@pytest.mark.parametrize("fmt", list(AnswerFormat))
def test_parser_round_trips_every_format(fmt):
    reasoning = "The object is a pen. Grasp it across the middle." if fmt.has_reasoning else None
    parsed = parse_answer(render_answer(fmt, POSE, reasoning, decimals=4))
    assert (parsed.pose.x, parsed.pose.y, parsed.pose.theta) == pytest.approx((0.5123, 0.25, -1.2))
    assert parsed.reasoning == (reasoning or "")


def test_last_well_formed_pose_wins():
    text = "First guess [0.1, 0.2], 0.3. Better: [0.4, 0.5], -0.6 done"
    assert parse_answer(text).pose == GraspPose(0.4, 0.5, -0.6)


def test_angle_outside_range_is_wrapped_modulo_pi():
    parsed = parse_answer("[0.5, 0.5], 2.0")
    assert parsed.pose.theta == pytest.approx(2.0 - math.pi)
    assert parsed.raw_theta == 2.0
    assert parse_answer("[0.5, 0.5], 1.5708").pose.theta == pytest.approx(1.5708 - math.pi)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("I would grasp the handle.", "no grasp pose"),
        ("[0.5, 0.5]", "no grasp pose"),
        ("[1.2, 0.3], 0.1", "x=1.2 is outside"),
        ("[0.2, -0.3], 0.1", "y=-0.3 is outside"),
    ],
)
def test_bad_answers_raise_a_clear_error(text, reason):
    with pytest.raises(AnswerParseError, match=reason) as info:
        parse_answer(text)
    assert info.value.text == text


def test_numbers_in_exponent_and_signed_forms_parse():
    assert parse_answer("[5e-1, +0.25], -.5").pose == GraspPose(0.5, 0.25, -0.5)


def test_every_sim_category_is_named_by_its_own_reasoning_templates():
    from rt_grasp_ros.prompts.parser import mentioned_category
    from rt_grasp_ros.prompts.templates import load_templates
    from rt_grasp_ros.sim.objects import CATEGORIES

    lib = load_templates()
    for category in CATEGORIES:
        for text in lib.reasoning_options(category):
            assert mentioned_category(text, tuple(CATEGORIES)) == category, text


def test_mentioned_category_takes_the_first_name_and_whole_words():
    from rt_grasp_ros.prompts.parser import mentioned_category

    names = ("ball", "toy_block", "can")
    assert mentioned_category("A toy block, not a ball.", names) == "toy_block"
    assert mentioned_category("It is round like a ball; a can is taller.", names) == "ball"
    assert mentioned_category("A baseball and a canister.", names) is None
    assert mentioned_category("Two cans.", names) == "can"
