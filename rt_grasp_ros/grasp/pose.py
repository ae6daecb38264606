"""GraspPose: the RT-Grasp prediction ``[x, y], theta`` in normalised image coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rt_grasp_ros.grasp.angles import wrap_angle


@dataclass(frozen=True)
class GraspPose:
    """A planar grasp as RT-Grasp predicts it.

    Attributes:
        x: grasp centre column divided by the image width, in [0, 1].
        y: grasp centre row divided by the image height, in [0, 1].
        theta: direction of the gripper's opening axis in radians, counter-clockwise on
            screen from the image +x axis, in [-pi/2, pi/2).
    """

    x: float
    y: float
    theta: float

    def __post_init__(self) -> None:
        for name in ("x", "y", "theta"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"GraspPose.{name} must be finite, got {value!r}")
        for name in ("x", "y"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"GraspPose.{name}={value!r} is outside [0, 1]")
        if not -math.pi / 2 <= self.theta < math.pi / 2:
            raise ValueError(
                f"GraspPose.theta={self.theta!r} is outside [-pi/2, pi/2); "
                "use GraspPose.wrapped() to wrap it modulo pi"
            )

    @classmethod
    def wrapped(cls, x: float, y: float, theta: float) -> GraspPose:
        """Build a pose, wrapping ``theta`` into [-pi/2, pi/2) modulo pi."""
        return cls(float(x), float(y), float(wrap_angle(theta)))

    @classmethod
    def from_pixels(cls, px: float, py: float, theta: float, width: int, height: int) -> GraspPose:
        """Build a pose from pixel coordinates in an image of ``width`` x ``height``."""
        if width <= 0 or height <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        return cls.wrapped(px / width, py / height, theta)

    def to_pixels(self, width: int, height: int) -> tuple[float, float]:
        """Grasp centre ``(column, row)`` in pixels for an image of ``width`` x ``height``."""
        return self.x * width, self.y * height

    def rotated(self, delta: float) -> GraspPose:
        """The same grasp centre with the gripper turned by ``delta`` radians (CCW on screen)."""
        return GraspPose.wrapped(self.x, self.y, self.theta + delta)
