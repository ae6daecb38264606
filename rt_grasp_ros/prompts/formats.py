"""The three answer formats of RT-Grasp and its ablation (paper Fig. 3 and Fig. 6)."""

from __future__ import annotations

from enum import Enum

from rt_grasp_ros.grasp.pose import GraspPose

DEFAULT_DECIMALS = 3
NO_REASONING_B_POINT = "Grasp point coordinates:"
NO_REASONING_B_ANGLE = "Rotation angle in radians:"


class AnswerFormat(str, Enum):
    """How the target answer is written.

    ``rt``: a reasoning phase, then ``[x, y], theta``. ``no-reasoning-a``: only
    ``[x, y], theta``. ``no-reasoning-b``: the pose with labels, no reasoning.
    """

    RT = "rt"
    NO_REASONING_A = "no-reasoning-a"
    NO_REASONING_B = "no-reasoning-b"

    @classmethod
    def parse(cls, value: str | AnswerFormat) -> AnswerFormat:
        """Look a format up by its name, with an error listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(f.value for f in cls)
            raise ValueError(
                f"unknown answer format {value!r}; expected one of: {names}"
            ) from None

    @property
    def has_reasoning(self) -> bool:
        """Whether answers of this format begin with a reasoning phase."""
        return self is AnswerFormat.RT


def render_pose(pose: GraspPose, decimals: int = DEFAULT_DECIMALS) -> str:
    """``[x, y], theta`` with a fixed number of decimals."""
    return f"[{pose.x:.{decimals}f}, {pose.y:.{decimals}f}], {pose.theta:.{decimals}f}"


def render_answer(
    fmt: AnswerFormat | str,
    pose: GraspPose,
    reasoning: str | None = None,
    decimals: int = DEFAULT_DECIMALS,
) -> str:
    """Write the target answer for ``pose`` in the given format.

    Raises:
        ValueError: the ``rt`` format without reasoning text, or reasoning given to a
            format that has none.
    """
    fmt = AnswerFormat.parse(fmt)
    if fmt is AnswerFormat.RT:
        if not reasoning or not reasoning.strip():
            raise ValueError("the 'rt' answer format needs a non-empty reasoning text")
        return f"{reasoning.strip()} {render_pose(pose, decimals)}"
    if reasoning:
        raise ValueError(f"the {fmt.value!r} answer format has no reasoning phase")
    if fmt is AnswerFormat.NO_REASONING_A:
        return render_pose(pose, decimals)
    return (
        f"{NO_REASONING_B_POINT} [{pose.x:.{decimals}f}, {pose.y:.{decimals}f}] "
        f"{NO_REASONING_B_ANGLE} {pose.theta:.{decimals}f}"
    )
