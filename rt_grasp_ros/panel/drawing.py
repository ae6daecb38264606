"""The crop with the grasp drawn on it, as the panel shows it (numpy and OpenCV only)."""

from __future__ import annotations

import cv2
import numpy as np

from rt_grasp_ros.grasp.rectangle import corners_from_params
from rt_grasp_ros.panel.model import CropImage, GraspView
from rt_grasp_ros.viz.overlay import PREDICTION_RGB, draw_rectangle, put_caption

JAW_RATIO = 0.4  # jaw size over opening, for drawing only (the grasp gives no jaw size)
DEFAULT_OPENING = 0.3  # opening over crop side when the grasp gives none (drawing only)


def grasp_in_crop(grasp: GraspView, crop: CropImage) -> tuple[float, float, float]:
    """Return the grasp's centre ``(column, row)`` and opening in ``crop`` pixels.

    The full-image pixel (u, v) through the crop's roi when both are known, so a grasp stays
    on its spot if the crop moved since it was planned; otherwise the normalised (x, y).
    """
    h, w = crop.rgb.shape[:2]
    roi_w, roi_h = crop.roi_size
    if roi_w > 0 and roi_h > 0 and grasp.u >= 0 and grasp.v >= 0:
        sx, sy = w / roi_w, h / roi_h
        cx, cy = (grasp.u - crop.origin[0]) * sx, (grasp.v - crop.origin[1]) * sy
        opening = grasp.width_px * sx
    else:
        cx, cy = grasp.x * w, grasp.y * h
        opening = 0.0
    return cx, cy, opening if opening > 0 else DEFAULT_OPENING * min(w, h)


def render(
    crop: CropImage | None,
    grasp: GraspView | None,
    min_side: int = 360,
    caption: str | None = None,
) -> np.ndarray:
    """Return an RGB image: the crop (scaled up to ``min_side``) with the grasp drawn on it.

    Without a crop, a grey placeholder that says what it waits for.
    """
    if crop is None:
        out = np.full((min_side, min_side, 3), 90, np.uint8)
        put_caption(out, caption or "waiting for crop/color + crop/camera_info")
        return out
    rgb = crop.rgb
    h, w = rgb.shape[:2]
    scale = max(1.0, min_side / max(1, min(h, w)))
    out = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    out = np.ascontiguousarray(out)
    if grasp is not None:
        cx, cy, opening = grasp_in_crop(grasp, crop)
        corners = corners_from_params(
            cx * scale, cy * scale, grasp.theta, opening * scale, JAW_RATIO * opening * scale
        )
        draw_rectangle(out, corners, PREDICTION_RGB, 2)
    if caption:
        put_caption(out, caption)
    return out
