"""Answer specifications: how one kind of answer is written, read and constrained.

An :class:`AnswerSpec` is the one mechanism behind every answer a model gives: ``render``
writes it for training, ``parse`` reads it back (one parser, whose errors name the part that is
missing or out of range), and ``pattern`` is the regex of its constrained part, which
:class:`rt_grasp_ros.vlm.constrained.AnswerGrammar` enforces while decoding. RT-Grasp's pose
(:class:`GraspPoseSpec`, ``reasoning [x, y], theta``) is one spec; ManipLLM's contact sentence
and category answer (:mod:`rt_grasp_ros.manip.answers`) are others.

A constrained part either follows free text, from the first occurrence of ``opener`` (the
``[`` of a grasp pose: the reasoning before it is free), or is the whole answer (``opener``
None). ``longest`` bounds its length in characters, so a decoder can keep enough tokens to
finish it, and ``chars`` lists the characters it is made of, so only tokens made of them are
tried.

Why a hand-written grammar rather than a structured-generation library: see
``docs/constrained-decoding.md`` (lm-format-enforcer was measured against it).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts.formats import (
    DEFAULT_DECIMALS,
    NO_REASONING_B_ANGLE,
    AnswerFormat,
    render_answer,
)
from rt_grasp_ros.prompts.parser import parse_answer

DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class Parsed:
    """An answer read by its spec.

    Attributes:
        value: what the answer says (a GraspPose, a ContactPose, a category name, ...).
        reasoning: the free text before the constrained part (empty when there is none).
    """

    value: Any
    reasoning: str = ""


class AnswerSpec(ABC):
    """How one kind of answer is rendered, parsed and constrained.

    Attributes:
        opener: where the constrained part starts (its first occurrence in the answer); None:
            the whole answer is constrained.
    """

    opener: str | None = None

    @abstractmethod
    def render(self, value: Any, reasoning: str | None = None) -> str:
        """The answer for ``value`` as a model is trained to write it."""

    @abstractmethod
    def parse(self, text: str) -> Parsed:
        """Read an answer.

        Raises:
            AnswerParseError: naming the missing or out-of-range part.
        """

    @abstractmethod
    def pattern(self) -> str:
        """The regex (``regex`` module syntax) of a complete constrained part."""

    @abstractmethod
    def longest(self) -> int:
        """Characters in the longest complete constrained part."""

    @abstractmethod
    def chars(self) -> frozenset[str]:
        """The characters the constrained part is made of."""

    def admits(self, partial: str) -> bool:
        """Whether a prefix of the constrained part can still be completed into a valid answer.

        For what the pattern cannot say (two directions that must not be parallel); called on
        prefixes the pattern accepts. By default every such prefix can.
        """
        return True

    def to_json(self, value: Any) -> Any:
        """``value`` in JSON-ready form."""
        return value


def int_range_pattern(low: int, high: int) -> str:
    """Regex of the decimal integers ``low..high`` (``0 <= low <= high``), no leading zeros."""
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got {low}, {high}")
    parts = []
    for width in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (width - 1) if width > 1 else 0)
        hi = min(high, 10**width - 1)
        if lo <= hi:
            parts += _same_width(str(lo), str(hi))
    return "(?:" + "|".join(parts) + ")"


def _same_width(lo: str, hi: str) -> list[str]:
    """Regexes covering the integers ``lo..hi`` written with the same number of digits."""
    if lo == hi:
        return [lo]
    if len(lo) == 1:
        return [f"[{lo}-{hi}]"]
    if lo[0] == hi[0]:
        return [lo[0] + p for p in _same_width(lo[1:], hi[1:])]
    rest = len(lo) - 1
    out = [lo[0] + p for p in _same_width(lo[1:], "9" * rest)]
    if int(hi[0]) - int(lo[0]) > 1:
        out.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + r"\d" * rest)
    out += [hi[0] + p for p in _same_width("0" * rest, hi[1:])]
    return out


def literal_chars(template: str) -> frozenset[str]:
    """The characters of a template's literal text (placeholders ``{name}`` left out)."""
    return frozenset(re.sub(r"\{[^}]*\}", "", template))


# -- RT-Grasp's pose ---------------------------------------------------------------------------


def _separator(fmt: AnswerFormat) -> str:
    return f" {NO_REASONING_B_ANGLE} " if fmt is AnswerFormat.NO_REASONING_B else ", "


def pose_pattern(fmt: AnswerFormat, decimals: int) -> str:
    """Regex of a complete pose in answer format ``fmt``."""
    coord = rf"(0\.\d{{{decimals}}}|1\.0{{{decimals}}})"
    separator = re.escape(_separator(fmt))
    return rf"\[{coord}, {coord}\]{separator}-?[01]\.\d{{{decimals}}}"


def longest_pose(fmt: AnswerFormat, decimals: int) -> int:
    """Characters in the longest complete pose (the token budget it may need)."""
    number = 2 + decimals
    return len(f"[{'0' * number}, {'0' * number}]{_separator(fmt)}-{'0' * number}")


@dataclass(frozen=True)
class GraspPoseSpec(AnswerSpec):
    """RT-Grasp's answer: optional reasoning, then ``[x, y], theta`` (paper Fig. 3 and 6).

    Parsing reads any of the three formats (the last well-formed pose wins), so a model
    trained on one is read whatever it writes.
    """

    answer_format: AnswerFormat = AnswerFormat.RT
    decimals: int = DEFAULT_DECIMALS
    opener: str | None = "["

    def __post_init__(self) -> None:
        object.__setattr__(self, "answer_format", AnswerFormat.parse(self.answer_format))

    def render(self, value: GraspPose, reasoning: str | None = None) -> str:
        """The answer for ``value`` in the spec's format."""
        return render_answer(self.answer_format, value, reasoning, self.decimals)

    def parse(self, text: str) -> Parsed:
        """The grasp pose and the reasoning before it (:func:`parse_answer`)."""
        parsed = parse_answer(text)
        return Parsed(parsed.pose, parsed.reasoning)

    def pattern(self) -> str:
        """:func:`pose_pattern` of the spec's format."""
        return pose_pattern(self.answer_format, self.decimals)

    def longest(self) -> int:
        """:func:`longest_pose` of the spec's format."""
        return longest_pose(self.answer_format, self.decimals)

    def chars(self) -> frozenset[str]:
        """Digits, the pose's punctuation and the format's separator."""
        return DIGITS | frozenset(".,-[] ") | frozenset(_separator(self.answer_format))

    def to_json(self, value: GraspPose) -> dict[str, float]:
        """``{"x", "y", "theta"}``."""
        return {"x": value.x, "y": value.y, "theta": value.theta}
