"""GraspSample: one image with its positive grasp rectangles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rt_grasp_ros.data.images import read_depth_tiff, read_rgb
from rt_grasp_ros.data.pcd import read_pcd_depth
from rt_grasp_ros.grasp.rectangle import GraspRectangle, stack_corners


@dataclass(frozen=True)
class GraspSample:
    """An image of one object and its positive (graspable) rectangles.

    Attributes:
        id: sample id, e.g. ``pcd0100`` for Cornell.
        image_path: the RGB image.
        rectangles: positive grasps in pixel coordinates of that image.
        image_size: ``(width, height)`` in pixels.
        depth_path: a depth TIFF or Cornell point cloud (``.txt``), if any.
        object_id: identity of the physical object (for object-wise splits), if known.
        category: object category (for reasoning templates), if known.
        source: dataset name, ``cornell`` or ``jacquard``.
    """

    id: str
    image_path: Path
    rectangles: tuple[GraspRectangle, ...]
    image_size: tuple[int, int]
    depth_path: Path | None = None
    object_id: str | None = None
    category: str | None = None
    source: str = "cornell"

    @property
    def corners(self) -> np.ndarray:
        """All rectangles as one ``(M, 4, 2)`` array."""
        return stack_corners(list(self.rectangles))

    def load_image(self) -> np.ndarray:
        """The RGB image, ``(H, W, 3)`` uint8."""
        return read_rgb(self.image_path)

    def load_depth(self) -> np.ndarray | None:
        """The depth map ``(H, W)`` float32, or None when the sample has none."""
        if self.depth_path is None:
            return None
        if self.depth_path.suffix == ".txt":
            width, height = self.image_size
            return read_pcd_depth(self.depth_path, (height, width))
        return read_depth_tiff(self.depth_path)
