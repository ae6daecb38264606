"""Reading and writing images and depth maps, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rt_grasp_ros.errors import DatasetError


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a colour image as ``(H, W, 3)`` uint8 RGB."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"cannot read image {path}: missing or not a supported image file")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_rgb(path: str | Path, image: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB image; the format follows the file suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
        if path.suffix.lower() in {".jpg", ".jpeg"}
        else []
    )
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params):
        raise DatasetError(f"cannot write image {path}")


def read_depth_tiff(path: str | Path) -> np.ndarray:
    """Read a single-channel floating-point TIFF depth map as ``(H, W)`` float32."""
    depth = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if depth is None:
        raise DatasetError(f"cannot read depth image {path}: missing or not a TIFF")
    if depth.ndim != 2:
        raise DatasetError(f"depth image {path} has {depth.shape[2]} channels; expected 1")
    return depth.astype(np.float32)


def write_depth_tiff(path: str | Path, depth: np.ndarray) -> None:
    """Write an ``(H, W)`` depth map as a float32 TIFF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.asarray(depth, dtype=np.float32)):
        raise DatasetError(f"cannot write depth image {path}")


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, reading only its header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError) as exc:
        raise DatasetError(f"cannot read image {path}: {exc}") from exc
