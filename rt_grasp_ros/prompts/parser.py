"""One parser for every model answer: the last well-formed pose in the text wins."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.grasp.angles import wrap_angle
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts.formats import NO_REASONING_B_ANGLE, NO_REASONING_B_POINT

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# "[x, y], theta" (rt, no-reasoning-a) or "[x, y] Rotation angle in radians: theta" (b).
POSE_PATTERN = re.compile(
    rf"\[\s*(?P<x>{_NUM})\s*,\s*(?P<y>{_NUM})\s*\]"
    rf"\s*(?:,|{re.escape(NO_REASONING_B_ANGLE)})\s*(?P<theta>{_NUM})"
)
_LABEL = re.compile(re.escape(NO_REASONING_B_POINT) + r"\s*$")


@dataclass(frozen=True)
class ParsedAnswer:
    """A model answer split into its reasoning phase and its grasp pose.

    Attributes:
        pose: the grasp pose (theta wrapped into [-pi/2, pi/2)).
        reasoning: the text before the pose (labels stripped), possibly empty.
        raw_theta: the angle as written, before wrapping.
    """

    pose: GraspPose
    reasoning: str
    raw_theta: float


def parse_answer(text: str) -> ParsedAnswer:
    """Parse a model answer in any of the three formats.

    The last well-formed ``[x, y], theta`` in the text is the answer's pose. Coordinates must
    lie in [0, 1]; an angle outside [-pi/2, pi/2) is wrapped modulo pi.

    Raises:
        AnswerParseError: no pose in the text, or coordinates out of range.
    """
    if not isinstance(text, str):
        raise AnswerParseError(
            f"expected the answer as text, got {type(text).__name__}", repr(text)
        )
    matches = list(POSE_PATTERN.finditer(text))
    if not matches:
        reason = "no grasp pose of the form '[x, y], theta' in the answer"
        if not text.strip():
            reason = "the answer is empty"
        raise AnswerParseError(reason, text)
    last = matches[-1]
    x, y, theta = (float(last.group(k)) for k in ("x", "y", "theta"))
    for name, value in (("x", x), ("y", y)):
        if not 0.0 <= value <= 1.0:
            raise AnswerParseError(
                f"grasp {name}={value} is outside [0, 1] "
                "(coordinates are normalised by the image size)",
                text,
            )
    if not math.isfinite(theta):
        raise AnswerParseError(f"grasp angle {theta} is not finite", text)
    reasoning = _LABEL.sub("", text[: last.start()]).strip()
    return ParsedAnswer(
        pose=GraspPose(x, y, float(wrap_angle(theta))), reasoning=reasoning, raw_theta=theta
    )


def mentioned_category(text: str, categories: list[str] | tuple[str, ...]) -> str | None:
    """The category of ``categories`` whose name the text mentions first (None: none).

    Names match as whole words, ``_`` and spaces alike (``toy_block`` matches "toy block");
    the category is returned as given.
    """
    first: tuple[int, str] | None = None
    for category in categories:
        words = re.split(r"[\s_]+", category.strip().lower())
        pattern = r"\b" + r"[\s_]+".join(map(re.escape, words)) + r"s?\b"
        match = re.search(pattern, text.lower())
        if match and (first is None or match.start() < first[0]):
            first = (match.start(), category)
    return first[1] if first else None
