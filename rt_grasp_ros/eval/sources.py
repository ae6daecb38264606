"""What an evaluation runs over: ground truth, images and (optionally) folds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rt_grasp_ros.data.augment import warp_image
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.data.records import BuiltDataset, GroundTruth
from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import DatasetError


@dataclass(frozen=True)
class EvaluationSet:
    """Samples to score, with a way to load the image each answer refers to.

    Attributes:
        ground_truth: id -> ground truth, in evaluation order.
        image_folder: folder that relative image paths start from.
        folds: test ids per fold, when the set comes from cross-validation folds.
        label: what the set is (source, format, split), carried into reports.
    """

    ground_truth: dict[str, GroundTruth]
    image_folder: Path
    folds: dict[int, list[str]] | None = None
    label: dict[str, Any] = field(default_factory=dict)

    def load_image(self, sample_id: str) -> np.ndarray:
        """The RGB image of ``sample_id`` exactly as the model sees it."""
        entry = self.ground_truth.get(sample_id)
        if entry is None:
            raise DatasetError(f"unknown sample id {sample_id!r}")
        image = read_rgb(self.image_folder / entry.image)
        return warp_image(image, entry.augmentation) if entry.augmentation else image


def from_samples(samples: Sequence[GraspSample], kind: str) -> EvaluationSet:
    """Every image of a Cornell or Jacquard folder, un-augmented, ids = image ids."""
    ground_truth = {s.id: GroundTruth.from_sample(s) for s in samples}
    return EvaluationSet(ground_truth, Path(), None, {"source": kind})


def from_built(dataset: BuiltDataset, folds: Sequence[int] | None = None) -> EvaluationSet:
    """The test sets of a built dataset (all originals when it has a single fold).

    Args:
        dataset: an opened built dataset.
        folds: fold indices to evaluate (default: all).
    """
    all_gt = dataset.ground_truth()
    label = {
        "source": str(dataset.root),
        "format": dataset.manifest["format"],
        "split": dataset.manifest["split"],
    }
    if dataset.num_folds == 1:
        originals = {
            k: v for k, v in all_gt.items() if v.augmentation is None and k == v.source_id
        }
        return EvaluationSet(originals, dataset.image_folder, None, label)
    chosen = list(range(dataset.num_folds)) if folds is None else list(folds)
    fold_ids: dict[int, list[str]] = {}
    for k in chosen:
        ids = [r["id"] for r in dataset.records(k, "test")]
        missing = [i for i in ids if i not in all_gt]
        if missing:
            raise DatasetError(
                f"{dataset.root}: fold {k} test id {missing[0]!r} has no ground truth"
            )
        fold_ids[k] = ids
    ground_truth = {i: all_gt[i] for ids in fold_ids.values() for i in ids}
    label["evaluated_folds"] = chosen
    return EvaluationSet(ground_truth, dataset.image_folder, fold_ids, label)
