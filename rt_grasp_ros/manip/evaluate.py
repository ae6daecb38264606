"""ManipLLM's evaluation (paper Table 1): per-category success of a contact policy.

Each trial draws an object of the category from a seed (new instances: the default seeds start
at one million, far from the collection's), shows the policy the randomised view, executes its
contact pose and pulls with active impedance adaptation (or straight, the ablation). Success is
initial movement (the part moved more than 0.01) and long distance (more than 0.1), in metres
or radians. A prediction off the movable part is a failure and stays in the denominator (the
public ManipLLM script skips those trials, which inflates its rates). A model asked the chain
of thought also names the category; the share of trials named correctly is reported per split.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.policies import ModelPolicy, make_policy
from rt_grasp_ros.manip.scene import ViewRandomization, manip_scene
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.manip.trial import OFF_PART, PullConfig, execute_contact, on_movable_part
from rt_grasp_ros.sim.articulated import CATEGORIES, TEST_CATEGORIES, TRAIN_CATEGORIES
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World

EVAL_SEED = 1_000_000
SPLITS = {
    "train": TRAIN_CATEGORIES,
    "test": TEST_CATEGORIES,
    "all": TRAIN_CATEGORIES + TEST_CATEGORIES,
}


@dataclass(frozen=True)
class EvalConfig:
    """What is evaluated.

    Attributes:
        policy: ``oracle``, ``affordance``, ``random``, ``default`` (the shipped contact
            model ``manip-default``) or a model checkpoint.
        categories: the categories, or a split name (``train``, ``test``, ``all``).
        trials: trials per category.
        seed: first scene seed.
        pull: how contacts are executed (``pull.adaptive``: AIA or the straight ablation).
        view: the view randomisation.
        cot: a model policy asks the chain of thought (False: the pose prompt alone, "w/o
            CoT"); the baselines ignore it.
    """

    policy: str = "oracle"
    categories: tuple[str, ...] | str = "all"
    trials: int = 10
    seed: int = EVAL_SEED
    pull: PullConfig = field(default_factory=PullConfig)
    view: ViewRandomization = field(default_factory=ViewRandomization)
    cot: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.categories, str):
            if self.categories not in SPLITS:
                raise ConfigError(
                    f"EvalConfig.categories: unknown split {self.categories!r}; "
                    f"use {', '.join(SPLITS)} or category names"
                )
            object.__setattr__(self, "categories", SPLITS[self.categories])
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown or not self.categories:
            raise ConfigError(f"EvalConfig.categories: unknown {unknown} or none given")
        if self.trials < 1:
            raise ConfigError(f"EvalConfig.trials must be >= 1, got {self.trials}")


def evaluate_trial(job: tuple[str, int], config: EvalConfig) -> dict[str, Any]:
    """One trial of ``job = (category, seed)``: the record of its outcome."""
    category, seed = job
    start = time.perf_counter()
    factory = make_policy(config.policy, config.cot)
    instruction = load_task_formats().pose.questions[0]
    record: dict[str, Any] = {"category": category, "seed": seed, "delta": 0.0}
    with World(manip_scene(seed, category, config.view)) as world:
        robot = SimRobot(world)
        robot.wait(0.3)
        frame = world.render(segmentation=True)
        rng = np.random.default_rng([seed, 13])
        policy = factory(world, rng)
        try:
            contact = policy(frame, instruction)
        except RtGraspError as exc:
            return _done(_named(record, policy), "no prediction", str(exc), start)
        _named(record, policy)
        record["pixel"] = [round(contact.x, 1), round(contact.y, 1)]
        if not on_movable_part(world, frame, contact.x, contact.y):
            return _done(record, OFF_PART, "the contact pixel is not on the moving part", start)
        outcome = execute_contact(world, robot, frame, contact, config.pull, rng)
        record["delta"] = round(outcome.delta, 5)
        return _done(record, outcome.failure, outcome.detail, start)


def _named(record: dict[str, Any], policy: Any) -> dict[str, Any]:
    """Add what a model's chain of thought named to ``record``.

    ``named``: the name it gave (``cabinet``); ``named_categories``: the categories that name
    stands for (drawer, door, sliding door), which the trial's category must be among.
    """
    if isinstance(policy, ModelPolicy) and policy.last is not None and policy.last.cot:
        record["named"] = policy.last.named_category
        record["named_categories"] = list(policy.last.candidates)
    return record


def _done(record: dict[str, Any], failure: str | None, detail: str, start: float) -> dict:
    record.update(
        failure=failure,
        detail=detail,
        initial=record["delta"] > 0.01,
        long=record["delta"] > 0.1,
        wall_time=round(time.perf_counter() - start, 2),
    )
    return record


def evaluate(
    config: EvalConfig, workers: int = 1, progress: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every trial; the summary (:func:`summarize_eval`) and the trial records.

    Raises:
        RtGraspError: the policy cannot be made (e.g. a model checkpoint).
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    make_policy(config.policy, config.cot)  # fail before starting anything
    jobs = [(c, config.seed + k) for c in config.categories for k in range(config.trials)]
    job = partial(evaluate_trial, config=config)
    records = []
    bar = tqdm(total=len(jobs), desc=f"evaluate {config.policy}", disable=not progress)
    with process_pool(workers) as pool:
        for record in pool.imap_unordered(job, jobs) if pool is not None else map(job, jobs):
            records.append(record)
            bar.update()
    bar.close()
    records.sort(key=lambda r: (r["category"], r["seed"]))
    return summarize_eval(config, records), records


def summarize_eval(config: EvalConfig, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-category initial and long-distance success, train and test category means."""
    categories: dict[str, dict[str, Any]] = {}
    for name in config.categories:
        rows = [r for r in records if r["category"] == name]
        categories[name] = {
            "initial": round(float(np.mean([r["initial"] for r in rows])), 4) if rows else None,
            "long": round(float(np.mean([r["long"] for r in rows])), 4) if rows else None,
            "trials": len(rows),
            "split": CATEGORIES[name].split,
        }
    out: dict[str, Any] = {
        "policy": config.policy,
        "pull": "aia" if config.pull.adaptive else "straight",
        "cot": config.cot,
        "categories": categories,
    }
    for split in ("train", "test"):
        rows = [v for v in categories.values() if v["split"] == split and v["trials"]]
        out[split] = (
            {k: round(float(np.mean([v[k] for v in rows])), 4) for k in ("initial", "long")}
            if rows
            else None
        )
    out["category_named"] = _named_rates(records)
    out["failures"] = dict(sorted(Counter(r["failure"] for r in records if r["failure"]).items()))
    return out


def _named_rates(records: list[dict[str, Any]]) -> dict[str, float] | None:
    """Per split, the share of trials whose chain of thought named the category right.

    None for a policy that names no category (a baseline, or a model without the chain).
    """
    asked = [r for r in records if "named" in r]
    if not asked:
        return None
    rates = {}
    for split in ("train", "test"):
        rows = [r for r in asked if CATEGORIES[r["category"]].split == split]
        if rows:
            right = [r["category"] in r["named_categories"] for r in rows]
            rates[split] = round(float(np.mean(right)), 4)
    return rates
