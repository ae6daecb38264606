"""The answer-spec mechanism's shared parts and RT-Grasp's pose as one spec."""

from __future__ import annotations

import re

import pytest
import regex

from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts.formats import AnswerFormat
from rt_grasp_ros.prompts.spec import GraspPoseSpec, int_range_pattern, literal_chars


@pytest.mark.parametrize("low, high", [(0, 0), (0, 9), (0, 10), (0, 336), (7, 7), (5, 1234)])
def test_integer_ranges_match_exactly_their_numbers(low, high):
    pattern = re.compile(int_range_pattern(low, high))
    matched = [n for n in range(0, 3000) if pattern.fullmatch(str(n))]
    assert matched == list(range(low, high + 1))
    assert not pattern.fullmatch("007") and not pattern.fullmatch("-1")


@pytest.mark.parametrize("fmt", list(AnswerFormat))
def test_a_grasp_answer_renders_matches_its_pattern_and_parses_back(fmt):
    spec = GraspPoseSpec(fmt, 3)
    pose = GraspPose(0.512, 1.0, -1.047)
    reasoning = "It is a pen." if fmt.has_reasoning else None
    text = spec.render(pose, reasoning)
    start = text.index(spec.opener)
    assert regex.fullmatch(spec.pattern(), text[start:])
    assert len(text[start:]) <= spec.longest()
    assert set(text[start:]) <= spec.chars()
    parsed = spec.parse(text)
    assert parsed.value == pose and parsed.reasoning == (reasoning or "")
    assert spec.to_json(parsed.value) == {"x": 0.512, "y": 1.0, "theta": -1.047}
    with pytest.raises(AnswerParseError, match="no grasp pose"):
        spec.parse("It is a pen.")


def test_literal_chars_leave_the_placeholders_out():
    assert literal_chars("a {x} b{yz}.") == frozenset("a b.")
