"""A calibrated pinhole camera: intrinsics, distortion and its pose in the robot base frame.

Pixel coordinates are continuous: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``.
``k`` is in these continuous coordinates; ``sensor_msgs/CameraInfo`` and OpenCV put pixel
centres at integers, so their principal point is 0.5 px smaller (converted in
:meth:`PinholeCamera.to_camera_info` / :meth:`PinholeCamera.from_camera_info`). The camera frame
is the optical frame of REP-103 (x right, y down, z forward); depth is the z
coordinate in that frame (metres), as depth cameras report it. Distortion follows OpenCV
(``plumb_bob``: k1, k2, p1, p2, k3; ``rational_polynomial``: 8 coefficients), as in
``sensor_msgs/CameraInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.transforms import Pose

DISTORTION_MODELS = {"plumb_bob": (5,), "rational_polynomial": (8,)}


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics ``k`` (3x3), distortion ``d`` and the optical frame's pose in the base frame.

    Attributes:
        width, height: image size (pixels).
        k: 3x3 camera matrix for continuous pixel coordinates.
        d: distortion coefficients (empty or all zero: none).
        distortion_model: ``plumb_bob`` or ``rational_polynomial``.
        base_from_camera: pose of the optical frame in the robot base frame.
        frame_id: name of the optical frame (``*_optical_frame``, REP-103).
    """

    width: int
    height: int
    k: np.ndarray
    d: np.ndarray = field(default_factory=lambda: np.zeros(5))
    distortion_model: str = "plumb_bob"
    base_from_camera: Pose = field(default_factory=Pose)
    frame_id: str = "camera_color_optical_frame"

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ConfigError(f"camera size must be positive, got {self.width}x{self.height}")
        k = np.asarray(self.k, dtype=float)
        if k.shape != (3, 3) or k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ConfigError(f"camera k must be 3x3 with positive focal lengths, got {k!r}")
        d = np.asarray(self.d, dtype=float).reshape(-1)
        if self.distortion_model not in DISTORTION_MODELS:
            raise ConfigError(
                f"distortion_model {self.distortion_model!r} is not one of "
                f"{sorted(DISTORTION_MODELS)}"
            )
        if d.size and d.size not in (4, 5, 8, 12, 14):
            raise ConfigError(f"camera d has {d.size} coefficients; expected 0, 4, 5, 8, 12 or 14")
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "d", d)

    @classmethod
    def ideal(
        cls,
        width: int,
        height: int,
        focal_px: float,
        base_from_camera: Pose | None = None,
        frame_id: str = "camera_color_optical_frame",
    ) -> PinholeCamera:
        """A distortion-free camera with the principal point at the image centre."""
        k = np.array([[focal_px, 0, width / 2], [0, focal_px, height / 2], [0, 0, 1.0]])
        return cls(
            width, height, k, np.zeros(5), "plumb_bob", base_from_camera or Pose(), frame_id
        )

    @property
    def distorted(self) -> bool:
        """Whether any distortion coefficient is non-zero."""
        return bool(np.any(self.d != 0))

    # -- projection ----------------------------------------------------------------------

    def project(self, points_base: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Base-frame points ``(N, 3)`` -> pixel coordinates ``(N, 2)`` and depths ``(N,)``."""
        p = self.base_from_camera.inverse().apply(np.asarray(points_base, float).reshape(-1, 3))
        return self.project_camera(p), p[:, 2]

    def project_camera(self, points_cam: ArrayLike) -> np.ndarray:
        """Optical-frame points ``(N, 3)`` -> pixel coordinates ``(N, 2)``."""
        p = np.asarray(points_cam, float).reshape(-1, 3)
        if self.distorted:
            uv, _ = cv2.projectPoints(p, np.zeros(3), np.zeros(3), self.k, self.d)
            return uv.reshape(-1, 2)
        return (p[:, :2] / p[:, 2:3]) * self.k[[0, 1], [0, 1]] + self.k[:2, 2]

    def back_project(self, uv: ArrayLike, depth: ArrayLike) -> np.ndarray:
        """Pixel coordinates ``(N, 2)`` with depths ``(N,)`` -> base-frame points ``(N, 3)``."""
        return self.base_from_camera.apply(self.back_project_camera(uv, depth))

    def back_project_camera(self, uv: ArrayLike, depth: ArrayLike) -> np.ndarray:
        """Pixel coordinates ``(N, 2)`` with depths ``(N,)`` -> optical-frame points ``(N, 3)``."""
        uv = np.asarray(uv, float).reshape(-1, 2)
        z = np.asarray(depth, float).reshape(-1)
        if self.distorted:
            xy = cv2.undistortPoints(
                uv.reshape(-1, 1, 2),
                self.k,
                self.d,
                criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-10),
            ).reshape(-1, 2)
        else:
            xy = (uv - self.k[:2, 2]) / self.k[[0, 1], [0, 1]]
        return np.column_stack([xy * z[:, None], z])

    # -- crops and CameraInfo ------------------------------------------------------------

    def cropped(self, x0: int, y0: int, width: int, height: int) -> PinholeCamera:
        """The camera model of the sub-image ``[x0, x0 + width) x [y0, y0 + height)``."""
        if not (x0 >= 0 and y0 >= 0 and x0 + width <= self.width and y0 + height <= self.height):
            raise ConfigError(
                f"crop {width}x{height} at ({x0}, {y0}) does not fit in {self.width}x{self.height}"
            )
        k = self.k.copy()
        k[0, 2] -= x0
        k[1, 2] -= y0
        return replace(self, width=width, height=height, k=k)

    def with_pose(self, base_from_camera: Pose) -> PinholeCamera:
        """The same camera placed elsewhere (e.g. the extrinsic looked up in TF)."""
        return replace(self, base_from_camera=base_from_camera)

    def to_camera_info(self) -> dict[str, Any]:
        """The fields of ``sensor_msgs/CameraInfo`` (``k``, ``d``, ``r``, ``p`` flattened).

        The principal point moves to CameraInfo's convention (pixel centres at integers).
        """
        k = _shift_principal_point(self.k, -0.5)
        p = np.zeros((3, 4))
        p[:, :3] = k
        return {
            "width": self.width,
            "height": self.height,
            "distortion_model": self.distortion_model,
            "d": self.d.tolist(),
            "k": k.reshape(-1).tolist(),
            "r": np.eye(3).reshape(-1).tolist(),
            "p": p.reshape(-1).tolist(),
            "frame_id": self.frame_id,
        }

    @classmethod
    def from_camera_info(
        cls, info: dict[str, Any], base_from_camera: Pose | None = None
    ) -> PinholeCamera:
        """A camera from ``sensor_msgs/CameraInfo`` fields (as returned by to_camera_info).

        Raises:
            ConfigError: a field is missing or malformed; the message names it.
        """
        try:
            k = _shift_principal_point(np.asarray(info["k"], float).reshape(3, 3), 0.5)
            return cls(
                int(info["width"]),
                int(info["height"]),
                k,
                np.asarray(info.get("d", ()), float),
                info.get("distortion_model") or "plumb_bob",
                base_from_camera or Pose(),
                info.get("frame_id") or "camera_color_optical_frame",
            )
        except KeyError as exc:
            raise ConfigError(f"CameraInfo has no field {exc.args[0]!r}") from None
        except ValueError as exc:
            raise ConfigError(f"CameraInfo field is malformed: {exc}") from None


def _shift_principal_point(k: np.ndarray, delta: float) -> np.ndarray:
    """``k`` with its principal point moved by ``delta`` pixels in x and y."""
    k = k.copy()
    k[0, 2] += delta
    k[1, 2] += delta
    return k
