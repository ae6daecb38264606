"""Reproduce the shipped contact model ``manip-default`` from nothing: collect, build, train.

``rt-grasp manip reproduce --out runs/manip-default`` runs the commands a user would run, in
one go, through the grasp model's stages (:mod:`rt_grasp_ros.pipeline.default_model`):

1. ``rt-grasp manip collect``: the paper's random pulls on the training categories (the
   flying cup by default), in parallel processes, which also builds the task file;
2. ``rt-grasp train --config manip-default`` on that folder;
3. with ``--install``, copy the checkpoint into the package, where ``manip-default`` (and
   ``rt-grasp manip evaluate --policy default``) finds it.

The collection's seeds stay below the evaluation's (``manip.evaluate.EVAL_SEED``), so that
``rt-grasp manip evaluate`` always sees instances the model never saw.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.collect import CollectConfig
from rt_grasp_ros.manip.dataset import MANIFEST, TASKS_FILE
from rt_grasp_ros.manip.evaluate import EVAL_SEED, SPLITS
from rt_grasp_ros.pipeline.default_model import install_checkpoint, train_stage, write_report
from rt_grasp_ros.vlm import default
from rt_grasp_ros.vlm.default import MANIP_DEFAULT_CONFIG, MANIP_DEFAULT_MODEL


@dataclass(frozen=True)
class ManipRecipe:
    """What the contact model is trained on and how.

    Attributes:
        attempts: collection attempts (seeds ``seed .. seed + attempts - 1``); about two in
            three succeed and become samples.
        seed: first collection seed.
        categories: a split name (``train``, ``test``, ``all``) or category names.
        tool: the collection's tool (``flying`` or ``arm``, :class:`CollectConfig`).
        workers: collection processes.
        config: the training config (a packaged name or a YAML file).
        steps: training steps (None: the config's).
    """

    attempts: int = 2400
    seed: int = 0
    categories: tuple[str, ...] | str = "train"
    tool: str = "flying"
    workers: int = 2
    config: str = MANIP_DEFAULT_CONFIG
    steps: int | None = None

    def __post_init__(self) -> None:
        for name in ("attempts", "workers"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"ManipRecipe.{name} must be at least 1, got {getattr(self, name)}"
                )
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"ManipRecipe.steps must be at least 1 or None, got {self.steps}")
        if self.seed < 0 or self.seed + self.attempts > EVAL_SEED:
            raise ConfigError(
                f"ManipRecipe.seed: the seeds {self.seed}..{self.seed + self.attempts - 1} must "
                f"lie in 0..{EVAL_SEED - 1}, below the evaluation's"
            )
        if isinstance(self.categories, str) and self.categories not in SPLITS:
            raise ConfigError(
                f"ManipRecipe.categories: unknown split {self.categories!r}; use "
                f"{', '.join(SPLITS)} or category names"
            )
        self.collect_config()  # validates the categories and the tool

    def collect_config(self) -> CollectConfig:
        """The collection's configuration."""
        names = self.categories
        return CollectConfig(
            categories=SPLITS[names] if isinstance(names, str) else tuple(names), tool=self.tool
        )


def reproduce_manip(
    out: Path, recipe: ManipRecipe, console: Console, install: bool = False
) -> dict[str, Any]:
    """Collect and train into ``out``; returns (and writes) ``out/recipe.json``.

    A collection already in ``out/collection`` from the same seeds, categories and tool is
    reused (a rerun trains again); one from others is refused.
    """
    from rt_grasp_ros.manip.collect import collect

    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"model": MANIP_DEFAULT_MODEL, "recipe": asdict(recipe)}
    folder = out / "collection"
    console.rule("1. collection (and the task file)")
    if (folder / MANIFEST).exists() and (folder / TASKS_FILE).exists():
        manifest = _reusable(folder, recipe)
        console.print(f"{folder} holds this recipe's collection: reusing it")
    else:
        seeds = range(recipe.seed, recipe.seed + recipe.attempts)
        manifest = collect(seeds, recipe.collect_config(), folder, recipe.workers)
    report["collection"] = {
        k: manifest.get(k)
        for k in ("attempts", "successes", "success_ratio", "wall_s", "samples_per_s")
    }
    console.print(
        f"{manifest['successes']}/{manifest['attempts']} successful samples "
        f"({manifest['wall_s']} s with {manifest['workers']} workers)"
    )

    console.rule("2. training")
    train_stage(recipe.config, recipe.steps, folder, out / "model", report)
    console.print(
        f"{report['steps']} steps in {report['train_s'] / 60:.1f} min, final loss "
        f"{report['final_loss']} -> {out / 'model'}"
    )
    write_report(report, out, out / "model")
    if install:
        target = install_checkpoint(out / "model", default.default_model_dir(MANIP_DEFAULT_MODEL))
        console.print(f"installed as {MANIP_DEFAULT_MODEL}: {target}")
    return report


def _reusable(folder: Path, recipe: ManipRecipe) -> dict[str, Any]:
    """The manifest of ``folder`` if it was collected by ``recipe``.

    Raises:
        ConfigError: it was collected from other seeds, categories or tool.
    """
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    config = recipe.collect_config()
    want = {
        "seeds": [recipe.seed, recipe.seed + recipe.attempts],
        "categories": list(config.categories),
        "tool": config.tool,
    }
    got = {
        "seeds": manifest.get("seeds"),
        "categories": manifest.get("config", {}).get("categories"),
        "tool": manifest.get("config", {}).get("tool"),
    }
    if got != want:
        raise ConfigError(
            f"{folder} was collected with {got}, not this recipe's {want}; "
            "use another --out or remove it"
        )
    return manifest
