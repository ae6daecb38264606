"""The demo on the embedded robot: see, reason, act.

1. Render a seeded scene with its ground-truth grasps.
2. Grasp at random: the floor of the scale.
3. Load the default model (a tiny LLaVA trained on simulator crops, shipped in the package;
   ``rt-grasp model reproduce`` rebuilds it) or the one given. Where the package holds no
   default model, train a small stand-in with the same pipeline and say so.
4. Bring the ROS 2 stack up (sim, camera, planner with the model, executor) and grasp through
   it: ground truth (the ceiling of the scale), then the model on each workspace crop, on
   scenes it never saw (new instances in new placements) and on scenes it trained on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from rt_grasp_ros.data.images import write_rgb
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.pipeline.default_model import Recipe, reproduce
from rt_grasp_ros.pipeline.trials import DemoTrial, InProcessTrials
from rt_grasp_ros.prompts.parser import mentioned_category
from rt_grasp_ros.sim.export import render_scene
from rt_grasp_ros.sim.objects import CATEGORIES
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.trials import TrialConfig, run_trials
from rt_grasp_ros.viz.overlay import tile
from rt_grasp_ros.vlm.default import DEFAULT_MODEL, resolve_model

UNSEEN_SEED = 5_000_000  # far from every seed the default model's data was rendered from
# Trained when the package ships no default model: the tiny config on 48 crops, a few minutes.
STAND_IN = Recipe(objects=24, views=2, folds=8, config="tiny", steps=1000)
STAND_IN_DIR = "stand-in"  # inside the demo's output folder
PANEL_PX = 240  # side of each picture in model_grasps.png


@dataclass(frozen=True)
class DemoOptions:
    """Size of the demo (the defaults take a few minutes on two CPU cores).

    Attributes:
        model: the grasp model (``default``: the shipped one).
        unseen: model trials on scenes it never saw (and oracle trials on the same scenes).
        trained: model trials on scenes it trained on (needs the model's ``recipe.json``).
        random_trials: random-grasp trials.
        seed: first unseen scene seed.
        stand_in: what to train when ``model`` is ``default`` and the package has none.
    """

    model: str = DEFAULT_MODEL
    unseen: int = 12
    trained: int = 6
    random_trials: int = 10
    seed: int = UNSEEN_SEED
    stand_in: Recipe = STAND_IN


def run_demo(
    out: Path, options: DemoOptions, console: Console, ros: bool = True
) -> dict[str, Any]:
    """Run every step, write pictures and ``summary.json`` / ``summary.md`` to ``out``.

    With ``ros``, the oracle and model trials run through the ROS 2 stack (the nodes of
    ``rt-grasp ros up``, over DDS); without, with the simulator in this process.
    """
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    summary: dict[str, Any] = {}

    console.rule("1. a seeded scene")
    record = render_scene(generate_scene(4, SceneConfig(n_objects=3)), out / "scene")
    console.print(
        f"rendered {', '.join(o['category'] for o in record['objects'])} "
        f"-> {out / 'scene' / 'overlay.png'}"
    )

    console.rule("2. random grasps (the floor of the scale)")
    random = run_trials(
        options.random_trials, TrialConfig(source="random"), seed=options.seed, progress=True
    )
    summary["random"] = random.to_json()
    console.print(f"random {random.successes}/{options.random_trials}")

    console.rule("3. the grasp model")
    model = _model(out, options, console)
    trained = trained_scenes(model, options.trained)
    console.print(f"{options.model}: {model}")
    summary["stand_in"] = model == out / STAND_IN_DIR / "model"

    unseen = [(options.seed + k, -1) for k in range(options.unseen)]
    console.rule(f"4. the model reasons and grasps ({'through ROS 2' if ros else 'in-process'})")
    panels, answers = [], []
    with _runner(model, ros, console) as runner:
        summary["oracle"] = _counts(
            [runner.oracle(*s) for s in tqdm(unseen, desc="oracle", leave=False)]
        )
        console.print(f"oracle: {summary['oracle']['successes']}/{len(unseen)}")
        for name, scenes in (("model_unseen", unseen), ("model_trained", trained)):
            trials = []
            for seed, view in tqdm(scenes, desc=name, leave=False):
                trials.append(runner.model(seed, view))
                if len(trials) <= 3:  # pictures of the first three of each kind
                    panels.append(_panel(trials[-1], name == "model_unseen"))
                    t = trials[-1]
                    answers.append((name, t.category, t.answer, t.success))
            summary[name] = _counts(trials)
    summary["through"] = "ROS 2" if ros else "in-process"
    summary["model"] = str(model)
    summary["answers"] = [
        {"set": s, "category": c, "answer": a, "lifted": ok} for s, c, a, ok in answers
    ]
    write_rgb(out / "model_grasps.png", tile(panels, 3))
    summary["seconds"] = round(time.perf_counter() - start, 1)
    _report(out, summary, console)
    return summary


def _model(out: Path, options: DemoOptions, console: Console) -> Path:
    """The model to grasp with; a stand-in trained here where the default one is missing."""
    try:
        return Path(resolve_model(options.model))
    except RtGraspError as exc:
        if options.model != DEFAULT_MODEL:
            raise
        console.print(f"{exc}.\nTraining a small stand-in with the same pipeline instead:")
    stand_in = out / STAND_IN_DIR
    reproduce(stand_in, options.stand_in, console)
    return stand_in / "model"


def trained_scenes(model: Path, n: int) -> list[tuple[int, int]]:
    """``n`` scenes ``(instance seed, view)`` of the model's training set, spread over it.

    Read from the ``recipe.json`` that ``rt-grasp model reproduce`` writes beside the
    checkpoint; none for a model without one.
    """
    path = model / "recipe.json"
    if n < 1 or not path.exists():
        return []
    recipe = json.loads(path.read_text(encoding="utf-8"))
    held_out = set(recipe.get("held_out_instances", []))
    first, count = recipe["recipe"]["seed"], recipe["recipe"]["objects"]
    seeds = [s for s in range(first, first + count) if f"sim{s}" not in held_out]
    step = max(1, len(seeds) // n)
    return [(seed, k % recipe["recipe"]["views"]) for k, seed in enumerate(seeds[::step][:n])]


@contextmanager
def _runner(model: Path, ros: bool, console: Console) -> Iterator[Any]:
    """The stack through ROS 2 (`rt-grasp ros up`'s nodes), or the simulator in-process."""
    if not ros:
        from rt_grasp_ros.vlm.predictor import GraspPredictor

        yield InProcessTrials(GraspPredictor.from_pretrained(model, dtype="float32"))
        return
    from rt_grasp_ros.ros.trials import RosTrials

    with RosTrials(model, log=lambda line: console.print(line, style="dim")) as runner:
        yield runner


def _counts(trials: list[DemoTrial]) -> dict[str, Any]:
    failures: dict[str, int] = {}
    for t in trials:
        if not t.success:
            failures[t.failure or "unknown"] = failures.get(t.failure or "unknown", 0) + 1
    out: dict[str, Any] = {
        "trials": len(trials),
        "successes": sum(t.success for t in trials),
        "failures": dict(sorted(failures.items())),
    }
    if any(t.answer for t in trials):
        out["object_named"] = sum(
            mentioned_category(t.answer, tuple(CATEGORIES)) == t.category for t in trials
        )
    return out


def _panel(trial: DemoTrial, unseen: bool) -> np.ndarray:
    """The crop the model saw, with its predicted grasp and what the robot made of it.

    Crops differ in size (object-centred): each is shown at :data:`PANEL_PX`, the grasp drawn
    as wide as the planner's opening (``OPENING_PX`` image pixels).
    """
    import cv2

    from rt_grasp_ros.grasp.rectangle import corners_from_params
    from rt_grasp_ros.planning.plan import OPENING_PX
    from rt_grasp_ros.viz.overlay import draw_grasps

    scale = PANEL_PX / trial.crop.shape[0]
    crop = cv2.resize(trial.crop, (PANEL_PX, PANEL_PX), interpolation=cv2.INTER_LINEAR)
    corners = None
    if trial.pose is not None:
        p, width = trial.pose, OPENING_PX * scale
        corners = corners_from_params(p.x * PANEL_PX, p.y * PANEL_PX, p.theta, width, width / 3)[
            None
        ]
    verdict = "lifted" if trial.success else "failed"
    placement = "unseen scene" if unseen else "trained scene"
    return draw_grasps(crop, None, corners, f"{trial.category}, {placement}: {verdict}")


def _report(out: Path, summary: dict[str, Any], console: Console) -> None:
    rows = [
        (f"ground-truth grasps (oracle, {summary['through']}), unseen scenes", summary["oracle"]),
        ("random grasps (in-process), unseen scenes", summary["random"]),
        ("the model, unseen scenes (new instances, new placements)", summary["model_unseen"]),
        ("the model, scenes it trained on", summary["model_trained"]),
    ]
    table = Table(title="Grasp success on the simulated Panda (lift 10 cm, hold 1 s)")
    for name in ("grasps from", "success", "object named"):
        table.add_column(name, justify="left" if name == "grasps from" else "right")
    lines = [
        "# rt_grasp demo",
        "",
        f"Model: `{summary['model']}`",
        "",
        *(
            [
                "(a stand-in trained by the demo: the package ships no default model; "
                "`rt-grasp model reproduce --install` builds one)",
                "",
            ]
            if summary.get("stand_in")
            else []
        ),
        "| grasps from | success | object named |",
        "| --- | --- | --- |",
    ]
    for name, r in rows:
        if not r["trials"]:
            continue
        cell = f"{r['successes']}/{r['trials']}"
        named = f"{r['object_named']}/{r['trials']}" if "object_named" in r else ""
        table.add_row(name, cell, named)
        lines.append(f"| {name} | {cell} | {named} |")
    oracle, model = summary["oracle"]["successes"], summary["model_unseen"]["successes"]
    ratio = f"{model / oracle:.2f}" if oracle else "n/a"
    console.print(table)
    console.print(f"model / oracle on the unseen scenes: {ratio}")
    lines += [
        "",
        f"Model / oracle on the unseen scenes: {ratio}.",
        "",
        "![model grasps](model_grasps.png)",
        "",
        "The model's answers in the pictures:",
        "",
    ]
    for a in summary["answers"]:
        verdict = "lifted" if a["lifted"] else "failed"
        where = a["set"].replace("model_", "")
        lines.append(f"- {a['category']} ({where} scene, {verdict}): {a['answer']}")
    lines += ["", f"Took {summary['seconds']} s."]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    console.print(
        f"pictures and summary in {out}/ (summary.md, model_grasps.png, scene/overlay.png)"
    )
