"""RGB-D frames as depth cameras deliver them: colour, registered metric depth, a stamp."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.camera import PinholeCamera


@dataclass(frozen=True)
class RGBDFrame:
    """One RGB-D frame, depth registered to colour.

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        depth: ``(H, W)`` float32 metres along the optical axis; NaN where the sensor has no
            reading (REP-118).
        camera: the calibrated camera model of this image.
        stamp: acquisition time (s; ROS time on a robot, simulated time in the sim).
        segmentation: ``(H, W)`` int32 labels, where a simulator provides them (-1: none).
    """

    rgb: np.ndarray
    depth: np.ndarray
    camera: PinholeCamera
    stamp: float = 0.0
    segmentation: np.ndarray | None = None

    def __post_init__(self) -> None:
        h, w = self.camera.height, self.camera.width
        if self.rgb.shape != (h, w, 3) or self.rgb.dtype != np.uint8:
            raise RtGraspError(
                f"rgb must be ({h}, {w}, 3) uint8 for this camera, got {self.rgb.shape} "
                f"{self.rgb.dtype}"
            )
        if self.depth.shape != (h, w) or self.depth.dtype != np.float32:
            raise RtGraspError(
                f"depth must be ({h}, {w}) float32 metres, got {self.depth.shape} "
                f"{self.depth.dtype}"
            )

    @property
    def frame_id(self) -> str:
        """The optical frame the image is in."""
        return self.camera.frame_id

    def depth_at(self, u: float, v: float) -> float:
        """Depth of the pixel containing continuous coordinates ``(u, v)``.

        The image spans ``[0, w] x [0, h]``: a point on its right or bottom edge (a model's
        normalised 1.0) belongs to the last pixel.

        Raises:
            RtGraspError: the pixel is outside the image or the sensor has no reading there.
        """
        h, w = self.depth.shape
        if not (0 <= u <= w and 0 <= v <= h):
            raise RtGraspError(f"pixel ({u:.1f}, {v:.1f}) is outside the {w}x{h} image")
        d = float(self.depth[min(int(v), h - 1), min(int(u), w - 1)])
        if not np.isfinite(d) or d <= 0:
            raise RtGraspError(f"no depth at pixel ({u:.1f}, {v:.1f})")
        return d

    def point_at(self, u: float, v: float, in_base: bool = True) -> np.ndarray:
        """The surface point seen at pixel ``(u, v)``: its depth back-projected.

        The one pixel-to-3D step of grasp planning and of contact poses.

        Args:
            u: continuous pixel column.
            v: continuous pixel row.
            in_base: the point in the robot base frame; False: in the camera's optical frame.

        Raises:
            RtGraspError: the pixel is outside the image or the sensor has no reading there.
        """
        uv, depth = [[u, v]], [self.depth_at(u, v)]
        if in_base:
            return self.camera.back_project(uv, depth)[0]
        return self.camera.back_project_camera(uv, depth)[0]


def depth_from_millimetres(depth_mm: np.ndarray) -> np.ndarray:
    """16UC1 millimetre depth (0 = no reading) -> float32 metres with NaN (REP-118)."""
    out = depth_mm.astype(np.float32) / 1000.0
    out[depth_mm == 0] = np.nan
    return out
