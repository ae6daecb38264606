"""Build a Reasoning-Tuning grasp dataset in the LLaVA conversation layout."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rt_grasp_ros import __version__
from rt_grasp_ros.data.augment import (
    Augmentation,
    AugmentationConfig,
    augmentation_rng,
    sample_augmentation,
    transform_rectangles,
    warp_image,
)
from rt_grasp_ros.data.images import write_rgb
from rt_grasp_ros.data.records import (
    FORMAT_VERSION,
    GROUND_TRUTH,
    MANIFEST,
    GroundTruth,
    fold_dir,
    write_ground_truth,
    write_json,
)
from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.data.splits import Fold, SplitKind, kfold_split
from rt_grasp_ros.errors import ConfigError, DatasetError
from rt_grasp_ros.grasp.rectangle import GraspRectangle, stack_corners
from rt_grasp_ros.prompts.conversation import PromptTemplates
from rt_grasp_ros.prompts.formats import AnswerFormat
from rt_grasp_ros.prompts.templates import TemplateLibrary, load_templates

MATERIALIZED_DIR = "images"
MATERIALIZED_EXT = ".jpg"


@dataclass(frozen=True)
class BuildConfig:
    """What ``rt-grasp dataset build`` writes.

    Attributes:
        format: answer format of the targets.
        augment: extra augmented samples per training image (0 = none).
        folds: number of cross-validation folds (1 = every sample in the training set).
        split: ``image``- or ``object``-wise folds.
        seed: seed for splits, augmentation and template choice.
        materialize: render augmented images to ``OUT/images`` instead of storing transforms.
        decimals: decimals of the numbers in the answers.
        augmentation: ranges of the augmentation parameters.
    """

    format: AnswerFormat = AnswerFormat.RT
    augment: int = 0
    folds: int = 5
    split: SplitKind = SplitKind.IMAGE
    seed: int = 0
    materialize: bool = False
    decimals: int = 3
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "format", AnswerFormat.parse(self.format))
            object.__setattr__(self, "split", SplitKind(self.split))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if self.augment < 0:
            raise ConfigError(f"augment must be >= 0, got {self.augment}")
        if self.folds < 1:
            raise ConfigError(f"folds must be >= 1, got {self.folds}")
        if not 0 <= self.decimals <= 6:
            raise ConfigError(f"decimals must be in [0, 6], got {self.decimals}")


@dataclass(frozen=True)
class BuildSummary:
    """What a build wrote, and how long it took."""

    out: Path
    source_images: int
    samples: int
    folds: list[dict[str, int]]
    seconds: float


def build_dataset(
    samples: list[GraspSample],
    out: str | Path,
    config: BuildConfig,
    source: dict[str, str],
    templates: TemplateLibrary | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Write ``manifest.json``, ``ground_truth.jsonl`` and ``fold_K/{train,test}.json``.

    Each record holds one conversation drawn from the templates (the instruction and
    reasoning other LLaVA trainers read, and what evaluation asks), plus its object
    ``category`` and ``grasp`` (``[x, y, theta]``); the manifest holds the templates, so
    that ``rt-grasp train`` draws each sample's instruction and reasoning anew every epoch.

    Args:
        samples: the source images (Cornell or Jacquard).
        out: output folder (created; existing build files are overwritten).
        config: what to build.
        source: ``{"kind": ..., "root": ...}``; record images are relative to ``root``.
        templates: reasoning and instruction templates (default: the shipped ones).
        progress: show progress bars.
    """
    start = time.perf_counter()
    out = Path(out)
    root = Path(source["root"]).resolve()
    templates = templates or load_templates()
    folds = kfold_split(samples, config.folds, config.split, config.seed)
    test_fold = {sid: f.index for f in folds for sid in f.test}

    # source id -> its samples (original first), each with the transform that renders it
    family: dict[str, list[tuple[GroundTruth, Augmentation | None]]] = {}
    for sample in tqdm(samples, desc="samples", unit="img", disable=not progress):
        family[sample.id] = _expand(sample, config, root, test_fold.get(sample.id))
    entries = [entry for members in family.values() for entry, _ in members]

    prompts = PromptTemplates.from_library(
        templates, (e.category for e in entries), config.format, config.decimals
    )
    records = {e.id: _record(e, config, prompts) for e in entries}
    fold_counts = _write_folds(out, folds, family, records)
    write_ground_truth(out / GROUND_TRUTH, entries)
    if config.materialize:
        _materialize(out / MATERIALIZED_DIR, samples, family, progress)
    manifest = _manifest(config, source, root, len(samples), len(entries), fold_counts, prompts)
    write_json(out / MANIFEST, manifest)
    return BuildSummary(out, len(samples), len(entries), fold_counts, time.perf_counter() - start)


def _expand(
    sample: GraspSample, config: BuildConfig, root: Path, fold: int | None
) -> list[tuple[GroundTruth, Augmentation | None]]:
    """The original sample and its augmented copies, each with its transform.

    A ground-truth entry keeps the transform only when the image is rendered on the fly; a
    materialised image already has it applied.
    """
    try:
        relative = str(sample.image_path.resolve().relative_to(root))
    except ValueError as exc:
        raise DatasetError(
            f"image {sample.image_path} is not inside the source folder {root}"
        ) from exc
    original = GroundTruth.from_sample(sample, image=_image_name(sample.id, relative, config))
    out: list[tuple[GroundTruth, Augmentation | None]] = [
        (dataclasses.replace(original, test_fold=fold), None)
    ]
    for k in range(config.augment):
        aug = sample_augmentation(
            augmentation_rng(config.seed, sample.id, k), sample, config.augmentation
        )
        rects = transform_rectangles(sample.rectangles, aug, sample.image_size)
        aug_id = f"{sample.id}_a{k:03d}"
        entry = dataclasses.replace(
            original,
            id=aug_id,
            image=_image_name(aug_id, relative, config),
            corners=stack_corners(rects),
            augmentation=None if config.materialize else aug,
        )
        out.append((entry, aug))
    return out


def _image_name(sample_id: str, relative: str, config: BuildConfig) -> str:
    return f"{sample_id}{MATERIALIZED_EXT}" if config.materialize else relative


def _record(entry: GroundTruth, config: BuildConfig, prompts: PromptTemplates) -> dict[str, Any]:
    """One LLaVA conversation; every random choice is seeded by the sample id."""
    rng = random.Random(f"{config.seed}:{entry.id}")
    rect = GraspRectangle(entry.corners[rng.randrange(len(entry.corners))])
    pose = rect.to_pose(*entry.image_size)
    record: dict[str, Any] = {
        "id": entry.id,
        "image": entry.image,
        "conversations": prompts.conversation(entry.category, pose, rng),
        "source_id": entry.source_id,
        "category": entry.category,
        "object": entry.object_id,
        "grasp": [pose.x, pose.y, pose.theta],
    }
    if entry.augmentation is not None:
        record["augmentation"] = entry.augmentation.to_dict()
    return record


def _write_folds(
    out: Path,
    folds: list[Fold],
    family: dict[str, list[tuple[GroundTruth, Augmentation | None]]],
    records: dict[str, dict[str, Any]],
) -> list[dict[str, int]]:
    counts = []
    for fold in folds:
        train = [records[entry.id] for src in fold.train for entry, _ in family[src]]
        test = [records[src] for src in fold.test]
        for part, rows in (("train", train), ("test", test)):
            path = fold_dir(out, fold.index) / f"{part}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(rows, separators=(",", ":")) + "\n", encoding="utf-8")
        counts.append({"fold": fold.index, "train": len(train), "test": len(test)})
    return counts


def _materialize(
    folder: Path,
    samples: list[GraspSample],
    family: dict[str, list[tuple[GroundTruth, Augmentation | None]]],
    progress: bool,
) -> None:
    """Render every sample's images to ``folder``; threads, since OpenCV releases the GIL."""
    folder.mkdir(parents=True, exist_ok=True)

    def render(sample: GraspSample) -> int:
        image = sample.load_image()
        for entry, aug in family[sample.id]:
            write_rgb(folder / entry.image, warp_image(image, aug) if aug else image)
        return len(family[sample.id])

    total = sum(len(m) for m in family.values())
    with (
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
        tqdm(total=total, desc="images", unit="img", disable=not progress) as bar,
    ):
        for n in pool.map(render, samples):
            bar.update(n)


def _manifest(
    config: BuildConfig,
    source: dict[str, str],
    root: Path,
    n_source: int,
    n_samples: int,
    fold_counts: list[dict[str, int]],
    prompts: PromptTemplates,
) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "created_by": f"rt_grasp {__version__}",
        "source": {"kind": source["kind"], "root": str(root)},
        "format": config.format.value,
        "split": config.split.value,
        "folds": config.folds,
        "augment": config.augment,
        "seed": config.seed,
        "decimals": config.decimals,
        "materialized": config.materialize,
        "image_folder": MATERIALIZED_DIR if config.materialize else str(root),
        "augmentation_config": asdict(config.augmentation),
        "counts": {"source_images": n_source, "samples": n_samples, "folds": fold_counts},
        **prompts.to_manifest(),
    }
