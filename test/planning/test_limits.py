"""The planner's request limits: typed config whose errors name the field, and request checks."""

from __future__ import annotations

import math

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.planning.limits import (
    LIMIT_FIELDS,
    Decoding,
    PlannerLimits,
    RequestError,
    Sampling,
)


def test_the_defaults_are_the_documented_ones_and_valid():
    limits = PlannerLimits()
    assert {name: spec.default for name, spec in LIMIT_FIELDS.items()} == {
        "decoding": "constrained",
        "temperature": 0.7,
        "top_p": 1.0,
        "max_samples": 16,
        "max_temperature": 2.0,
        "max_instruction_chars": 1000,
        "max_instruction_tokens": 256,
        "max_turns": 8,
        "max_sessions": 32,
    }
    assert all(getattr(limits, name) == spec.default for name, spec in LIMIT_FIELDS.items())
    assert all(spec.check(spec.default) for spec in LIMIT_FIELDS.values())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("max_samples", 0, "an integer in [1, 1024]"),
        ("max_samples", 2.5, "an integer in [1, 1024]"),
        ("max_sessions", -1, "an integer in [1, 100000]"),
        ("max_turns", True, "an integer in [1, 1000]"),
        ("temperature", 0.0, "a number in (0.0, 100.0]"),
        ("top_p", 1.5, "a number in (0.0, 1.0]"),
        ("max_temperature", math.nan, "a number in (0.0, 100.0]"),
        ("decoding", "greedy", "'constrained' or 'free'"),
    ],
)
def test_an_invalid_limit_names_its_field_and_what_was_expected(name, value, expected):
    with pytest.raises(ConfigError) as info:
        PlannerLimits(**{name: value})
    assert str(info.value) == f"{name}={value!r} is invalid: expected {expected}"


def test_the_default_temperature_must_be_allowed_and_ints_become_floats():
    with pytest.raises(ConfigError, match=r"temperature=3\.0 .*max_temperature=2\.0"):
        PlannerLimits(temperature=3.0)
    assert PlannerLimits(max_temperature=5).max_temperature == 5.0


def test_a_request_that_sets_nothing_gets_the_planner_defaults():
    limits = PlannerLimits(temperature=0.5, top_p=0.9)
    assert limits.sampling(Decoding.DEFAULT, 0, 0.0, 0.0) == Sampling(True, 1, 0.5, 0.9)
    assert limits.sampling(Decoding.DEFAULT, 3, 1.2, 0.5) == Sampling(True, 3, 1.2, 0.5)


def test_default_decoding_is_the_planners_parameter_and_a_request_overrides_it():
    constrained, free = PlannerLimits(), PlannerLimits(decoding="free")
    assert constrained.sampling(Decoding.DEFAULT, 1, 0, 0).constrained
    assert not free.sampling(Decoding.DEFAULT, 1, 0, 0).constrained
    assert free.sampling(Decoding.CONSTRAINED, 1, 0, 0).constrained
    assert not constrained.sampling(Decoding.FREE, 1, 0, 0).constrained


@pytest.mark.parametrize(
    ("samples", "temperature", "top_p", "field"),
    [
        (2, -1.0, 0.0, "temperature"),  # transformers raises ValueError on it
        (2, math.nan, 0.0, "temperature"),
        (2, 2.5, 0.0, "temperature"),  # above max_temperature
        (1_000_000, 0.0, 0.0, "samples"),  # a million sequences: out of memory
        (17, 0.0, 0.0, "samples"),
        (-1, 0.0, 0.0, "samples"),
        (2, 0.0, 1.5, "top_p"),
        (2, 0.0, -0.1, "top_p"),
        (2, 0.0, math.inf, "top_p"),
    ],
)
def test_a_request_out_of_bounds_names_the_field(samples, temperature, top_p, field):
    with pytest.raises(RequestError) as info:
        PlannerLimits().sampling(Decoding.DEFAULT, samples, temperature, top_p)
    assert info.value.field == field and str(info.value).startswith(f"{field}: ")


def test_text_is_bounded_in_characters_and_tokens():
    limits = PlannerLimits(max_instruction_chars=20, max_instruction_tokens=3)
    words = len  # a tokenizer stand-in: one token per character
    limits.check_text("instruction", "abc", words)
    with pytest.raises(RequestError, match=r"^instruction: 21 characters, .*chars=20"):
        limits.check_text("instruction", "x" * 21, words)
    with pytest.raises(RequestError, match=r"^follow_up: 4 tokens, .*tokens=3"):
        limits.check_text("follow_up", "abcd", words)
    limits.check_text("instruction", "abcd")  # no tokenizer: characters only
