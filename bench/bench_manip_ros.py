"""ManipLLM's pull through ROS vs in process: success rates and wall time per trial.

The same seeds and categories as ``rt-grasp manip evaluate --policy oracle`` (in process, the
baseline measured in this run): through ROS each trial resets the sim node to the articulated
scene of the seed (sim/reset articulated), takes the oracle contact (sim/scene_contact), runs
/impedance_adaptation on it and reads the part's joint (sim/part_state). Success is the
evaluation's: initial movement (> 0.01) and long distance (> 0.1), in m or rad.

The ROS path approaches from the arm's home pose through a via point (manip/operate.py); in
process the arm is placed at the start (the paper's flying gripper), so the rates may differ
where the way to the start matters. The sim runs at ``--realtime`` (sim s per wall s).

Run: .venv/bin/python bench/bench_manip_ros.py [--trials N] [--categories a,b,...]
Writes bench/results/manip_ros.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", "89")

import numpy as np
import rclpy

from rt_grasp_ros.manip.evaluate import EVAL_SEED, EvalConfig, evaluate_trial
from rt_grasp_ros.ros.bringup import Stack
from rt_grasp_ros.ros.clients import StackClient

CATEGORIES = ("drawer", "door", "microwave", "refrigerator", "sliding_door")
OUT = Path(__file__).parent / "results" / "manip_ros.json"


def in_process(categories, trials):
    """The baseline: evaluate_trial per (category, seed), with its wall time."""
    config = EvalConfig(categories=tuple(categories), trials=trials)
    rows = []
    for c in categories:
        for k in range(trials):
            start = time.perf_counter()
            r = evaluate_trial((c, EVAL_SEED + k), config)
            rows.append({**r, "wall": time.perf_counter() - start})
            print(f"in process {c} {EVAL_SEED + k}: {r['delta']:+.3f} {r['failure'] or ''}")
    return rows


def through_ros(categories, trials, realtime):
    """The same trials through the sim node and /impedance_adaptation."""
    arguments = {"task": "articulated", "category": categories[0], "seed": str(EVAL_SEED)}
    overrides = {"sim": {"realtime_factor": realtime, "camera_rate": 0.0}}
    rows = []
    with Stack(arguments, overrides, log=lambda line: None) as up:
        rclpy.init()
        client = StackClient("bench_manip_ros")
        try:
            for c in categories:
                for k in range(trials):
                    seed = EVAL_SEED + k
                    start = time.perf_counter()
                    client.reset(seed, c)
                    _, q0 = client.part_state()
                    contact = client.scene_contact()
                    result = client.manipulate(contact, None, 600.0)
                    _, q1 = client.part_state()
                    wall = time.perf_counter() - start
                    rows.append(
                        {
                            "category": c,
                            "seed": seed,
                            "delta": round(q1 - q0, 5),
                            "failure": result.failure or None,
                            "detail": result.message,
                            "initial": q1 - q0 > 0.01,
                            "long": q1 - q0 > 0.1,
                            "wall": wall,
                        }
                    )
                    print(f"ROS {c} {seed}: {q1 - q0:+.3f} {result.failure} ({wall:.0f} s)")
                    up.check()
        finally:
            client.close()
            rclpy.try_shutdown()
    return rows


def summary(rows, categories):
    out = {}
    for c in categories:
        mine = [r for r in rows if r["category"] == c]
        out[c] = {k: float(np.mean([r[k] for r in mine])) for k in ("initial", "long")}
    out["all"] = {k: float(np.mean([r[k] for r in rows])) for k in ("initial", "long")}
    out["wall_per_trial_s"] = float(np.mean([r["wall"] for r in rows]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    parser.add_argument("--realtime", type=float, default=0.7)
    args = parser.parse_args()
    categories = args.categories.split(",")
    base = in_process(categories, args.trials)
    ros = through_ros(categories, args.trials, args.realtime)
    result = {
        "trials_per_category": args.trials,
        "seeds": [EVAL_SEED, EVAL_SEED + args.trials - 1],
        "realtime_factor": args.realtime,
        "in_process": summary(base, categories),
        "ros": summary(ros, categories),
        "agree": [
            {
                "category": a["category"],
                "seed": a["seed"],
                "in_process": a["delta"],
                "ros": b["delta"],
                "same_long": a["long"] == b["long"],
            }
            for a, b in zip(base, ros, strict=True)
        ],
    }
    ratio = result["ros"]["wall_per_trial_s"] / result["in_process"]["wall_per_trial_s"]
    result["wall_ratio_ros_over_in_process"] = ratio
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("in_process", "ros")}, indent=1))
    print(
        f"wall per trial: ROS {result['ros']['wall_per_trial_s']:.1f} s, in process "
        f"{result['in_process']['wall_per_trial_s']:.1f} s ({ratio:.1f}x)"
    )


if __name__ == "__main__":
    main()
