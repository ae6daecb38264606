"""Grasps between the image and the robot: the model's grasp in pixels, the TCP target in 3D."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.transforms import Pose


class GripperKind(str, Enum):
    """Which end effector the robot carries."""

    PARALLEL = "parallel"
    SUCTION = "suction"

    @classmethod
    def parse(cls, value: GripperKind | str) -> GripperKind:
        """``value`` as a kind, or a ConfigError naming the accepted values."""
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"unknown gripper {value!r}; expected 'parallel' or 'suction'"
            ) from None


@dataclass(frozen=True)
class ImageGrasp:
    """A planar grasp in full-image pixels.

    Attributes:
        u, v: grasp centre (continuous column, row).
        theta: opening-axis direction, counter-clockwise on screen from the image +x axis
            (rad), the same angle as :class:`~rt_grasp_ros.grasp.pose.GraspPose` ``theta``.
        opening_px: opening along that axis (pixels).
    """

    u: float
    v: float
    theta: float = 0.0
    opening_px: float = 40.0

    def __post_init__(self) -> None:
        for name in ("u", "v", "theta", "opening_px"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"ImageGrasp.{name} must be finite, got {getattr(self, name)}")


@dataclass(frozen=True)
class GraspTarget:
    """Where the TCP goes to grasp, in the robot base frame.

    The TCP frame is Franka's ``*_hand_tcp``: z is the approach axis (from the hand into the
    object), y the closing axis (the fingers move along +-y). For suction, z is the cup axis
    pointing into the surface and ``width`` is 0.

    Attributes:
        pose: TCP pose at the grasp (where the fingers close or the cup seals).
        width: opening width the object needs (m), or None if unknown.
        gripper: the tool this grasp is for.
    """

    pose: Pose
    width: float | None = None
    gripper: GripperKind = GripperKind.PARALLEL
