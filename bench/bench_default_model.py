"""The default model against the oracle on scenes it never saw, executed by the simulated robot.

Same seeds for every source (new object instances in new placements: seeds far from the
ones the model's data was rendered from), so the ratio model / oracle is measured in one run:
- oracle: a ground-truth grasp (the ceiling);
- model: the model's grasp on the workspace crop (and whether its reasoning named the object);
- random: a uniformly random grasp in the crop (the floor).
Also prints the rectangle-metric accuracy on held-out crops recorded by `model reproduce`.

Run: .venv/bin/python bench/bench_default_model.py [--n 60] [--seed 5000000] [--model default]
[--workers 2] (the trials run in that many spawned processes, a model in each that needs one)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

from rt_grasp_ros.pipeline.trials import model_trial
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.trials import TrialConfig, TrialResult, TrialSummary, run_trial
from rt_grasp_ros.vlm.default import resolve_model
from rt_grasp_ros.vlm.predictor import GraspPredictor

SOURCES = ("oracle", "model", "random")
_TRIAL = {}  # per worker process: the model trial, with its model loaded once


def run_chunk(job: tuple[str, str, list[int]]) -> tuple[str, list[TrialResult], float]:
    """Trials of one source on some seeds (in a worker process)."""
    source, model, seeds = job
    start = time.perf_counter()
    if source == "model" and "model" not in _TRIAL:
        _TRIAL["model"] = model_trial(GraspPredictor.from_pretrained(model, dtype="float32"))
    trial = _TRIAL["model"] if source == "model" else run_trial
    results = [trial(s, TrialConfig(source=source)) for s in seeds]
    return source, results, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="unseen scenes")
    parser.add_argument("--seed", type=int, default=5_000_000, help="first scene seed")
    parser.add_argument("--model", default="default")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--workers", type=int, default=2, help="trial processes")
    args = parser.parse_args()
    model = Path(resolve_model(args.model))
    seeds = list(range(args.seed, args.seed + args.n))
    step = max(1, args.n // 6)
    jobs = [(s, str(model), seeds[k : k + step]) for s in SOURCES for k in range(0, args.n, step)]
    results: dict[str, list[TrialResult]] = {s: [] for s in SOURCES}
    seconds = dict.fromkeys(SOURCES, 0.0)
    with process_pool(args.workers) as pool:
        done = pool.imap(run_chunk, jobs) if pool is not None else map(run_chunk, jobs)
        for k, (source, chunk_results, wall) in enumerate(done, start=1):
            results[source] += chunk_results
            seconds[source] += wall
            print(f"  {k}/{len(jobs)} chunks ({source}: {len(results[source])}/{args.n})")
    rows = {}
    for source in SOURCES:
        ordered = sorted(results[source], key=lambda r: r.seed)
        rows[source] = TrialSummary(TrialConfig(source=source), ordered).to_json()
        rows[source]["wall_s"] = round(seconds[source], 1)  # summed over the workers
    oracle, ours = rows["oracle"]["successes"], rows["model"]["successes"]
    print(f"\n{args.n} unseen scenes (seeds {args.seed}..{args.seed + args.n - 1}), {model}:")
    for source, r in rows.items():
        named = f", object named {r['object_named']}/{r['trials']}" if "object_named" in r else ""
        print(f"  {source:7s} {r['successes']:3d}/{r['trials']} lifted{named}  ({r['wall_s']} s)")
    print(f"  model / oracle: {ours / oracle:.2f}" if oracle else "  oracle lifted none")
    print("  per category (model / oracle):")
    for name, m in rows["model"]["per_category"].items():
        o = rows["oracle"]["per_category"][name]
        print(f"    {name:12s} {m['successes']}/{m['trials']}  vs  {o['successes']}/{o['trials']}")
    recipe = model / "recipe.json"
    if recipe.exists():
        held = json.loads(recipe.read_text())["held_out_accuracy"]
        curve = ", ".join(f"{h['step']}: {100 * h['accuracy']:.0f} %" for h in held)
        print(f"  rectangle-metric accuracy on held-out crops by step: {curve}")
        rows["held_out_accuracy"] = held
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
