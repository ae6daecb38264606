"""ManipLLM on the embedded robot: collection throughput, AIA against the straight pull, and
the evaluation of the baselines (the paper's Table 1 layout).

    python bench/bench_manip.py collect --n 60 --workers 2
    python bench/bench_manip.py aia --seeds 3
    python bench/bench_manip.py evaluate --trials 10 --workers 2 --policies oracle random

Each prints a table and, with --json FILE, writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np

from rt_grasp_ros.manip.collect import CollectConfig, collect
from rt_grasp_ros.manip.evaluate import EvalConfig, evaluate
from rt_grasp_ros.manip.policies import oracle_policy
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.manip.trial import PullConfig, execute_contact
from rt_grasp_ros.sim.articulated import ARTICULATED, CATEGORIES
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World


def bench_collect(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = collect(
            range(args.seed, args.seed + args.n),
            CollectConfig(),
            Path(tmp),
            args.workers,
            progress=True,
        )
        wall = time.perf_counter() - start
    print(
        f"{manifest['attempts']} attempts in {wall:.0f} s with {args.workers} workers: "
        f"{manifest['attempts'] / wall:.3f} attempts/s, {manifest['successes'] / wall:.3f} "
        f"successful samples/s; success ratio {100 * manifest['success_ratio']:.1f} %"
    )
    for name, c in manifest["per_category"].items():
        print(f"  {name:15s} {c['successes']:3d}/{c['attempts']:3d}")
    print("  failures:", manifest["failures"])
    return manifest


def pull(job: tuple[str, int, bool]) -> dict:
    category, seed, adaptive = job
    start = time.perf_counter()
    with World(manip_scene(seed, category)) as world:
        robot = SimRobot(world)
        robot.wait(0.3)
        frame = world.render(segmentation=True)
        contact = oracle_policy(world, np.random.default_rng(0))(frame, "")
        rng = np.random.default_rng([seed, 13])
        out = execute_contact(world, robot, frame, contact, PullConfig(adaptive=adaptive), rng)
    return {
        "category": category,
        "seed": seed,
        "adaptive": adaptive,
        "delta": out.delta,
        "failure": out.failure,
        "detail": out.detail,
        "wall_time": time.perf_counter() - start,
    }


def bench_aia(args: argparse.Namespace) -> dict:
    jobs = [
        (c, args.seed + k, a)
        for c in ARTICULATED
        for k in range(args.seeds)
        for a in (True, False)
    ]
    with process_pool(args.workers) as pool:
        rows = list(pool.imap_unordered(pull, jobs) if pool else map(pull, jobs))
    out = {}
    print(
        f"{'category':15s} {'type':10s} {'AIA':>7s} {'straight':>9s}  (mean joint motion, "
        f"m or rad, {args.seeds} seeds)"
    )
    for c in ARTICULATED:
        aia = [r["delta"] for r in rows if r["category"] == c and r["adaptive"]]
        straight = [r["delta"] for r in rows if r["category"] == c and not r["adaptive"]]
        out[c] = {"part_type": CATEGORIES[c].part_type, "aia": aia, "straight": straight}
        print(
            f"{c:15s} {CATEGORIES[c].part_type:10s} {np.mean(aia):7.3f} {np.mean(straight):9.3f}"
        )
    return {"per_category": out, "trials": rows}


def bench_evaluate(args: argparse.Namespace) -> dict:
    from rt_grasp_ros.cli.common import console
    from rt_grasp_ros.cli.manip_cmd import table_1

    results = {}
    for policy in args.policies:
        config = EvalConfig(
            policy=policy,
            categories="all",
            trials=args.trials,
            seed=args.seed,
            pull=PullConfig(adaptive=not args.no_aia),
        )
        start = time.perf_counter()
        summary, records = evaluate(config, args.workers)
        summary["wall_s"] = round(time.perf_counter() - start, 1)
        results[policy] = summary | {"records": records}
        for split in ("train", "test"):
            console().print(table_1(summary, split))
        print("failures:", summary["failures"], f"({summary['wall_s']} s)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--n", type=int, default=60)
    c.add_argument("--seed", type=int, default=0)
    a = sub.add_parser("aia")
    a.add_argument("--seeds", type=int, default=3)
    a.add_argument("--seed", type=int, default=2_000_000)
    e = sub.add_parser("evaluate")
    e.add_argument("--trials", type=int, default=10)
    e.add_argument("--seed", type=int, default=1_000_000)
    e.add_argument("--policies", nargs="+", default=["oracle", "affordance", "random"])
    e.add_argument("--no-aia", action="store_true")
    for p in (c, a, e):
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--json", type=Path, help="write the numbers to this file")
    args = parser.parse_args()
    run = {"collect": bench_collect, "aia": bench_aia, "evaluate": bench_evaluate}[args.what]
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
