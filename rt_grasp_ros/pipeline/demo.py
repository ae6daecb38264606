"""The demo on the embedded robot: see, learn to reason and grasp, act.

1. Render a seeded scene with its ground-truth grasps.
2. Grasp at random: the floor of the scale.
3. Render object instances from several placements into a Cornell-layout dataset.
4. Build the reasoning-tuning dataset and train the tiny model on the CPU.
5. Bring the ROS 2 stack up (sim, camera, planner with the model, executor) and grasp through
   it: ground truth (the ceiling of the scale), then the model on each workspace crop, on the
   placements it trained on and on new placements of the same objects.
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

from rt_grasp_ros.data.build import BuildConfig, build_dataset
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.images import write_rgb
from rt_grasp_ros.pipeline.trials import DemoTrial, InProcessTrials
from rt_grasp_ros.sim.export import export_cornell, render_scene
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.trials import TrialConfig, run_trials
from rt_grasp_ros.viz.overlay import tile

CONFIG = "tiny"  # the packaged training config (rt_grasp_ros/vlm/configs/tiny.yaml)


@dataclass(frozen=True)
class DemoOptions:
    """Size of the demo (the defaults take a few minutes on two CPU cores)."""

    objects: int = 12
    views: int = 4
    new_views: int = 1
    baseline_trials: int = 10
    seed: int = 500
    config: str | Path = CONFIG
    steps: int | None = None
    seen_stride: int = 1


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
        options.baseline_trials, TrialConfig(source="random"), seed=options.seed, progress=True
    )
    summary["random"] = random.to_json()
    console.print(f"random {random.successes}/{options.baseline_trials}")

    console.rule("3. a dataset from the simulator")
    cornell = out / "sim-cornell"
    stems = export_cornell(cornell, options.objects, options.views, options.seed)
    console.print(f"{len(stems)} workspace crops of {options.objects} objects -> {cornell}")

    console.rule("4. reasoning tuning (tiny model, CPU)")
    model = _train(out, cornell, options, console)

    console.rule(f"5. the model reasons and grasps ({'through ROS 2' if ros else 'in-process'})")
    with _runner(model, ros, console) as runner:
        summary["oracle"] = _run(
            "oracle",
            [(options.seed + k, -1) for k in range(options.baseline_trials)],
            runner.oracle,
            console,
        )
        panels, answers = [], []
        seen = [
            (options.seed + k, v) for k in range(options.objects) for v in range(options.views)
        ]
        new = [
            (options.seed + k, options.views + j)
            for k in range(options.objects)
            for j in range(options.new_views)
        ]
        for name, scenes in (("model_seen", seen[:: options.seen_stride]), ("model_new", new)):
            trials = []
            for seed, view in tqdm(scenes, desc=name, leave=False):
                trials.append(runner.model(seed, view))
                if len(trials) <= 3:  # pictures of the first three of each kind
                    panels.append(_panel(trials[-1], name == "model_new"))
                    t = trials[-1]
                    answers.append((name, t.category, t.answer, t.success))
            summary[name] = _counts(trials)
    summary["through"] = "ROS 2" if ros else "in-process"
    summary["answers"] = [
        {"set": s, "category": c, "answer": a, "lifted": ok} for s, c, a, ok in answers
    ]
    write_rgb(out / "model_grasps.png", tile(panels, 3))
    summary["seconds"] = round(time.perf_counter() - start, 1)
    _report(out, summary, console)
    return summary


def _train(out: Path, cornell: Path, options: DemoOptions, console: Console) -> Path:
    from rt_grasp_ros.vlm.config import load_train_config
    from rt_grasp_ros.vlm.train import train

    # The shipped templates: training draws each crop's instruction and reasoning anew every
    # epoch, so the model learns the grasps from the images alone.
    data = out / "data"
    samples = load_cornell(cornell)
    build_dataset(
        samples,
        data,
        BuildConfig(folds=1),
        {"kind": "cornell", "root": str(cornell)},
        progress=False,
    )
    overrides = [f"optim.max_steps={options.steps}"] if options.steps else []
    result = train(
        load_train_config(options.config, overrides), data, out / "model", progress=True
    )
    accuracy = 100 * result.validation[-1][1] if result.validation else float("nan")
    console.print(
        f"{result.steps} steps in {result.seconds:.0f} s; "
        f"rectangle-metric accuracy {accuracy:.0f} % "
        f"on its training crops -> {out / 'model'}"
    )
    return out / "model"


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


def _run(name: str, scenes: list, trial: Any, console: Console) -> dict[str, Any]:
    trials = [trial(seed, view) for seed, view in tqdm(scenes, desc=name, leave=False)]
    counts = _counts(trials)
    console.print(f"{name}: {counts['successes']}/{counts['trials']}")
    return counts


def _counts(trials: list[DemoTrial]) -> dict[str, Any]:
    failures: dict[str, int] = {}
    for t in trials:
        if not t.success:
            failures[t.failure or "unknown"] = failures.get(t.failure or "unknown", 0) + 1
    return {
        "trials": len(trials),
        "successes": sum(t.success for t in trials),
        "failures": dict(sorted(failures.items())),
    }


def _panel(trial: DemoTrial, new: bool) -> np.ndarray:
    """The crop the model saw, with its predicted grasp and what the robot made of it."""
    from rt_grasp_ros.grasp.rectangle import corners_from_params
    from rt_grasp_ros.viz.overlay import draw_grasps

    crop = trial.crop
    corners = None
    if trial.pose is not None:
        p = trial.pose
        corners = corners_from_params(p.x * crop.shape[1], p.y * crop.shape[0], p.theta, 45, 15)[
            None
        ]
    verdict = "lifted" if trial.success else "failed"
    placement = "new placement" if new else "trained placement"
    return draw_grasps(crop, None, corners, f"{trial.category}, {placement}: {verdict}")


def _report(out: Path, summary: dict[str, Any], console: Console) -> None:
    rows = [
        (f"ground-truth grasps (oracle, {summary['through']})", summary["oracle"]),
        ("random grasps (in-process)", summary["random"]),
        ("model, placements it trained on", summary["model_seen"]),
        ("model, new placements", summary["model_new"]),
    ]
    table = Table(title="Grasp success on the simulated Panda (lift 10 cm, hold 1 s)")
    table.add_column("grasps from")
    table.add_column("success", justify="right")
    lines = ["# rt_grasp demo", "", "| grasps from | success |", "| --- | --- |"]
    for name, r in rows:
        cell = f"{r['successes']}/{r['trials']}"
        table.add_row(name, cell)
        lines.append(f"| {name} | {cell} |")
    console.print(table)
    lines += [
        "",
        "![model grasps](model_grasps.png)",
        "",
        "The model's answers in the pictures:",
        "",
    ]
    for a in summary["answers"]:
        verdict = "lifted" if a["lifted"] else "failed"
        lines.append(
            f"- {a['category']} ({a['set'].replace('model_', '')} placement, {verdict}): "
            f"{a['answer']}"
        )
    lines += ["", f"Took {summary['seconds']} s."]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    console.print(
        f"pictures and summary in {out}/ (summary.md, model_grasps.png, scene/overlay.png)"
    )
