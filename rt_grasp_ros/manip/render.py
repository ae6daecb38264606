"""A picture of every articulated category and its affordance map (ManipLLM Eq. 1)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.sim.affordance import affordance_map
from rt_grasp_ros.sim.articulated import CATEGORIES
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.viz.overlay import put_caption, tile


def affordance_overlay(rgb: np.ndarray, magnitude: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """``rgb`` with the moving part coloured by its affordance (blue 0 .. red 1)."""
    heat = cv2.applyColorMap(np.round(magnitude * 255).astype(np.uint8), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    out = (rgb * 0.55).astype(np.uint8)
    out[movable] = (0.3 * rgb[movable] + 0.7 * heat[movable]).astype(np.uint8)
    return out


def category_tiles(seed: int, size: int) -> list[np.ndarray]:
    """For each category: its randomised view and its affordance map, side by side."""
    tiles = []
    for name, category in CATEGORIES.items():
        with World(manip_scene(seed, name)) as world:
            frame = world.render(segmentation=True)
            amap = affordance_map(world, frame)
        views = [frame.rgb, affordance_overlay(frame.rgb, amap.magnitude, amap.movable)]
        pair = np.hstack(
            [cv2.resize(v, (size, size), interpolation=cv2.INTER_AREA) for v in views]
        )
        put_caption(pair, f"{category.display} ({category.split}, {category.part_type})")
        tiles.append(pair)
    return tiles


def render_categories(out: Path, seed: int = 0, size: int = 180, columns: int = 3) -> Path:
    """Write the grid as a palette PNG (small enough to commit); its path."""
    grid = tile(category_tiles(seed, size), columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(
        out, optimize=True
    )
    return out
