"""ManipLLM's answers as specs: the contact sentence and the category answer."""

from __future__ import annotations

import numpy as np
import pytest
import regex

from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.manip.answers import CategorySpec, ContactSpec, direction_pattern
from rt_grasp_ros.manip.contact import BIN, ContactPose
from rt_grasp_ros.manip.tasks import load_task_formats, pose_answer, pose_values

FORMATS = load_task_formats()
SPEC = ContactSpec(FORMATS, 336, 240)


def sentence(x="140", y="110", up="(35, -34, -11)", forward="(29, 36, 17)") -> str:
    return FORMATS.pose.answer.format(x=x, y=y, up=up, forward=forward)


def test_the_contact_renders_as_the_training_answer_and_parses_back():
    contact = ContactPose(140.4, 109.6, (0.7, -0.68, -0.22), (0.58, 0.72, 0.34))
    text = SPEC.render(contact)
    assert text == pose_answer(pose_values(contact), FORMATS)  # what the pose task trains
    assert regex.fullmatch(SPEC.pattern(), text) and len(text) <= SPEC.longest()
    assert set(text) <= SPEC.chars()
    back = SPEC.parse(text).value
    assert (back.x, back.y) == (140, 110)
    # bins -> unit vectors: within the quantisation of 0.02 per component
    assert np.linalg.norm(back.up) == pytest.approx(1)
    np.testing.assert_allclose(back.up, contact.up, atol=BIN)
    assert np.dot(back.forward, contact.forward) > 0.999
    assert SPEC.to_json(back)["up"] == list(back.up)


@pytest.mark.parametrize(
    "text, part",
    [
        ("I would pull the handle.", "no contact point"),
        (sentence(x="337"), "contact point x=337 is outside \\[0, 336\\]"),
        (sentence(y="241"), "contact point y=241 is outside \\[0, 240\\]"),
        ("The contact point is (1, 2) and nothing else", "no gripper up direction"),
        ("The contact point is (1, 2), up (1, 0, 0).", "no gripper forward direction"),
        (sentence(up="(51, 0, 0)"), "up direction bin 51 is outside \\[-50, 50\\]"),
        (sentence(forward="(0, -60, 3)"), "forward direction bin -60"),
        (sentence(up="(0, 0, 0)"), "up direction is all zeros"),
        (sentence(forward="(0, 0, 0)"), "forward direction is all zeros"),
        (sentence(up="(0, 0, 50)", forward="(0, 0, -20)"), "parallel"),
    ],
)
def test_each_missing_or_out_of_range_part_is_named(text, part):
    with pytest.raises(AnswerParseError, match=part):
        SPEC.parse(text)


def test_the_pattern_admits_only_parsable_contacts():
    pattern = regex.compile(SPEC.pattern())
    assert pattern.fullmatch(sentence(x="336", y="0", up="(-50, 0, 1)"))
    for bad in (
        sentence(x="337"),
        sentence(y="241"),
        sentence(up="(0, 0, 0)"),
        sentence(up="(0, 51, 0)"),
        sentence(x="07"),
    ):
        assert not pattern.fullmatch(bad), bad
    assert pattern.fullmatch(sentence()[:40], partial=True).partial
    zero = regex.compile(direction_pattern())
    assert not zero.fullmatch("(0, 0, 0)") and not zero.fullmatch("(-0, 0, -0)")
    assert zero.fullmatch("(0, -0, 7)") and zero.fullmatch("(0, 0, ", partial=True)


def test_the_category_answer_names_a_category_and_what_it_stands_for():
    spec = CategorySpec(FORMATS)
    text = spec.render("storage box")
    assert text == "The image features a storage box sitting on a table."
    assert regex.fullmatch(spec.pattern(), text)
    assert not regex.fullmatch(spec.pattern(), spec.render("spaceship"))
    assert spec.parse(text).value == "storage box"  # not "box"
    assert spec.parse("It is a microwave.").value == "microwave"
    assert spec.categories("cabinet") == ("drawer", "door", "sliding_door")
    assert spec.categories("oven") == ("oven",)
    with pytest.raises(AnswerParseError, match="no known category"):
        spec.parse("The image features a spaceship.")
    assert len(text) <= spec.longest() and set(text) <= spec.chars()


def test_the_grammar_check_keeps_forward_from_ending_parallel_to_up():
    up = "(0, 0, 50)"
    head = FORMATS.pose.answer.split("{forward}")[0].format(x=1, y=2, up=up)
    assert SPEC.admits(head + "(")  # many completions left
    assert not SPEC.admits(head + "(0, 0")  # only (0, 0, c): parallel to up, or all zeros
    assert SPEC.admits(head + "(0, 1")
    assert not SPEC.admits(head + "(0, 0, 7)")
    skew = FORMATS.pose.answer.split("{forward}")[0].format(x=1, y=2, up="(8, 5, 50)")
    assert not SPEC.admits(skew + "(8, 5, 50")  # nothing but 50 can follow, parallel
    assert SPEC.admits(skew + "(8, 5, 5")  # 5 is parallel, but 50 is not
    assert SPEC.admits(skew + "(8, 5, -")


def test_a_template_the_parser_cannot_read_is_refused():
    from dataclasses import replace

    from rt_grasp_ros.errors import ConfigError

    swapped = replace(FORMATS.pose, answer="Forward {forward}, up {up}, at ({x}, {y}).")
    with pytest.raises(ConfigError, match=r"pose\.answer"):
        ContactSpec(replace(FORMATS, pose=swapped), 10, 10)
