"""The crops a model is shown: the workspace square and the object-centred square inside it.

RT-Grasp's robot showed its model a 400x400 workspace square; the object-centred square is sized
to what stands above the table, as Cornell's images are object-centred.
"""

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


@dataclass(frozen=True)
class ObjectCrop:
    """How the object-centred crop is found: the pixels that stand above the table plane.

    Attributes:
        table_z: height of the table plane in the base frame (m).
        min_height: a pixel counts as object from this far above the plane (m): above the
            noise of a simulated or filtered depth image, below the thinnest
            part (a 4 mm scissor blade); raise it for a raw sensor.
        max_height: and up to this height (m), so that an arm reaching into the view does not.
        margin: crop side over the object's larger extent in the image.
        min_size: smallest crop side (pixels), so that small objects keep their context.
        max_size: largest crop side (pixels).
    """

    table_z: float = 0.0
    min_height: float = 0.003
    max_height: float = 0.35
    margin: float = 1.5
    min_size: int = 120
    max_size: int = DEFAULT_CROP

    def __post_init__(self) -> None:
        if not 0 < self.min_height < self.max_height:
            raise ConfigError(
                f"object crop heights need 0 < min_height < max_height, got "
                f"{self.min_height} and {self.max_height}"
            )
        if self.margin < 1:
            raise ConfigError(f"object crop margin must be at least 1, got {self.margin}")
        if not 16 <= self.min_size <= self.max_size:
            raise ConfigError(
                f"object crop sizes need 16 <= min_size <= max_size, got {self.min_size} "
                f"and {self.max_size}"
            )


def above_table(frame: RGBDFrame, spec: ObjectCrop) -> np.ndarray:
    """``(H, W)`` mask of the pixels whose base-frame height is within ``spec``'s band."""
    gain, origin_z = _height_per_depth(frame.camera)
    with np.errstate(invalid="ignore"):  # NaN depth (no reading) is never in the band
        height = origin_z + frame.depth * gain - spec.table_z
        return (frame.depth > 0) & (height > spec.min_height) & (height < spec.max_height)


_GAINS: dict[tuple, tuple[np.ndarray, float]] = {}


def _height_per_depth(camera: PinholeCamera) -> tuple[np.ndarray, float]:
    """Per pixel, the base-frame height gained per metre of depth; and the optical centre's height.

    Cached per camera model, so a stream pays one multiply-add per pixel instead of an
    (undistorting) back-projection of every pixel each frame.
    """
    matrix = camera.base_from_camera.matrix
    key = (camera.width, camera.height, camera.k.tobytes(), camera.d.tobytes(), matrix.tobytes())
    if key not in _GAINS:
        v, u = np.mgrid[0 : camera.height, 0 : camera.width]
        uv = np.column_stack([u.reshape(-1), v.reshape(-1)]) + 0.5
        rays = camera.back_project_camera(uv, np.ones(len(uv)))  # optical frame, depth 1
        gain = (rays @ matrix[2, :3]).reshape(camera.height, camera.width)
        if len(_GAINS) >= 8:  # a few cameras and crops at most; keep it bounded
            _GAINS.clear()
        _GAINS[key] = (gain, float(matrix[2, 3]))
    return _GAINS[key]


def crop_object(
    workspace: WorkspaceCrop, spec: ObjectCrop | None = None
) -> tuple[WorkspaceCrop, bool]:
    """The object-centred square inside the workspace crop, and whether an object was found.

    The square is centred on the bounding box of what stands above the table (its 1st to
    99th percentiles, so stray depth pixels do not stretch it), its side ``margin`` times the
    box's larger side, within ``[min_size, max_size]`` and the workspace. With nothing above the
    table, the whole workspace crop is returned and the flag is False.
    """
    spec = spec or ObjectCrop()
    mask = above_table(workspace.frame, spec)
    if mask.sum() < 4:
        return workspace, False
    v, u = np.nonzero(mask)
    (u0, u1), (v0, v1) = np.percentile(u, [1, 99]), np.percentile(v, [1, 99])
    w, h = workspace.size
    side = round(float(spec.margin * max(u1 - u0 + 1, v1 - v0 + 1)))
    side = min(max(side, spec.min_size), spec.max_size, w, h)
    inner = crop_workspace(workspace.frame, side, center_px=((u0 + u1 + 1) / 2, (v0 + v1 + 1) / 2))
    (x0, y0), (ox, oy) = inner.origin, workspace.origin
    return WorkspaceCrop(inner.frame, (x0 + ox, y0 + oy)), True
