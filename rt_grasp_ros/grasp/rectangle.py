"""GraspRectangle: the Cornell / Jacquard oriented-rectangle grasp, and batch conversions.

Corners are pixel coordinates ``(x, y)``. The first edge ``p0 -> p1`` runs along the gripper's
opening axis: its direction is the grasp angle and its length the opening ("width");
``|p1 p2|`` is the jaw size ("height").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rt_grasp_ros.grasp.angles import direction, wrap_angle
from rt_grasp_ros.grasp.pose import GraspPose


def corners_from_params(
    cx: ArrayLike, cy: ArrayLike, theta: ArrayLike, width: ArrayLike, height: ArrayLike
) -> np.ndarray:
    """Rectangle corners ``(..., 4, 2)`` from centre, angle, opening and jaw size (broadcast)."""
    cx, cy, theta, width, height = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (cx, cy, theta, width, height))
    )
    unit = direction(theta)  # (..., 2)
    along = unit * (width[..., None] / 2)
    # The jaw axis: the opening axis turned 90 degrees in pixel coordinates.
    across = np.stack([-unit[..., 1], unit[..., 0]], axis=-1) * (height[..., None] / 2)
    centre = np.stack([cx, cy], axis=-1)
    p0 = centre - along - across
    p1 = centre + along - across
    p2 = centre + along + across
    p3 = centre - along + across
    return np.stack([p0, p1, p2, p3], axis=-2)


def params_from_corners(corners: ArrayLike) -> tuple[np.ndarray, ...]:
    """Centre x, centre y, angle, opening and jaw size of rectangles given as ``(..., 4, 2)``."""
    c = np.asarray(corners, dtype=np.float64)
    centre = c.mean(axis=-2)
    edge = c[..., 1, :] - c[..., 0, :]
    theta = wrap_angle(np.arctan2(-edge[..., 1], edge[..., 0]))
    width = np.linalg.norm(edge, axis=-1)
    height = np.linalg.norm(c[..., 2, :] - c[..., 1, :], axis=-1)
    return centre[..., 0], centre[..., 1], np.asarray(theta), width, height


@dataclass(frozen=True, eq=False)
class GraspRectangle:
    """An oriented grasp rectangle in pixel coordinates.

    Attributes:
        corners: ``(4, 2)`` float array of ``(x, y)`` pixel corners ``p0..p3``.
    """

    corners: np.ndarray

    def __post_init__(self) -> None:
        corners = np.asarray(self.corners, dtype=np.float64)
        if corners.shape != (4, 2):
            raise ValueError(f"GraspRectangle.corners must have shape (4, 2), got {corners.shape}")
        if not np.all(np.isfinite(corners)):
            raise ValueError(f"GraspRectangle.corners must be finite, got {corners.tolist()}")
        corners.setflags(write=False)
        object.__setattr__(self, "corners", corners)

    @classmethod
    def from_center(
        cls, cx: float, cy: float, theta: float, width: float, height: float
    ) -> GraspRectangle:
        """Build from centre (pixels), angle (radians), opening and jaw size (pixels)."""
        return cls(corners_from_params(cx, cy, theta, width, height))

    @classmethod
    def from_pose(
        cls, pose: GraspPose, image_width: int, image_height: int, width: float, height: float
    ) -> GraspRectangle:
        """Draw a :class:`GraspPose` as a rectangle of the given opening and jaw size."""
        px, py = pose.to_pixels(image_width, image_height)
        return cls.from_center(px, py, pose.theta, width, height)

    @classmethod
    def from_jacquard(
        cls, x: float, y: float, theta_deg: float, w: float, h: float
    ) -> GraspRectangle:
        """Build from a Jacquard row ``x;y;theta;w;h``.

        Jacquard measures theta in degrees clockwise on screen (the y-down image frame), so its
        sign is the opposite of ours; ``w`` is the opening and ``h`` the jaw size.
        """
        return cls.from_center(x, y, -math.radians(theta_deg), w, h)

    @property
    def center(self) -> tuple[float, float]:
        """Mean of the corners ``(x, y)`` in pixels."""
        cx, cy = self.corners.mean(axis=0)
        return float(cx), float(cy)

    @property
    def theta(self) -> float:
        """Direction of the edge ``p0 -> p1`` in radians, in [-pi/2, pi/2)."""
        return float(params_from_corners(self.corners)[2])

    @property
    def width(self) -> float:
        """Gripper opening: ``|p0 p1|`` in pixels."""
        return float(np.linalg.norm(self.corners[1] - self.corners[0]))

    @property
    def height(self) -> float:
        """Jaw size: ``|p1 p2|`` in pixels."""
        return float(np.linalg.norm(self.corners[2] - self.corners[1]))

    def to_pose(self, image_width: int, image_height: int) -> GraspPose:
        """The rectangle's centre and angle as a normalised :class:`GraspPose`."""
        cx, cy = self.center
        return GraspPose.from_pixels(cx, cy, self.theta, image_width, image_height)

    def to_jacquard(self) -> tuple[float, float, float, float, float]:
        """A Jacquard row ``(x, y, theta_deg, w, h)`` (theta clockwise on screen)."""
        cx, cy = self.center
        theta_deg = -math.degrees(self.theta)
        return cx, cy, theta_deg, self.width, self.height

    def transformed(self, affine: np.ndarray) -> GraspRectangle:
        """Apply a ``2x3`` pixel affine transform (as used by ``cv2.warpAffine``)."""
        affine = np.asarray(affine, dtype=np.float64)
        return GraspRectangle(self.corners @ affine[:, :2].T + affine[:, 2])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GraspRectangle):
            return NotImplemented
        return bool(np.array_equal(self.corners, other.corners))

    def __hash__(self) -> int:
        return hash(self.corners.tobytes())

    def __repr__(self) -> str:
        cx, cy = self.center
        return (
            f"GraspRectangle(center=({cx:.1f}, {cy:.1f}), theta={self.theta:.3f}, "
            f"width={self.width:.1f}, height={self.height:.1f})"
        )


def stack_corners(rectangles: list[GraspRectangle]) -> np.ndarray:
    """Corners of several rectangles as one ``(N, 4, 2)`` array."""
    if not rectangles:
        return np.zeros((0, 4, 2))
    return np.stack([r.corners for r in rectangles])
