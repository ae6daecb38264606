"""The workspace crop: the square the model is shown (RT-Grasp's robot used 400x400)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame

DEFAULT_CROP = 400


@dataclass(frozen=True)
class WorkspaceCrop:
    """A crop of a frame: the cropped frame (with its own camera model) and where it was taken.

    Attributes:
        frame: the cropped RGB-D frame; its camera's principal point is shifted so that it
            projects base-frame points to crop pixels.
        origin: top-left pixel ``(x0, y0)`` of the crop in the full image.
    """

    frame: RGBDFrame
    origin: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the crop (pixels)."""
        return self.frame.camera.width, self.frame.camera.height

    def to_full(self, u: float, v: float) -> tuple[float, float]:
        """Crop pixel -> full-image pixel."""
        return u + self.origin[0], v + self.origin[1]


def crop_origin(
    cam: PinholeCamera,
    size: int = DEFAULT_CROP,
    center_px: ArrayLike | None = None,
    center_point: ArrayLike | None = None,
) -> tuple[int, int]:
    """Top-left pixel of a ``size`` square centred on a pixel or a projected base-frame point.

    With neither centre given, the crop is centred in the image. The square is shifted to stay
    inside the image.
    """
    if not 1 <= size <= min(cam.width, cam.height):
        raise ConfigError(f"crop size {size} must fit in the {cam.width}x{cam.height} image")
    if center_px is not None and center_point is not None:
        raise ConfigError("give the crop centre as a pixel or as a base-frame point, not both")
    if center_point is not None:
        ((u, v),), depth = cam.project(np.asarray(center_point, float)[None])
        if depth[0] <= 0:
            raise ConfigError(f"crop centre {list(center_point)} is behind the camera")
    elif center_px is not None:
        u, v = np.asarray(center_px, float)
    else:
        u, v = cam.width / 2, cam.height / 2
    half = size // 2
    x0 = int(np.clip(round(u) - half, 0, cam.width - size))
    y0 = int(np.clip(round(v) - half, 0, cam.height - size))
    return x0, y0


def crop_workspace(
    frame: RGBDFrame,
    size: int = DEFAULT_CROP,
    center_px: ArrayLike | None = None,
    center_point: ArrayLike | None = None,
) -> WorkspaceCrop:
    """Crop colour, depth (and labels) to the workspace square, with the crop's camera model."""
    x0, y0 = crop_origin(frame.camera, size, center_px, center_point)
    sl = (slice(y0, y0 + size), slice(x0, x0 + size))
    seg = None if frame.segmentation is None else frame.segmentation[sl]
    cropped = RGBDFrame(
        np.ascontiguousarray(frame.rgb[sl]),
        np.ascontiguousarray(frame.depth[sl]),
        frame.camera.cropped(x0, y0, size, size),
        frame.stamp,
        seg,
    )
    return WorkspaceCrop(cropped, (x0, y0))
