"""The on-disk layout of a built dataset.

::

    OUT/manifest.json          what was built, from where (image_folder), the prompt templates
    OUT/ground_truth.jsonl     every sample's rectangles, for evaluation
    OUT/fold_K/train.json      LLaVA conversation records
    OUT/fold_K/test.json
    OUT/images/                rendered images (only with --materialize)

A record's ``image`` is relative to the manifest's ``image_folder``. A record with an
``augmentation`` key shows its source image transformed by those parameters. A record's
``category`` and ``grasp`` (``[x, y, theta]``, the pose its answer gives) let training draw
its conversation anew from the manifest's ``instructions`` and ``reasoning`` texts (see
:mod:`rt_grasp_ros.prompts.conversation`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rt_grasp_ros.data.augment import Augmentation
from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import DatasetError

MANIFEST = "manifest.json"
GROUND_TRUTH = "ground_truth.jsonl"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class GroundTruth:
    """The ground truth of one evaluable sample.

    Attributes:
        id: sample id (the image stem for un-augmented Cornell images).
        image: image path, relative to the dataset's image folder (or absolute).
        image_size: ``(width, height)`` of the image as shown to the model.
        corners: ``(M, 4, 2)`` positive rectangles in pixels of that image.
        category: object category, if known.
        object_id: physical object, if known.
        source_id: the original sample this one was made from.
        augmentation: the transform applied to the source image, if any.
        test_fold: the fold whose test set holds this sample, if any.
    """

    id: str
    image: str
    image_size: tuple[int, int]
    corners: np.ndarray
    category: str | None = None
    object_id: str | None = None
    source_id: str | None = None
    augmentation: Augmentation | None = None
    test_fold: int | None = None

    @classmethod
    def from_sample(cls, sample: GraspSample, image: str | None = None) -> GroundTruth:
        """Ground truth of an un-augmented sample."""
        return cls(
            id=sample.id,
            image=image if image is not None else str(sample.image_path),
            image_size=sample.image_size,
            corners=sample.corners,
            category=sample.category,
            object_id=sample.object_id,
            source_id=sample.id,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (rectangles rounded to 0.01 px)."""
        return {
            "id": self.id,
            "image": self.image,
            "image_size": list(self.image_size),
            "rectangles": np.round(self.corners, 2).tolist(),
            "category": self.category,
            "object": self.object_id,
            "source_id": self.source_id,
            "augmentation": self.augmentation.to_dict() if self.augmentation else None,
            "test_fold": self.test_fold,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> GroundTruth:
        """Parse :meth:`to_json` output; ``where`` (file:line) prefixes errors."""
        try:
            corners = np.asarray(data["rectangles"], dtype=np.float64).reshape(-1, 4, 2)
            aug = data.get("augmentation")
            return cls(
                id=str(data["id"]),
                image=str(data["image"]),
                image_size=(int(data["image_size"][0]), int(data["image_size"][1])),
                corners=corners,
                category=data.get("category"),
                object_id=data.get("object"),
                source_id=data.get("source_id"),
                augmentation=Augmentation.from_dict(aug) if aug else None,
                test_fold=data.get("test_fold"),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DatasetError(
                f"{where}: malformed ground-truth entry ({type(exc).__name__}: {exc})"
            ) from exc


def write_json(path: Path, data: Any) -> None:
    """Write JSON (creating parent folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    """Read JSON with an error naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def write_ground_truth(path: Path, entries: list[GroundTruth]) -> None:
    """Write one JSON object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for entry in entries:
            f.write(json.dumps(entry.to_json()) + "\n")


def iter_jsonl(path: str | Path, what: str) -> Iterator[tuple[str, int, Any]]:
    """``(file:line, line number, value)`` for each non-empty line of a JSON-lines file.

    Raises:
        DatasetError: the file cannot be read (``what`` names it) or a line is not JSON.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read {what} {path}: {exc}") from exc
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            yield where, line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: invalid JSON: {exc.msg}") from exc


def read_ground_truth(path: Path) -> dict[str, GroundTruth]:
    """Read a ground-truth JSONL file into ``id -> GroundTruth``."""
    out: dict[str, GroundTruth] = {}
    for where, _, data in iter_jsonl(path, "ground truth"):
        entry = GroundTruth.from_json(data, where)
        if entry.id in out:
            raise DatasetError(f"{where}: sample id {entry.id!r} appears twice")
        out[entry.id] = entry
    return out


@dataclass(frozen=True)
class BuiltDataset:
    """A dataset written by ``rt-grasp dataset build``, opened for reading."""

    root: Path
    manifest: dict[str, Any]

    @property
    def image_folder(self) -> Path:
        """Folder that record and ground-truth image paths are relative to."""
        return (self.root / self.manifest["image_folder"]).resolve()

    @property
    def num_folds(self) -> int:
        """Number of folds written."""
        return int(self.manifest["folds"])

    def image_path(self, image: str) -> Path:
        """Absolute path of a record's image."""
        return self.image_folder / image

    def ground_truth(self) -> dict[str, GroundTruth]:
        """Every sample's ground truth."""
        return read_ground_truth(self.root / GROUND_TRUTH)

    def records(self, fold: int, part: str) -> list[dict[str, Any]]:
        """LLaVA records of ``fold`` (``part`` is ``train`` or ``test``)."""
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        if not 0 <= fold < self.num_folds:
            raise DatasetError(
                f"{self.root}: fold {fold} does not exist (the dataset has {self.num_folds})"
            )
        path = self.root / f"fold_{fold}" / f"{part}.json"
        data = read_json(path)
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a list of records, got {type(data).__name__}")
        return data


def open_built_dataset(path: str | Path) -> BuiltDataset:
    """Open a built dataset folder, checking its manifest."""
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        raise DatasetError(
            f"{root} is not a built dataset: {MANIFEST} is missing (run `rt-grasp dataset build`)"
        )
    manifest = read_json(manifest_path)
    missing = {"version", "format", "split", "folds", "image_folder"} - set(manifest)
    if missing:
        raise DatasetError(f"{manifest_path}: missing keys {sorted(missing)}")
    if manifest["version"] != FORMAT_VERSION:
        raise DatasetError(
            f"{manifest_path}: version {manifest['version']} is not supported "
            f"(expected {FORMAT_VERSION})"
        )
    return BuiltDataset(root=root, manifest=manifest)


def fold_dir(root: Path, fold: int) -> Path:
    """``OUT/fold_K``."""
    return root / f"fold_{fold}"
