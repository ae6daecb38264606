"""The optional per-image object map: ``objects.csv`` with columns image,object,category."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from rt_grasp_ros.errors import DatasetError

OBJECT_MAP_NAME = "objects.csv"
_COLUMNS = ("image", "object", "category")


@dataclass(frozen=True)
class ObjectInfo:
    """Which physical object an image shows, and its category."""

    object_id: str | None
    category: str | None


def read_object_map(path: str | Path) -> dict[str, ObjectInfo]:
    """Read ``image,object,category`` rows (header required; object or category may be empty).

    Raises:
        DatasetError: naming the file and line of a malformed or duplicated row.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read object map {path}: {exc}") from exc
    rows = csv.reader(text.splitlines())
    header = [h.strip() for h in next(rows, [])]
    if tuple(header) != _COLUMNS:
        raise DatasetError(
            f"{path}:1: expected the header 'image,object,category', got {','.join(header)!r}"
        )
    mapping: dict[str, ObjectInfo] = {}
    for line_no, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 3:
            raise DatasetError(
                f"{path}:{line_no}: expected 3 columns image,object,category, got {row!r}"
            )
        image, obj, category = (c.strip() for c in row)
        if not image:
            raise DatasetError(f"{path}:{line_no}: the image column is empty")
        if image in mapping:
            raise DatasetError(f"{path}:{line_no}: image {image!r} is listed twice")
        mapping[image] = ObjectInfo(obj or None, category or None)
    return mapping


def write_object_map(path: str | Path, mapping: dict[str, ObjectInfo]) -> None:
    """Write an object map readable by :func:`read_object_map`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(_COLUMNS)
        for image, info in sorted(mapping.items()):
            writer.writerow([image, info.object_id or "", info.category or ""])
