"""ManipLLM's contact pose: a pixel and two gripper directions, and its text form.

Pixels are ``(x, y)`` with x the column and y the row, as everywhere in rt_grasp. (ManipLLM's
released code writes ``(row, column)`` under the same name ``(x, y)``: its ``pixel_locs`` come
from ``np.where`` on the image, rows first.)

Directions are unit vectors in the camera's optical frame (x right, y down, z forward), the
frame of the image the model sees; ManipLLM also predicts them in its camera's frame (SAPIEN's:
x forward, y left, z up). ``up`` is the suction cup's axis, pointing into the surface (opposite
its normal); ``forward`` is perpendicular to it. The TCP orientation follows rt_grasp's one
convention, :func:`rt_grasp_ros.transforms.tcp_rotation` (z = up, the approach into the
surface; x = forward; y = up x forward): the columns ``(forward, up x forward, up)`` are
ManipLLM's ``(forward, left, up)``. The text form (ManipLLM's bins of 0.02) is rendered,
parsed and constrained by :class:`rt_grasp_ros.manip.answers.ContactSpec`; the one parser is
:func:`parse_contact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import AnswerParseError, RtGraspError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.transforms import Pose, tcp_rotation

BIN = 0.02  # ManipLLM: direction components as 100 bins of 0.02 in [-1, 1] -> [-50, 50]
MAX_BIN = 50


def _unit(v: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(v, float).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) < 1e-9:
        raise RtGraspError(f"ContactPose.{name} must be 3 finite numbers, not all zero: {v!r}")
    return a / np.linalg.norm(a)


@dataclass(frozen=True)
class ContactPose:
    """Where and how the suction gripper meets the object (camera frame directions).

    Attributes:
        x, y: contact pixel, column and row.
        up: the gripper up direction (the cup's axis, into the surface), unit.
        forward: the gripper forward direction, made perpendicular to ``up``, unit.
    """

    x: float
    y: float
    up: tuple[float, float, float]
    forward: tuple[float, float, float]

    def __post_init__(self) -> None:
        if not (np.isfinite(self.x) and np.isfinite(self.y)):
            raise RtGraspError(f"ContactPose pixel must be finite, got ({self.x}, {self.y})")
        up = _unit(self.up, "up")
        forward = _unit(self.forward, "forward")
        forward = forward - (forward @ up) * up
        if np.linalg.norm(forward) < 1e-6:
            raise RtGraspError("ContactPose.forward must not be parallel to up")
        forward /= np.linalg.norm(forward)
        object.__setattr__(self, "up", tuple(float(v) for v in up))
        object.__setattr__(self, "forward", tuple(float(v) for v in forward))

    @classmethod
    def from_base(
        cls, pixel: tuple[float, float], up: ArrayLike, forward: ArrayLike, camera: PinholeCamera
    ) -> ContactPose:
        """A contact pose from directions in the robot base frame."""
        to_camera = camera.base_from_camera.rotation.inv()
        return cls(pixel[0], pixel[1], tuple(to_camera.apply(up)), tuple(to_camera.apply(forward)))

    def rotation(self, camera: PinholeCamera) -> Rotation:
        """The TCP orientation in the base frame (:func:`~rt_grasp_ros.transforms.tcp_rotation`).

        z = up (the approach, into the surface), x = forward, y = up x forward (ManipLLM's
        "left").
        """
        return tcp_rotation(self.up_base(camera), self.forward_base(camera))

    def up_base(self, camera: PinholeCamera) -> np.ndarray:
        """``up`` in the base frame."""
        return camera.base_from_camera.rotation.apply(self.up)

    def forward_base(self, camera: PinholeCamera) -> np.ndarray:
        """``forward`` in the base frame."""
        return camera.base_from_camera.rotation.apply(self.forward)

    def point(self, frame: RGBDFrame) -> np.ndarray:
        """The contact point in the base frame (the pixel back-projected with its depth).

        Raises:
            RtGraspError: the pixel is outside the image or has no depth.
        """
        return frame.point_at(self.x, self.y)

    def tcp_pose(self, frame: RGBDFrame) -> Pose:
        """The TCP at the contact, base frame."""
        return Pose(self.point(frame), self.rotation(frame.camera))

    def tcp_pose_camera(self, frame: RGBDFrame) -> Pose:
        """The TCP at the contact in the camera's optical frame, as the model saw it."""
        return Pose(
            frame.point_at(self.x, self.y, in_base=False), tcp_rotation(self.up, self.forward)
        )

    def bins(self) -> tuple[tuple[int, int], tuple[int, ...], tuple[int, ...]]:
        """Pixel rounded to integers; directions as ManipLLM's bins (value / 0.02)."""
        return (
            (round(self.x), round(self.y)),
            tuple(_to_bin(v) for v in self.up),
            tuple(_to_bin(v) for v in self.forward),
        )


def _to_bin(v: float) -> int:
    return int(np.clip(round(v / BIN), -MAX_BIN, MAX_BIN))


_INT = r"[-+]?\d+"
_PAIR = re.compile(rf"\(\s*({_INT})\s*,\s*({_INT})\s*\)")
_TRIPLE = re.compile(rf"\(\s*({_INT})\s*,\s*({_INT})\s*,\s*({_INT})\s*\)")


def parse_contact(text: str, width: int | None = None, height: int | None = None) -> ContactPose:
    """Read a pose answer: the contact point ``(x, y)``, then up and forward ``(a, b, c)`` in bins.

    The first pair is the pixel (x the column, y the row); the first two triples after it are
    the up and forward directions, each component a bin of 0.02 in [-50, 50], turned back into
    unit vectors. Given the image size, the pixel must lie in ``[0, width] x [0, height]``.

    Raises:
        AnswerParseError: naming the part that is missing or out of range, or the direction
            that is all zeros or parallel to the other.
    """
    pair = _PAIR.search(text)
    if pair is None:
        raise AnswerParseError("no contact point (x, y) in the answer", text)
    x, y = int(pair.group(1)), int(pair.group(2))
    for name, value, size in (("x", x, width), ("y", y, height)):
        if value < 0 or (size is not None and value > size):
            limit = f"[0, {size}]" if size is not None else ">= 0"
            raise AnswerParseError(f"contact point {name}={value} is outside {limit}", text)
    triples = list(_TRIPLE.finditer(text, pair.end()))
    directions = []
    for k, name in enumerate(("up", "forward")):
        if len(triples) <= k:
            raise AnswerParseError(
                f"no gripper {name} direction (a, b, c) after the contact point", text
            )
        bins = [int(v) for v in triples[k].groups()]
        bad = [b for b in bins if abs(b) > MAX_BIN]
        if bad:
            raise AnswerParseError(
                f"gripper {name} direction bin {bad[0]} is outside [-{MAX_BIN}, {MAX_BIN}]", text
            )
        if not any(bins):
            raise AnswerParseError(f"gripper {name} direction is all zeros", text)
        directions.append(tuple(BIN * b for b in bins))
    try:
        return ContactPose(float(x), float(y), directions[0], directions[1])
    except RtGraspError as exc:
        raise AnswerParseError(str(exc), text) from exc
