"""The Jacquard dataset: ``<scene>_<object>_RGB.png``, ``_perfect_depth.tiff``, ``_grasps.txt``.

Each grasp line is ``x;y;theta;w;h`` in pixels, theta in degrees clockwise on screen (see
:meth:`GraspRectangle.from_jacquard`). Files live in one folder per object, or in the root.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rt_grasp_ros.data.images import image_size, write_depth_tiff, write_rgb
from rt_grasp_ros.data.objects import OBJECT_MAP_NAME, ObjectInfo, read_object_map
from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.grasp.rectangle import GraspRectangle

log = logging.getLogger(__name__)

RGB_SUFFIX = "_RGB.png"
DEPTH_SUFFIX = "_perfect_depth.tiff"
GRASPS_SUFFIX = "_grasps.txt"


def read_jacquard_grasps(path: str | Path) -> tuple[list[GraspRectangle], list[str]]:
    """Read a ``_grasps.txt`` file; returns rectangles and a warning per skipped line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read grasp file {path}: {exc}") from exc
    rectangles, warnings = [], []
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            values = [float(v) for v in text.strip().split(";")]
        except ValueError:
            values = []
        if len(values) != 5:
            warnings.append(f"{path}:{line_no}: expected 'x;y;theta;w;h', got {text.strip()!r}")
            continue
        if not all(math.isfinite(v) for v in values) or values[3] <= 0 or values[4] <= 0:
            warnings.append(
                f"{path}:{line_no}: non-finite or non-positive values {text.strip()!r}"
            )
            continue
        rectangles.append(GraspRectangle.from_jacquard(*values))
    return rectangles, warnings


def write_jacquard_grasps(path: str | Path, rectangles: Iterable[GraspRectangle]) -> None:
    """Write rectangles as Jacquard ``x;y;theta;w;h`` lines."""
    rows = [";".join(f"{v:.3f}" for v in rect.to_jacquard()) for rect in rectangles]
    Path(path).write_text("\n".join(rows) + ("\n" if rows else ""), encoding="utf-8")


def write_jacquard_sample(
    root: str | Path,
    scene: str,
    object_id: str,
    rgb: np.ndarray,
    rectangles: Iterable[GraspRectangle],
    depth: np.ndarray | None = None,
) -> None:
    """Write one image in the Jacquard layout under ``root/<object_id>/``."""
    folder = Path(root) / object_id
    prefix = folder / f"{scene}_{object_id}"
    write_rgb(f"{prefix}{RGB_SUFFIX}", rgb)
    folder.mkdir(parents=True, exist_ok=True)
    write_jacquard_grasps(f"{prefix}{GRASPS_SUFFIX}", rectangles)
    if depth is not None:
        write_depth_tiff(f"{prefix}{DEPTH_SUFFIX}", depth)


def load_jacquard(root: str | Path, objects: str | Path | None = None) -> list[GraspSample]:
    """Load every Jacquard image under ``root`` (and one level below) that has grasps.

    Sample ids are ``<scene>_<object>``; the object id is the part after the first ``_``.
    Categories come from an optional ``image,object,category`` CSV (``root/objects.csv``).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Jacquard dataset folder {root} does not exist")
    objects_path = Path(objects) if objects else root / OBJECT_MAP_NAME
    object_map = read_object_map(objects_path) if objects_path.exists() else {}
    samples = []
    for rgb in sorted([*root.glob(f"*{RGB_SUFFIX}"), *root.glob(f"*/*{RGB_SUFFIX}")]):
        sample = _load_one(rgb, object_map)
        if sample is not None:
            samples.append(sample)
    if not samples:
        raise DatasetError(
            f"{root}: no Jacquard images found (expected *{RGB_SUFFIX} with *{GRASPS_SUFFIX})"
        )
    return samples


def _load_one(rgb: Path, object_map: dict[str, ObjectInfo]) -> GraspSample | None:
    sample_id = rgb.name[: -len(RGB_SUFFIX)]
    grasps = rgb.with_name(sample_id + GRASPS_SUFFIX)
    if not grasps.exists():
        log.warning("%s: no grasp file %s; skipped", rgb, grasps.name)
        return None
    rectangles, warnings = read_jacquard_grasps(grasps)
    for warning in warnings:
        log.warning("skipped grasp: %s", warning)
    if not rectangles:
        log.warning("%s: no valid grasp; image skipped", grasps)
        return None
    try:
        size = image_size(rgb)
    except DatasetError as exc:
        log.warning("%s; image skipped", exc)
        return None
    depth = rgb.with_name(sample_id + DEPTH_SUFFIX)
    default_object = sample_id.split("_", 1)[1] if "_" in sample_id else sample_id
    info = object_map.get(sample_id, ObjectInfo(default_object, None))
    return GraspSample(
        id=sample_id,
        image_path=rgb,
        rectangles=tuple(rectangles),
        image_size=size,
        depth_path=depth if depth.exists() else None,
        object_id=info.object_id or default_object,
        category=info.category,
        source="jacquard",
    )
