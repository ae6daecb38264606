"""The Cornell grasping dataset in its original file layout.

Per image ``pcdNNNN``: ``pcdNNNNr.png`` (RGB), ``pcdNNNNcpos.txt`` / ``pcdNNNNcneg.txt``
(rectangles: four ``x y`` lines each), and depth as ``pcdNNNNd.tiff`` or the point cloud
``pcdNNNN.txt`` (PCD v0.7 ASCII, fields ``x y z rgb index``). Files may sit in the root or in
one level of subfolders (``01/`` ... ``10/``, or the Kaggle ``image/``, ``pos_label/`` ...).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rt_grasp_ros.data.images import image_size, write_depth_tiff, write_rgb
from rt_grasp_ros.data.objects import OBJECT_MAP_NAME, ObjectInfo, read_object_map
from rt_grasp_ros.data.pcd import write_pcd_depth
from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.grasp.rectangle import GraspRectangle

log = logging.getLogger(__name__)

_STEM = re.compile(r"^(pcd\d+)(r\.png|cpos\.txt|cneg\.txt|d\.tiff|\.txt)$")
MIN_EDGE_PX = 1e-3


def read_cornell_rectangles(path: str | Path) -> tuple[list[GraspRectangle], list[str]]:
    """Read a ``cpos``/``cneg`` file.

    Returns:
        The valid rectangles and one warning per skipped rectangle (naming file and line).
        A rectangle is skipped when one of its four lines is malformed or NaN, when it is
        degenerate, or when the file ends in the middle of it.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read rectangle file {path}: {exc}") from exc
    lines = [ln for ln in lines if ln.strip()]
    rectangles: list[GraspRectangle] = []
    warnings: list[str] = []
    for start in range(0, len(lines), 4):
        group = lines[start : start + 4]
        first_line = start + 1
        if len(group) < 4:
            warnings.append(
                f"{path}:{first_line}: incomplete rectangle ({len(group)} of 4 corner lines)"
            )
            continue
        corners, problem = _parse_corner_lines(group, first_line)
        if problem:
            warnings.append(f"{path}:{problem}")
            continue
        rect = GraspRectangle(corners)
        if rect.width < MIN_EDGE_PX or rect.height < MIN_EDGE_PX:
            warnings.append(f"{path}:{first_line}: degenerate rectangle (an edge has zero length)")
            continue
        rectangles.append(rect)
    return rectangles, warnings


def _parse_corner_lines(group: list[str], first_line: int) -> tuple[np.ndarray, str | None]:
    corners = np.zeros((4, 2))
    for i, text in enumerate(group):
        parts = text.split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 2:
            return corners, f"{first_line + i}: expected two numbers 'x y', got {text.strip()!r}"
        if not all(math.isfinite(v) for v in values):
            return corners, f"{first_line + i}: corner is not finite ({text.strip()!r})"
        corners[i] = values
    return corners, None


def write_cornell_rectangles(path: str | Path, rectangles: Iterable[GraspRectangle]) -> None:
    """Write rectangles as Cornell corner lines (``x y`` per line, four per rectangle)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{x:.2f} {y:.2f}" for rect in rectangles for x, y in rect.corners]
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def write_cornell_sample(
    root: str | Path,
    stem: str,
    rgb: np.ndarray,
    positives: Iterable[GraspRectangle],
    negatives: Iterable[GraspRectangle] = (),
    depth: np.ndarray | None = None,
    depth_format: str = "tiff",
) -> None:
    """Write one image in the Cornell layout (``depth_format``: ``tiff`` or ``pcd``)."""
    root = Path(root)
    write_rgb(root / f"{stem}r.png", rgb)
    write_cornell_rectangles(root / f"{stem}cpos.txt", positives)
    write_cornell_rectangles(root / f"{stem}cneg.txt", negatives)
    if depth is not None:
        if depth_format == "tiff":
            write_depth_tiff(root / f"{stem}d.tiff", depth)
        elif depth_format == "pcd":
            write_pcd_depth(root / f"{stem}.txt", depth)
        else:
            raise ValueError(f"depth_format must be 'tiff' or 'pcd', got {depth_format!r}")


def _index_files(root: Path) -> dict[str, dict[str, Path]]:
    """Stem -> {suffix -> path} for Cornell files in ``root`` and one level below."""
    index: dict[str, dict[str, Path]] = {}
    for path in sorted([*root.glob("*"), *root.glob("*/*")]):
        match = _STEM.match(path.name)
        if match and path.is_file():
            stem, suffix = match.groups()
            if suffix in index.setdefault(stem, {}):
                raise DatasetError(
                    f"{root}: {path.name} exists twice ({index[stem][suffix]} and {path})"
                )
            index[stem][suffix] = path
    return index


def load_cornell(root: str | Path, objects: str | Path | None = None) -> list[GraspSample]:
    """Load every Cornell image under ``root`` that has at least one valid positive rectangle.

    Args:
        root: the dataset folder.
        objects: an ``image,object,category`` CSV; defaults to ``root/objects.csv`` if present.

    Malformed rectangles are skipped with a warning naming file and line; images without a
    valid positive rectangle are skipped with a warning.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Cornell dataset folder {root} does not exist")
    object_map = _object_map(root, objects)
    samples = []
    for stem, files in sorted(_index_files(root).items()):
        sample = _load_one(stem, files, object_map)
        if sample is not None:
            samples.append(sample)
    if not samples:
        raise DatasetError(
            f"{root}: no Cornell images found (expected pcdNNNNr.png with pcdNNNNcpos.txt)"
        )
    unknown = set(object_map) - {s.id for s in samples}
    if unknown:
        log.warning(
            "object map lists %d image(s) not in the dataset, e.g. %s",
            len(unknown),
            sorted(unknown)[0],
        )
    return samples


def _object_map(root: Path, objects: str | Path | None) -> dict[str, ObjectInfo]:
    if objects is not None:
        return read_object_map(objects)
    default = root / OBJECT_MAP_NAME
    return read_object_map(default) if default.exists() else {}


def _load_one(
    stem: str, files: dict[str, Path], object_map: dict[str, ObjectInfo]
) -> GraspSample | None:
    if "r.png" not in files:
        log.warning("%s: no RGB image %sr.png; skipped", stem, stem)
        return None
    if "cpos.txt" not in files:
        log.warning("%s: no positive rectangles file %scpos.txt; skipped", stem, stem)
        return None
    rectangles, warnings = read_cornell_rectangles(files["cpos.txt"])
    for warning in warnings:
        log.warning("skipped rectangle: %s", warning)
    if not rectangles:
        log.warning("%s: no valid positive rectangle; image skipped", files["cpos.txt"])
        return None
    try:
        size = image_size(files["r.png"])
    except DatasetError as exc:
        log.warning("%s; image skipped", exc)
        return None
    info = object_map.get(stem, ObjectInfo(None, None))
    return GraspSample(
        id=stem,
        image_path=files["r.png"],
        rectangles=tuple(rectangles),
        image_size=size,
        depth_path=files.get("d.tiff", files.get(".txt")),
        object_id=info.object_id,
        category=info.category,
        source="cornell",
    )
