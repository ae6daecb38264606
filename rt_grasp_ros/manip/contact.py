"""ManipLLM's contact pose: a pixel and two gripper directions, and its text form.

Pixels are ``(x, y)`` with x the column and y the row, as everywhere in rt_grasp. (ManipLLM's
released code writes ``(row, column)`` under the same name ``(x, y)``: its ``pixel_locs`` come
from ``np.where`` on the image, rows first.)

Directions are unit vectors in the camera's optical frame (x right, y down, z forward), the
frame of the image the model sees; ManipLLM also predicts them in its camera's frame (SAPIEN's:
x forward, y left, z up). ``up`` is the suction cup's axis, pointing into the surface (opposite
its normal); ``forward`` is perpendicular to it; the TCP frame's columns are
``(forward, up x forward, up)``, ManipLLM's ``(forward, left, up)``.
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
from rt_grasp_ros.transforms import Pose

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
        """The TCP orientation in the base frame: columns forward, left (up x forward), up."""
        to_base = camera.base_from_camera.rotation
        up, forward = to_base.apply(self.up), to_base.apply(self.forward)
        return Rotation.from_matrix(np.column_stack([forward, np.cross(up, forward), up]))

    def up_base(self, camera: PinholeCamera) -> np.ndarray:
        """``up`` in the base frame."""
        return camera.base_from_camera.rotation.apply(self.up)

    def point(self, frame: RGBDFrame) -> np.ndarray:
        """The contact point in the base frame (the pixel back-projected with its depth).

        Raises:
            RtGraspError: the pixel is outside the image or has no depth.
        """
        depth = frame.depth_at(self.x, self.y)
        return frame.camera.back_project([[self.x, self.y]], [depth])[0]

    def tcp_pose(self, frame: RGBDFrame) -> Pose:
        """The TCP at the contact, base frame."""
        return Pose(self.point(frame), self.rotation(frame.camera))

    def bins(self) -> tuple[tuple[int, int], tuple[int, ...], tuple[int, ...]]:
        """Pixel rounded to integers; directions as ManipLLM's bins (value / 0.02)."""
        return (
            (round(self.x), round(self.y)),
            tuple(_to_bin(v) for v in self.up),
            tuple(_to_bin(v) for v in self.forward),
        )

    def to_text(self, template: str) -> str:
        """The pose in ``template`` (placeholders ``{x} {y} {up} {forward}``), in bins."""
        (x, y), up, forward = self.bins()
        return template.format(x=x, y=y, up=_tuple_text(up), forward=_tuple_text(forward))


def _to_bin(v: float) -> int:
    return int(np.clip(round(v / BIN), -MAX_BIN, MAX_BIN))


def _tuple_text(values: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"


_INT = r"[-+]?\d+"
_PAIR = re.compile(rf"\(\s*({_INT})\s*,\s*({_INT})\s*\)")
_TRIPLE = re.compile(rf"\(\s*({_INT})\s*,\s*({_INT})\s*,\s*({_INT})\s*\)")


def parse_contact(text: str) -> ContactPose:
    """Read a pose answer: the first ``(x, y)`` and the first two ``(a, b, c)`` in bins.

    Raises:
        AnswerParseError: a part is missing or a direction is all zeros.
    """
    pair = _PAIR.search(text)
    triples = list(_TRIPLE.finditer(text))
    if pair is None or len(triples) < 2:
        raise AnswerParseError(
            "expected a contact point (x, y) and two directions (a, b, c) in the answer", text
        )
    up, forward = ([BIN * int(v) for v in t.groups()] for t in triples[:2])
    try:
        return ContactPose(float(pair.group(1)), float(pair.group(2)), tuple(up), tuple(forward))
    except RtGraspError as exc:
        raise AnswerParseError(str(exc), text) from exc
