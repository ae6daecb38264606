"""Small generated datasets in the real Cornell and Jacquard file formats."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from rt_grasp_ros.data.cornell import write_cornell_sample
from rt_grasp_ros.data.jacquard import write_jacquard_sample
from rt_grasp_ros.data.objects import ObjectInfo, write_object_map
from rt_grasp_ros.grasp.rectangle import GraspRectangle, corners_from_params

TABLE_DEPTH_M = 0.70


def bar_scene(
    rng: np.random.Generator,
    size: tuple[int, int] = (640, 480),
    length: float | None = None,
    thickness: float | None = None,
    colour: tuple[int, int, int] | None = None,
    center: tuple[float, float] | None = None,
    angle: float | None = None,
    grasps: int = 3,
) -> tuple[np.ndarray, np.ndarray, list[GraspRectangle], list[GraspRectangle]]:
    """A bar lying on a table: RGB, depth (m), positive and negative rectangles.

    Positive grasps close across the bar (opening axis perpendicular to it) at ``grasps``
    points along it (1: only at its centre); negatives run along the bar.
    """
    width, height = size
    length = length if length is not None else rng.uniform(0.35, 0.5) * width
    thickness = thickness if thickness is not None else rng.uniform(0.05, 0.09) * height
    cx, cy = (
        center
        if center is not None
        else (
            rng.uniform(0.35, 0.65) * width,
            rng.uniform(0.35, 0.65) * height,
        )
    )
    angle = angle if angle is not None else rng.uniform(-math.pi / 2, math.pi / 2)
    colour = colour if colour is not None else tuple(int(c) for c in rng.integers(30, 200, 3))

    rgb = np.full((height, width, 3), 225, np.uint8)
    rgb += rng.integers(0, 12, (height, width, 1), dtype=np.uint8)  # table texture
    depth = np.full((height, width), TABLE_DEPTH_M, np.float32)
    body = corners_from_params(cx, cy, angle, length, thickness)
    poly = np.round(body).astype(np.int32)
    cv2.fillConvexPoly(rgb, poly, colour)
    cv2.fillConvexPoly(depth, poly, TABLE_DEPTH_M - 0.03)

    along = np.array([math.cos(angle), -math.sin(angle)])
    positives = []
    for t in (0.0,) if grasps == 1 else np.linspace(-0.25, 0.25, grasps):
        px, py = np.array([cx, cy]) + t * length * along
        positives.append(
            GraspRectangle.from_center(
                px, py, angle + math.pi / 2, thickness * 2.2, thickness * 0.8
            )
        )
    negatives = [GraspRectangle.from_center(cx, cy, angle, length * 0.6, thickness)]
    return rgb, depth, positives, negatives


def write_cornell_folder(
    root: Path,
    n_images: int = 6,
    seed: int = 0,
    subfolders: bool = False,
    depth_format: str = "tiff",
    objects_per_image: int = 2,
    category: str = "pen",
    grasps: int = 3,
    thickness: tuple[float, float] | None = None,
) -> list[str]:
    """Write ``n_images`` bar scenes in the Cornell layout with an objects.csv; returns stems.

    ``thickness``: the range of the bars' thickness as a fraction of the image height
    (default: 0.05 to 0.09, pens; 0.12 to 0.2 is the width of Cornell's bigger objects).
    """
    rng = np.random.default_rng(seed)
    stems, mapping = [], {}
    for i in range(n_images):
        stem = f"pcd{100 + i:04d}"
        folder = root / f"{i // 4 + 1:02d}" if subfolders else root
        thick = rng.uniform(*thickness) * 480 if thickness else None
        rgb, depth, pos, neg = bar_scene(rng, thickness=thick, grasps=grasps)
        write_cornell_sample(folder, stem, rgb, pos, neg, depth, depth_format=depth_format)
        mapping[stem] = ObjectInfo(str(i // objects_per_image), category)
        stems.append(stem)
    write_object_map(root / "objects.csv", mapping)
    return stems


def write_jacquard_folder(root: Path, n_images: int = 4, seed: int = 0) -> list[str]:
    """Write ``n_images`` bar scenes (1024x1024) in the Jacquard layout; returns sample ids."""
    rng = np.random.default_rng(seed)
    ids = []
    for i in range(n_images):
        obj = f"obj{i // 2}"
        rgb, depth, pos, _ = bar_scene(rng, size=(1024, 1024))
        write_jacquard_sample(root, str(i), obj, rgb, pos, depth)
        ids.append(f"{i}_{obj}")
    return ids
