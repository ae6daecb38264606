"""Rigid transforms: a pose type over ``scipy.spatial.transform.Rotation``.

Quaternions are ``(x, y, z, w)`` (scalar last) everywhere in rt_grasp, as in ROS
``geometry_msgs/Quaternion`` and in scipy. MuJoCo's ``(w, x, y, z)`` is converted in one place,
:func:`quat_from_wxyz` / :func:`quat_to_wxyz`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class Pose:
    """A rigid transform: where a frame is (``position``, m) and how it is turned (``rotation``).

    ``Pose`` of frame B in frame A maps B coordinates to A coordinates: ``p_A = pose.apply(p_B)``.
    """

    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rotation: Rotation = field(default_factory=Rotation.identity)

    def __post_init__(self) -> None:
        pos = np.asarray(self.position, dtype=float).reshape(-1)
        if pos.shape != (3,) or not np.all(np.isfinite(pos)):
            raise ValueError(f"Pose.position must be 3 finite numbers, got {self.position!r}")
        object.__setattr__(self, "position", pos)
        if not isinstance(self.rotation, Rotation) or not self.rotation.single:
            raise ValueError("Pose.rotation must be one scipy Rotation")

    @classmethod
    def from_matrix(cls, matrix: ArrayLike) -> Pose:
        """A pose from a 4x4 homogeneous matrix."""
        m = np.asarray(matrix, dtype=float)
        if m.shape != (4, 4):
            raise ValueError(f"expected a 4x4 matrix, got shape {m.shape}")
        return cls(m[:3, 3], Rotation.from_matrix(m[:3, :3]))

    @classmethod
    def from_position_quat(cls, position: ArrayLike, quat_xyzw: ArrayLike) -> Pose:
        """A pose from a position and an ``(x, y, z, w)`` quaternion (normalised here)."""
        q = np.asarray(quat_xyzw, dtype=float)
        if q.shape != (4,) or not np.isfinite(q).all() or np.linalg.norm(q) < 1e-9:
            raise ValueError(f"quaternion must be 4 finite numbers, not all zero; got {q!r}")
        return cls(np.asarray(position, dtype=float), Rotation.from_quat(q))

    @classmethod
    def from_rotation_matrix(cls, position: ArrayLike, rotation: ArrayLike) -> Pose:
        """A pose from a position and a 3x3 rotation matrix."""
        return cls(np.asarray(position, dtype=float), Rotation.from_matrix(rotation))

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous matrix."""
        m = np.eye(4)
        m[:3, :3] = self.rotation.as_matrix()
        m[:3, 3] = self.position
        return m

    @property
    def rotation_matrix(self) -> np.ndarray:
        """3x3 rotation matrix; its columns are the frame's axes."""
        return self.rotation.as_matrix()

    @property
    def quat_xyzw(self) -> np.ndarray:
        """Orientation as an ``(x, y, z, w)`` quaternion with ``w >= 0``."""
        q = self.rotation.as_quat()
        return -q if q[3] < 0 else q

    def __matmul__(self, other: Pose) -> Pose:
        """Compose: ``(a @ b).apply(p) == a.apply(b.apply(p))``."""
        return Pose(self.apply(other.position), self.rotation * other.rotation)

    def inverse(self) -> Pose:
        """The inverse transform."""
        inv = self.rotation.inv()
        return Pose(-inv.apply(self.position), inv)

    def apply(self, points: ArrayLike) -> np.ndarray:
        """Transform points ``(3,)`` or ``(N, 3)``."""
        return self.rotation.apply(np.asarray(points, dtype=float)) + self.position

    def translated(self, offset: ArrayLike) -> Pose:
        """The same orientation, moved by ``offset`` in the parent frame."""
        return Pose(self.position + np.asarray(offset, dtype=float), self.rotation)

    def distance_to(self, other: Pose) -> tuple[float, float]:
        """Translation (m) and rotation angle (rad) between two poses."""
        angle = (other.rotation * self.rotation.inv()).magnitude()
        return float(np.linalg.norm(other.position - self.position)), float(angle)


def rotation_error(target: ArrayLike, current: ArrayLike) -> np.ndarray:
    """Axis-angle vector (parent frame) that turns rotation matrix ``current`` into ``target``.

    Matrices rather than Rotation objects: the impedance controller calls this every physics
    step. At exactly pi the axis sign is ambiguous (and numerical noise would pick it): the
    axis is taken with its first non-zero component positive, so the same half-turn always
    goes the same way.
    """
    r = np.asarray(target, float) @ np.asarray(current, float).T
    cos = np.clip((np.trace(r) - 1) / 2, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    s = np.linalg.norm(axis)
    if s < 1e-9:
        if angle < 1e-6:
            return np.zeros(3)
        w, v = np.linalg.eigh((r + r.T) / 2)
        axis = v[:, np.argmax(w)]
        first = axis[np.flatnonzero(np.abs(axis) > 1e-6)[0]]
        return np.sign(first) * axis * angle
    return axis / s * angle


def tcp_rotation(approach: ArrayLike, forward: ArrayLike) -> Rotation:
    """A TCP orientation from its approach and forward directions (rt_grasp's one convention).

    The TCP frame is Franka's ``*_hand_tcp`` (``Grasp.msg``, ``ContactPose.msg``): z is the
    approach, pointing from the hand into the object; x is ``forward`` made perpendicular to z
    (``forward - (forward . z) z``, normalised); y = z x x is the fingers' closing axis. A
    top-down grasp has z = base -z; ManipLLM's contact has z = its "up" direction (which points
    into the surface) and y = its "left".

    Raises:
        ValueError: a direction is zero or not finite, or ``forward`` is parallel to
            ``approach``.
    """
    z = _unit(approach, "approach")
    f = _unit(forward, "forward")
    x = f - (f @ z) * z
    if np.linalg.norm(x) < 1e-6:
        raise ValueError(f"forward {f.tolist()} is parallel to the approach {z.tolist()}")
    x /= np.linalg.norm(x)
    return Rotation.from_matrix(np.column_stack([x, np.cross(z, x), z]))


def _unit(v: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(v, float).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) < 1e-9:
        raise ValueError(f"the {name} direction must be 3 finite numbers, not all zero: {v!r}")
    return a / np.linalg.norm(a)


def top_down_rotation(yaw: float) -> Rotation:
    """TCP orientation for a top-down grasp: approach (z) down, closing axis (y) at ``yaw``.

    ``yaw`` is the direction of the closing axis in the table (base x-y) plane, counter-clockwise
    from base +x, as seen from above.
    """
    y = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    z = np.array([0.0, 0.0, -1.0])
    return tcp_rotation(z, np.cross(y, z))


def nearest_symmetric(rotation: Rotation, reference: Rotation) -> Rotation:
    """The smaller turn from ``reference``: ``rotation``, or it turned by pi about its z axis.

    For a parallel grasp both are the same grasp (z is the approach axis); the smaller turn
    keeps the wrist away from its limits.
    """
    flipped = rotation * Rotation.from_euler("z", math.pi)
    turn = (rotation * reference.inv()).magnitude()
    return flipped if (flipped * reference.inv()).magnitude() < turn else rotation


def closing_yaw(rotation: Rotation) -> float:
    """Direction of a TCP's closing (y) axis in the base x-y plane (rad)."""
    y = rotation.as_matrix()[:, 1]
    return math.atan2(y[1], y[0])


def quat_from_wxyz(wxyz: ArrayLike) -> np.ndarray:
    """MuJoCo ``(w, x, y, z)`` -> ROS/scipy ``(x, y, z, w)``."""
    w, x, y, z = np.asarray(wxyz, dtype=float)
    return np.array([x, y, z, w])


def quat_to_wxyz(xyzw: ArrayLike) -> np.ndarray:
    """ROS/scipy ``(x, y, z, w)`` -> MuJoCo ``(w, x, y, z)``."""
    x, y, z, w = np.asarray(xyzw, dtype=float)
    return np.array([w, x, y, z])
