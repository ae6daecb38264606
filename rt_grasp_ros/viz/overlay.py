"""Draw grasp rectangles on images (ground truth in green, predictions in red)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

GROUND_TRUTH_RGB = (40, 180, 60)
PREDICTION_RGB = (230, 40, 40)


def draw_rectangle(
    image: np.ndarray, corners: np.ndarray, colour: tuple[int, int, int], thickness: int = 1
) -> None:
    """Draw one grasp in place: thin opening edges, thick jaw edges (where the fingers are)."""
    pts = np.round(np.asarray(corners)).astype(np.int32)
    scale = max(1, round(max(image.shape[:2]) / 480))
    for a, b, jaw in ((0, 1, False), (1, 2, True), (2, 3, False), (3, 0, True)):
        width = (thickness + 2 if jaw else thickness) * scale
        cv2.line(image, tuple(pts[a]), tuple(pts[b]), colour, width, cv2.LINE_AA)
    centre = tuple(np.round(pts.mean(axis=0)).astype(int))
    cv2.circle(image, centre, 2 * scale, colour, -1, cv2.LINE_AA)


def draw_grasps(
    image: np.ndarray,
    ground_truth: np.ndarray | None = None,
    predictions: np.ndarray | None = None,
    caption: str | None = None,
) -> np.ndarray:
    """Copy of RGB ``image`` with ``(M, 4, 2)`` true and ``(K, 4, 2)`` predicted grasp corners."""
    out = np.ascontiguousarray(image.copy())
    for corners in [] if ground_truth is None else ground_truth:
        draw_rectangle(out, corners, GROUND_TRUTH_RGB, 1)
    for corners in [] if predictions is None else predictions:
        draw_rectangle(out, corners, PREDICTION_RGB, 2)
    if caption:
        put_caption(out, caption)
    return out


def put_caption(image: np.ndarray, text: str) -> None:
    """Write ``text`` on a dark band at the top of the image, in place."""
    scale = max(image.shape[1] / 900, 0.4)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(image, (0, 0), (min(image.shape[1], tw + 8), th + base + 8), (0, 0, 0), -1)
    cv2.putText(
        image, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )


def tile(images: Sequence[np.ndarray], columns: int = 3) -> np.ndarray:
    """Lay same-height images out in a grid (smaller ones are padded, larger ones resized)."""
    if not images:
        raise ValueError("tile needs at least one image")
    h, w = images[0].shape[:2]
    cells = [img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h)) for img in images]
    columns = max(1, min(columns, len(cells)))
    rows = -(-len(cells) // columns)
    grid = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for i, img in enumerate(cells):
        r, c = divmod(i, columns)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    return grid
