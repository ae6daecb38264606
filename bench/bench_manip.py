"""ManipLLM on the embedded robot: collection throughput, AIA against the straight pull, and
the evaluation of the baselines (the paper's Table 1 layout).

    python bench/bench_manip.py collect --n 60 --workers 2 --profile 6
    python bench/bench_manip.py aia --seeds 3
    python bench/bench_manip.py evaluate --trials 10 --workers 2 --policies oracle random
    python bench/bench_manip.py heldout --model default --data runs/manip-validation
    python bench/bench_manip.py join A.json B.json --json AB.json   # batches of evaluate

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

from rt_grasp_ros.manip.collect import CollectConfig, collect, collect_sample
from rt_grasp_ros.manip.dataset import ATTEMPTS
from rt_grasp_ros.manip.evaluate import EvalConfig, evaluate
from rt_grasp_ros.manip.policies import oracle_policy
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.manip.trial import PullConfig, execute_contact
from rt_grasp_ros.sim.articulated import ARTICULATED, CATEGORIES
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World


def bench_collect(args: argparse.Namespace) -> dict:
    """Both tools on the same seeds and workers: successful samples/s, ratio, agreement."""
    seeds = range(args.seed, args.seed + args.n)
    runs = {}
    for tool in args.tools:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            manifest = collect(seeds, CollectConfig(tool=tool), Path(tmp), args.workers)
            wall = time.perf_counter() - start
            records = [json.loads(line) for line in (Path(tmp) / ATTEMPTS).open()]
        manifest["successes_per_s"] = round(manifest["successes"] / wall, 3)
        manifest["bench_wall_s"] = round(wall, 2)
        runs[tool] = {"manifest": manifest, "records": records}  # records: not in --json
        print(
            f"{tool:6s}: {manifest['attempts']} attempts in {wall:.1f} s with {args.workers} "
            f"workers: {manifest['attempts'] / wall:.3f} attempts/s, "
            f"{manifest['successes_per_s']:.3f} successful samples/s; success ratio "
            f"{100 * manifest['success_ratio']:.1f} %; failures {manifest['failures']}"
        )
    manifests = {tool: run["manifest"] for tool, run in runs.items()}
    result: dict = {"seeds": [seeds.start, seeds.stop], "workers": args.workers, "runs": manifests}
    if {"arm", "flying"} <= set(runs):
        arm, fly = (manifests[t]["successes_per_s"] for t in ("arm", "flying"))
        result["ratio"] = round(fly / arm, 2) if arm > 0 else None
        print(f"flying / arm successful samples/s: {result['ratio']}x (target >= 10x)")
        result["agreement"] = agreement(runs["arm"]["records"], runs["flying"]["records"])
        print_agreement(result["agreement"])
    if args.profile:
        result["breakdown"] = {t: breakdown(t, args.profile, args.seed) for t in args.tools}
    return result


ARM_LIMITS = ("unreachable", "would collide")  # failures only the arm has


def agreement(arm: list[dict], flying: list[dict]) -> dict:
    """How often the two tools' labels agree on the same seeds (and contacts).

    Over all seeds, and over those where the contact was the same and the arm could start
    the pull (its reach and collisions are what the flying cup does not model).
    """
    pairs = [(a, f) for a, f in zip(arm, flying, strict=True) if a["seed"] == f["seed"]]
    same_contact = [(a, f) for a, f in pairs if a.get("contact") == f.get("contact")]
    reached = [(a, f) for a, f in same_contact if a.get("failure") not in ARM_LIMITS]
    deltas = [abs(a["delta"] - f["delta"]) for a, f in reached if "delta" in a and "delta" in f]
    differ = [
        {k: r.get(k) for k in ("seed", "category", "success", "delta", "failure", "detail")}
        | {"flying": {k: f.get(k) for k in ("success", "delta", "failure", "detail")}}
        for r, f in pairs
        if r["success"] != f["success"]
    ]

    def share(rows: list) -> float | None:
        return (
            round(sum(a["success"] == f["success"] for a, f in rows) / len(rows), 3)
            if rows
            else None
        )

    return {
        "seeds": len(pairs),
        "same_contact": len(same_contact),
        "success_agree_all": share(pairs),
        "arm_reached": len(reached),
        "success_agree_reached": share(reached),
        "delta_abs_diff_median": round(float(np.median(deltas)), 4) if deltas else None,
        "delta_abs_diff_p90": round(float(np.percentile(deltas, 90)), 4) if deltas else None,
        "delta_within_1cm": round(float(np.mean(np.array(deltas) < 0.01)), 3) if deltas else None,
        "arm_limit_failures": sum(a.get("failure") in ARM_LIMITS for a, _ in pairs),
        "disagreements": differ,
    }


def print_agreement(a: dict) -> None:
    print(
        f"agreement on {a['seeds']} seeds ({a['same_contact']} with the same contact): success "
        f"labels agree {a['success_agree_all']} of all; where the arm could start the pull "
        f"({a['arm_reached']}): {a['success_agree_reached']}; |delta| difference median "
        f"{a['delta_abs_diff_median']}, p90 {a['delta_abs_diff_p90']}, "
        f"< 1 cm (or 0.01 rad) {a['delta_within_1cm']}"
    )
    for d in a["disagreements"]:
        f = d["flying"]
        print(
            f"  seed {d['seed']} {d['category']}: arm {d['success']} {d['failure']} "
            f"{d.get('delta')} | flying {f['success']} {f['failure']} {f.get('delta')}"
        )


# Where a sample's time goes: (label, file, function) of the profile's cumulative times.
PHASES = (
    ("scene + model", "sim/world.py", "__init__"),
    ("renderer start", "sim/camera.py", "__init__"),
    ("render", "sim/camera.py", "render"),
    ("IK (arm's start)", "sim/ik.py", "check_reachable"),
    ("physics steps", "sim/robot.py", "step"),
    ("physics steps", "sim/flying.py", "step"),
    ("contact execution", "manip/trial.py", "execute_contact"),
    ("write sample", "manip/dataset.py", "write_sample"),
    ("attempt", "manip/collect.py", "collect_sample"),
)


def breakdown(tool: str, n: int, first: int) -> dict:
    """Milliseconds per attempt in each phase, from a profile of ``n`` attempts in-process."""
    import cProfile
    import pstats

    config = CollectConfig(tool=tool)
    with tempfile.TemporaryDirectory() as tmp:
        collect_sample(first + 10_000, config, None)  # imports and the GL context
        profile = cProfile.Profile()
        profile.enable()
        for seed in range(first, first + n):
            collect_sample(seed, config, Path(tmp))
        profile.disable()
    stats = pstats.Stats(profile).stats
    out: dict[str, float] = {}
    for label, file, name in PHASES:
        cum = sum(v[3] for (f, _, fn), v in stats.items() if f.endswith(file) and fn == name)
        if cum:
            out[label] = round(out.get(label, 0.0) + 1000 * cum / n, 1)
    print(f"{tool} ms per attempt (cProfile, {n} attempts, nested):", out)
    return out


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
    from rt_grasp_ros.cli.manip_cmd import _categories, table_1

    results: dict = {}
    for policy in args.policies:
        config = EvalConfig(
            policy=policy,
            categories=_categories(args.categories),
            trials=args.trials,
            seed=args.seed,
            pull=PullConfig(adaptive=not args.no_aia),
        )
        start = time.perf_counter()
        summary, records = evaluate(config, args.workers)
        summary["wall_s"] = round(time.perf_counter() - start, 1)
        results[policy] = summary | {"records": records}
        for split in ("train", "test"):
            table = table_1(summary, split)
            if table is not None:
                console().print(table)
        print("failures:", summary["failures"], f"({summary['wall_s']} s)")
        if summary.get("category_named"):
            print("category named:", summary["category_named"])
        results["against_oracle"] = against_oracle(results)
        if args.json:  # after each policy, so that a long run keeps what it measured
            args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return results


def against_oracle(results: dict) -> dict:
    """Each policy's split means as a share of the oracle's on the same seeds."""
    oracle = results.get("oracle")
    if oracle is None:
        return {}
    out = {}
    for policy, summary in results.items():
        if policy in ("oracle", "against_oracle"):
            continue
        out[policy] = {
            split: {
                k: round(summary[split][k] / oracle[split][k], 3) if oracle[split][k] else None
                for k in ("initial", "long")
            }
            for split in ("train", "test")
            if summary.get(split) and oracle.get(split)
        }
    return out


def bench_join(args: argparse.Namespace) -> dict:
    """Join ``evaluate`` batches on other seeds: each policy's trials, summarised again."""
    from rt_grasp_ros.manip.evaluate import summarize_eval

    batches = [json.loads(path.read_text(encoding="utf-8")) for path in args.files]
    results: dict = {}
    for policy in dict.fromkeys(p for b in batches for p in b if p != "against_oracle"):
        parts = [b[policy] for b in batches if policy in b]
        records = [r for part in parts for r in part["records"]]
        seeds = sorted({r["seed"] for r in records})
        config = EvalConfig(
            policy=policy,
            categories=tuple(dict.fromkeys(r["category"] for r in records)),
            pull=PullConfig(adaptive=parts[0]["pull"] == "aia"),
        )
        summary = summarize_eval(config, records)
        summary |= {"seeds": [seeds[0], seeds[-1]], "wall_s": sum(p["wall_s"] for p in parts)}
        results[policy] = summary | {"records": records}
        print(policy, summary["train"], summary["test"], summary.get("category_named"))
    results["against_oracle"] = against_oracle(results)
    print(results["against_oracle"])
    return results


def bench_heldout(args: argparse.Namespace) -> dict:
    """A model's chain of thought on a collection it was not trained on (no robot).

    Per sample: whether the contact pixel lands on the moving part, whether the category
    named stands for the sample's, and the angle between the answered up direction and the
    surface's inward normal (the collection's up, which is that normal plus noise).
    """
    import cv2

    from rt_grasp_ros.data.images import read_rgb
    from rt_grasp_ros.manip.dataset import load_samples
    from rt_grasp_ros.manip.policies import DEFAULT_POLICY
    from rt_grasp_ros.manip.predictor import ContactPredictor
    from rt_grasp_ros.vlm.default import MANIP_DEFAULT_MODEL

    model = MANIP_DEFAULT_MODEL if args.model == DEFAULT_POLICY else args.model
    predictor = ContactPredictor.from_pretrained(model, dtype="float32", device="cpu")
    rows = []
    for meta in load_samples(args.data):
        d = args.data / Path(meta["image"]).parent
        mask = cv2.imread(str(d / "mask.png"), cv2.IMREAD_UNCHANGED)
        answer = predictor.predict(read_rgb(d / "rgb.png"))
        row = {"seed": meta["seed"], "category": meta["category"], "parsed": answer.ok}
        row["named_right"] = meta["category"] in answer.candidates
        if answer.ok:
            c = answer.contact
            x, y = int(c.x), int(c.y)
            inside = 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]
            row["on_part"] = bool(inside and mask[y, x] == 2)
            cos = float(np.clip(np.dot(c.up, meta["contact"]["up_camera"]), -1.0, 1.0))
            row["up_error_deg"] = round(float(np.degrees(np.arccos(cos))), 1)
        rows.append(row)
    parsed = [r for r in rows if r["parsed"]]
    summary = {
        "model": str(model),
        "samples": len(rows),
        "parsed": len(parsed),
        "on_part": round(float(np.mean([r.get("on_part", False) for r in rows])), 3),
        "named_right": round(float(np.mean([r["named_right"] for r in rows])), 3),
        "up_error_median_deg": float(np.median([r["up_error_deg"] for r in parsed]))
        if parsed
        else None,
        "chance_on_part": round(float(np.mean([_part_share(args.data, r) for r in rows])), 3),
    }
    print(json.dumps(summary, indent=1))
    return summary | {"samples_detail": rows}


def _part_share(folder: Path, row: dict) -> float:
    """The share of the image the moving part covers (a uniform pixel's chance)."""
    import cv2

    from rt_grasp_ros.manip.dataset import sample_dir

    mask = cv2.imread(str(sample_dir(folder, row["seed"]) / "mask.png"), cv2.IMREAD_UNCHANGED)
    return float((mask == 2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--n", type=int, default=60)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--tools", nargs="+", choices=("arm", "flying"), default=["arm", "flying"])
    c.add_argument("--profile", type=int, default=0, help="profile this many attempts per tool")
    a = sub.add_parser("aia")
    a.add_argument("--seeds", type=int, default=3)
    a.add_argument("--seed", type=int, default=2_000_000)
    e = sub.add_parser("evaluate")
    e.add_argument("--trials", type=int, default=10)
    e.add_argument("--seed", type=int, default=1_000_000)
    e.add_argument(
        "--policies",
        nargs="+",
        default=["oracle", "affordance", "random"],
        help="baselines, default (the shipped manip-default) or checkpoints",
    )
    e.add_argument("--categories", nargs="+", default=["all"], metavar="CATEGORY")
    e.add_argument("--no-aia", action="store_true")
    h = sub.add_parser("heldout")
    h.add_argument("--model", default="default", help="default (manip-default) or a checkpoint")
    h.add_argument("--data", type=Path, required=True, help="a collection the model never saw")
    h.add_argument("--json", type=Path, help="write the numbers to this file")
    j = sub.add_parser("join")
    j.add_argument("files", type=Path, nargs="+", help="evaluate --json files")
    j.add_argument("--json", type=Path, help="write the joined numbers to this file")
    for p in (c, a, e):
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--json", type=Path, help="write the numbers to this file")
    args = parser.parse_args()
    run = {
        "collect": bench_collect,
        "aia": bench_aia,
        "evaluate": bench_evaluate,
        "heldout": bench_heldout,
        "join": bench_join,
    }[args.what]
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
