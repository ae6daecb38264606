"""Reproduce the default embedded model from scratch: simulator data, training, installation.

``rt-grasp model reproduce --out runs/default-model`` runs the project's own pipeline, the
commands a user would run, in one go:

1. ``rt-grasp sim dataset``: render object instances in random placements (workspace crops,
   ground-truth rectangles, ``objects.csv``), in parallel processes;
2. ``rt-grasp dataset build``: the ``rt`` answer format with object-wise folds (fold 0's test
   instances are the held-out crops the training curve is measured on);
3. ``rt-grasp train --config sim-default``;
4. with ``--install``, copy the checkpoint into the package, where ``default`` finds it.

The stages shared with the contact model's ``rt-grasp manip reproduce``
(:mod:`rt_grasp_ros.pipeline.manip_default`) are here: :func:`train_stage`,
:func:`write_report` and :func:`install_checkpoint`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.default import DEFAULT_CONFIG, default_model_dir

if TYPE_CHECKING:
    from rt_grasp_ros.vlm.train import TrainResult

# What a shipped checkpoint keeps: the model, its processor, its metadata and its curve.
SHIPPED_FILES = (
    "rt_grasp_checkpoint.json",
    "weights.safetensors",
    "processor",
    "base",
    "train_log.json",
    "training_curve.png",
    "recipe.json",
)


@dataclass(frozen=True)
class Recipe:
    """What the default model is trained on and how.

    Attributes:
        objects: object instances rendered (seeds ``seed .. seed + objects - 1``).
        views: placements per instance.
        seed: first instance seed.
        workers: rendering processes.
        folds: object-wise folds; the model trains on fold 0, its test instances are held out.
        decimals: decimals of the numbers in the answers.
        augment: augmented copies of each training crop (rotation, zoom, shift).
        config: the training config (a packaged name or a YAML file).
        steps: training steps (None: the config's).
    """

    objects: int = 3000
    views: int = 2
    seed: int = 0
    workers: int = 2
    folds: int = 8
    decimals: int = 2
    augment: int = 0
    config: str = DEFAULT_CONFIG
    steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("objects", "views", "workers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.augment < 0:
            raise ConfigError(f"augment must be at least 0, got {self.augment}")
        if self.folds < 2:
            raise ConfigError(
                f"folds must be at least 2 (fold 0's test is held out), got {self.folds}"
            )


def reproduce(
    out: Path, recipe: Recipe, console: Console, install: bool = False
) -> dict[str, Any]:
    """Render, build and train into ``out``; returns (and writes) ``out/recipe.json``."""
    from rt_grasp_ros.data.build import BuildConfig, build_dataset
    from rt_grasp_ros.data.cornell import load_cornell
    from rt_grasp_ros.sim.export import export_cornell

    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"recipe": asdict(recipe)}
    cornell = out / "sim-cornell"
    console.rule("1. simulator crops")
    start = time.perf_counter()
    if (cornell / "objects.csv").exists():
        console.print(f"{cornell} exists: reusing its crops")
        report["render_s"] = None  # rendered by an earlier run
    else:
        export_cornell(cornell, recipe.objects, recipe.views, recipe.seed, workers=recipe.workers)
        report["render_s"] = round(time.perf_counter() - start, 1)

    console.rule("2. the reasoning-tuning dataset")
    samples = load_cornell(cornell)
    build = build_dataset(
        samples,
        out / "data",
        BuildConfig(
            folds=recipe.folds, split="object", decimals=recipe.decimals, augment=recipe.augment
        ),
        {"kind": "cornell", "root": str(cornell)},
    )
    report["samples"] = {"crops": len(samples), **build.folds[0]}
    held_out = json.loads((out / "data" / "fold_0" / "test.json").read_text(encoding="utf-8"))
    report["held_out_instances"] = sorted({r["object"] for r in held_out})
    console.print(
        f"{len(samples)} crops: {build.folds[0]['train']} to train on, "
        f"{build.folds[0]['test']} of unseen instances held out"
    )

    console.rule("3. training")
    result = train_stage(recipe.config, recipe.steps, out / "data", out / "model", report)
    report["held_out_accuracy"] = [{"step": s, "accuracy": a} for s, a in result.validation]
    console.print(
        f"{result.steps} steps in {result.seconds / 60:.1f} min; rectangle-metric accuracy on "
        f"held-out crops {100 * result.validation[-1][1]:.1f} % -> {out / 'model'}"
    )
    write_report(report, out, out / "model")
    if install:
        target = install_checkpoint(out / "model", default_model_dir())
        console.print(f"installed as the default model: {target}")
    return report


def train_stage(
    config: str, steps: int | None, data: Path, output: Path, report: dict[str, Any]
) -> TrainResult:
    """``rt-grasp train --config CONFIG`` on ``data`` into ``output``; the ``TrainResult``.

    Adds the training time, steps, parameter count and final loss to ``report``.
    """
    from rt_grasp_ros.vlm.config import load_train_config
    from rt_grasp_ros.vlm.train import train

    overrides = [f"optim.max_steps={steps}"] if steps else []
    result = train(load_train_config(config, overrides), data, output)
    report["train_s"] = round(result.seconds, 1)
    report["steps"] = result.steps
    report["parameters"] = result.total_parameters
    report["final_loss"] = round(result.losses[-1][1], 4) if result.losses else None
    return result


def write_report(report: dict[str, Any], *folders: Path) -> None:
    """Write ``report`` as ``recipe.json`` into each of ``folders`` (the run and its model)."""
    text = json.dumps(report, indent=1) + "\n"
    for folder in folders:
        (folder / "recipe.json").write_text(text, encoding="utf-8")


def install_checkpoint(checkpoint: Path, target: Path) -> Path:
    """Copy what a shipped checkpoint keeps (:data:`SHIPPED_FILES`) from ``checkpoint``."""
    missing = [name for name in SHIPPED_FILES[:3] if not (checkpoint / name).exists()]
    if missing:
        raise ConfigError(f"{checkpoint} is not a trained checkpoint (missing {missing})")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in SHIPPED_FILES:
        source = checkpoint / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target
