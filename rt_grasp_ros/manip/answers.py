"""ManipLLM's answers as specs of the one answer mechanism (:mod:`rt_grasp_ros.prompts.spec`).

- :class:`ContactSpec`: the pose sentence of ``tasks.yaml`` ("The contact point is (x, y), the
  gripper up direction is (a, b, c), and the gripper forward direction is (a, b, c)."), the
  pixel within the image, each direction three bins of 0.02 in [-50, 50], not all zero.
- :class:`CategorySpec`: the category answer ("The image features a {category} sitting on a
  table."), the category one of ``categories.yaml``'s names.

Both are rendered with the training tasks' own texts (:mod:`rt_grasp_ros.manip.tasks`), so that
what is decoded is what was trained.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rt_grasp_ros.errors import AnswerParseError, ConfigError
from rt_grasp_ros.manip.contact import MAX_BIN, ContactPose, parse_contact
from rt_grasp_ros.manip.tasks import TaskFormats, pose_answer, pose_values
from rt_grasp_ros.prompts.parser import mentioned_category
from rt_grasp_ros.prompts.spec import (
    DIGITS,
    AnswerSpec,
    Parsed,
    int_range_pattern,
    literal_chars,
)

_FIELD = re.compile(r"\{(\w+)\}")
_BIN = rf"-?(?:{MAX_BIN}|[1-4]?\d)"  # -50 .. 50 (MAX_BIN = 50)
_NONZERO_BIN = rf"-?(?:{MAX_BIN}|[1-4]\d|[1-9])"


_BINS = frozenset(range(-MAX_BIN, MAX_BIN + 1))


def _completions(digits: str) -> frozenset[int]:
    """The bins whose text starts with ``digits`` (``-`` alone: the negative ones and -0)."""
    return frozenset(b for b in _BINS if str(b).startswith(digits) or (digits == "-" and b == 0))


def direction_pattern() -> str:
    """Regex of ``(a, b, c)``: three bins in [-50, 50], not all zero."""
    b, nz = _BIN, _NONZERO_BIN
    return rf"\((?:{nz}, {b}, {b}|{b}, {nz}, {b}|{b}, {b}, {nz})\)"


def _template_pattern(template: str, fields: dict[str, str]) -> str:
    """``template`` as a regex: literal text escaped, each ``{name}`` replaced by its regex."""
    out, last = [], 0
    for m in _FIELD.finditer(template):
        out += [re.escape(template[last : m.start()]), fields[m.group(1)]]
        last = m.end()
    return "".join([*out, re.escape(template[last:])])


@dataclass(frozen=True)
class ContactSpec(AnswerSpec):
    """The pose answer: contact pixel (x = column, y = row) and up/forward directions in bins.

    Attributes:
        formats: the task formats (the pose answer template ``formats.pose.answer``).
        width, height: the image's size; the pixel must lie in ``[0, width] x [0, height]``.
    """

    formats: TaskFormats = field(repr=False)
    width: int
    height: int
    opener: str | None = None

    def __post_init__(self) -> None:
        order = _FIELD.findall(self.formats.pose.answer)
        brackets = _FIELD.sub("", self.formats.pose.answer).count("(")
        if order != ["x", "y", "up", "forward"] or brackets != 1:
            raise ConfigError(
                "tasks.yaml pose.answer must hold ({x}, {y}), {up}, {forward} once each in this "
                f"order and no other '(' (the parser reads them so), got {order}"
            )
        if self.width < 1 or self.height < 1:
            raise ConfigError(
                f"ContactSpec image size must be positive, got {self.width}x{self.height}"
            )

    def render(self, value: ContactPose, reasoning: str | None = None) -> str:
        """The training tasks' pose answer (:func:`~rt_grasp_ros.manip.tasks.pose_answer`)."""
        return pose_answer(pose_values(value), self.formats)

    def parse(self, text: str) -> Parsed:
        """The contact pose (:func:`~rt_grasp_ros.manip.contact.parse_contact`)."""
        return Parsed(parse_contact(text, self.width, self.height))

    def pattern(self) -> str:
        """The template with the pixel's ranges and the direction bins."""
        direction = direction_pattern()
        return _template_pattern(
            self.formats.pose.answer,
            {
                "x": int_range_pattern(0, self.width),
                "y": int_range_pattern(0, self.height),
                "up": direction,
                "forward": direction,
            },
        )

    def longest(self) -> int:
        """The template with the widest numbers."""
        widest = "(-50, -50, -50)"
        return len(
            self.formats.pose.answer.format(
                x=str(self.width), y=str(self.height), up=widest, forward=widest
            )
        )

    def chars(self) -> frozenset[str]:
        """The template's text, digits and ``-``."""
        return literal_chars(self.formats.pose.answer) | DIGITS | frozenset("-(), ")

    def admits(self, partial: str) -> bool:
        """Whether the forward direction written so far can end not parallel to up."""
        opens = [i for i, c in enumerate(partial) if c == "("]
        if len(opens) < 3:  # the pair, up, forward
            return True
        up = [int(v) for v in partial[opens[1] + 1 : partial.index(")", opens[1])].split(", ")]
        written = partial[opens[2] + 1 :]
        done = ")" in written
        parts = [v.strip() for v in written.split(")")[0].split(",")]
        options = [{int(v)} for v in parts[:-1]]
        options.append({int(parts[-1])} if done else _completions(parts[-1]))
        options += [_BINS] * (3 - len(options))
        if np.prod([len(o) for o in options]) > 2 * MAX_BIN + 2:
            return True  # more completions than a line through the origin can hold
        return any(any(f) and np.any(np.cross(f, up)) for f in itertools.product(*options))

    def to_json(self, value: ContactPose) -> dict[str, Any]:
        """Pixel and directions (camera optical frame)."""
        return {"x": value.x, "y": value.y, "up": list(value.up), "forward": list(value.forward)}


@dataclass(frozen=True)
class CategorySpec(AnswerSpec):
    """The category answer; its value is a category name of ``categories.yaml`` (e.g. cabinet).

    Several categories can share a name (drawer, door and sliding door are all "cabinet"):
    :meth:`categories` lists those a name stands for.
    """

    formats: TaskFormats = field(repr=False)
    opener: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The category names the answer can give, longest first (``storage box``, ``box``)."""
        names = {n["category"] for n in self.formats.names.values()}
        return tuple(sorted(names, key=lambda n: (-len(n), n)))

    def categories(self, name: str) -> tuple[str, ...]:
        """The categories (keys of ``categories.yaml``) called ``name``, in the file's order."""
        return tuple(k for k, n in self.formats.names.items() if n["category"] == name)

    def render(self, value: str, reasoning: str | None = None) -> str:
        """The category answer naming ``value``."""
        return self.formats.category.answer.format(category=value)

    def parse(self, text: str) -> Parsed:
        """The first category name the answer mentions.

        Raises:
            AnswerParseError: the answer names none of the categories.
        """
        name = mentioned_category(text, list(self.names))
        if name is None:
            raise AnswerParseError(
                "the answer names no known category (" + ", ".join(self.names) + ")", text
            )
        return Parsed(name)

    def pattern(self) -> str:
        """The answer template with one of the names."""
        names = "|".join(re.escape(n) for n in self.names)
        return _template_pattern(self.formats.category.answer, {"category": f"(?:{names})"})

    def longest(self) -> int:
        """The template with the longest name."""
        return len(self.render(max(self.names, key=len)))

    def chars(self) -> frozenset[str]:
        """The template's text and the names' characters."""
        return literal_chars(self.formats.category.answer) | frozenset("".join(self.names))
