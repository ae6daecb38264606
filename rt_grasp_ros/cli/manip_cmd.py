"""``rt-grasp manip``: ManipLLM's collection, merging, evaluation, pictures, reproduction."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from rt_grasp_ros.cli.common import console, print_json
from rt_grasp_ros.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``manip`` command group."""
    parser = subparsers.add_parser(
        "manip", help="ManipLLM on the embedded robot: collect, merge, evaluate, render"
    )
    sub = parser.add_subparsers(dest="manip_command", required=True)

    collect = sub.add_parser("collect", help="collect pulling samples (the paper's procedure)")
    collect.add_argument("--out", type=Path, required=True, help="output folder")
    collect.add_argument("--n", type=int, default=100, help="attempts (seeds) in all shards")
    collect.add_argument("--seed", type=int, default=0, help="first seed")
    collect.add_argument("--categories", nargs="+", default=["train"], metavar="CATEGORY")
    collect.add_argument("--workers", type=int, default=1, help="parallel processes")
    collect.add_argument("--shard", metavar="i/N", help="run shard i of N of the seed range")
    collect.add_argument(
        "--tool",
        choices=("flying", "arm"),
        default="flying",
        help="the free-flying suction cup (fast, the paper's) or the Panda with the cup",
    )
    collect.add_argument("--json", action="store_true", help="print the manifest as JSON")
    collect.set_defaults(func=run_collect)

    merge = sub.add_parser("merge", help="join shard folders and build the task file")
    merge.add_argument("shards", type=Path, nargs="+", help="shard folders")
    merge.add_argument("--out", type=Path, required=True)
    merge.add_argument("--json", action="store_true")
    merge.set_defaults(func=run_merge)

    evaluate = sub.add_parser("evaluate", help="per-category success (the paper's Table 1)")
    evaluate.add_argument(
        "--policy",
        default="oracle",
        help="oracle, affordance, random, default (the shipped manip-default model) or a "
        "model checkpoint",
    )
    evaluate.add_argument("--categories", nargs="+", default=["all"], metavar="CATEGORY")
    evaluate.add_argument("--trials", type=int, default=10, help="trials per category")
    evaluate.add_argument("--seed", type=int, default=1_000_000, help="first scene seed")
    evaluate.add_argument("--no-aia", action="store_true", help="pull straight (the ablation)")
    evaluate.add_argument(
        "--no-cot",
        action="store_true",
        help="a model policy asks the pose prompt alone, without the chain of thought",
    )
    evaluate.add_argument("--workers", type=int, default=1)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--details", action="store_true", help="with --json: every trial")
    evaluate.set_defaults(func=run_evaluate)

    again = sub.add_parser(
        "reproduce",
        help="rebuild the shipped contact model manip-default: collect, build, train, install",
    )
    again.add_argument("--out", type=Path, default=Path("runs/manip-default"))
    again.add_argument("--attempts", type=int, default=2400, help="collection attempts (seeds)")
    again.add_argument("--seed", type=int, default=0, help="first collection seed")
    again.add_argument("--categories", nargs="+", default=["train"], metavar="CATEGORY")
    again.add_argument("--tool", choices=("flying", "arm"), default="flying")
    again.add_argument("--workers", type=int, default=2, help="collection processes")
    again.add_argument("--config", default="manip-default", help="training config (name or YAML)")
    again.add_argument("--steps", type=int, help="training steps (default: the config's)")
    again.add_argument(
        "--install", action="store_true", help="make the result the package's manip-default"
    )
    again.set_defaults(func=run_reproduce)

    render = sub.add_parser("render", help="picture of every category and its affordance map")
    render.add_argument("--out", type=Path, required=True, help="PNG file")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--size", type=int, default=180, help="tile size (px)")
    render.add_argument(
        "--policy",
        help="instead: this policy's contact points and directions, one scene per category "
        "(seeds from --seed; default: the shipped manip-default)",
    )
    render.add_argument("--categories", nargs="+", default=["all"], metavar="CATEGORY")
    render.set_defaults(func=run_render)


def _categories(names: list[str]) -> tuple[str, ...] | str:
    """A split name (train, test, all) or category names."""
    return names[0] if len(names) == 1 and names[0] in ("train", "test", "all") else tuple(names)


def run_collect(args: argparse.Namespace) -> int:
    """Collect samples (one shard, or all seeds) into ``--out``."""
    from rt_grasp_ros.manip.collect import CollectConfig, collect, parse_shard, shard_seeds
    from rt_grasp_ros.manip.evaluate import SPLITS

    names = _categories(args.categories)
    config = CollectConfig(
        categories=SPLITS[names] if isinstance(names, str) else names, tool=args.tool
    )
    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    shard = parse_shard(args.shard) if args.shard else None
    seeds = shard_seeds(args.seed, args.n, shard or (0, 1))
    manifest = collect(seeds, config, args.out, args.workers, not args.json, shard)
    if args.json:
        print_json(manifest)
        return 0
    console().print(
        f"wrote {args.out}: {manifest['successes']}/{manifest['attempts']} successful "
        f"({100 * manifest['success_ratio']:.1f} %), {manifest['samples_per_s']} attempts/s "
        f"with {args.workers} worker(s)" + ("" if shard else "; tasks in manipllm_tasks.json")
    )
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge shard folders."""
    from rt_grasp_ros.manip.dataset import merge

    manifest = merge(args.shards, args.out)
    if args.json:
        print_json(manifest)
        return 0
    console().print(
        f"merged {len(args.shards)} shards into {args.out}: {manifest['successes']}/"
        f"{manifest['attempts']} successful; tasks in manipllm_tasks.json"
    )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a policy and print the Table 1 layout (or JSON)."""
    from rt_grasp_ros.manip.evaluate import EvalConfig, evaluate
    from rt_grasp_ros.manip.trial import PullConfig

    config = EvalConfig(
        policy=args.policy,
        categories=_categories(args.categories),
        trials=args.trials,
        seed=args.seed,
        pull=PullConfig(adaptive=not args.no_aia),
        cot=not args.no_cot,
    )
    summary, records = evaluate(config, args.workers, progress=not args.json)
    if args.json:
        print_json(summary | ({"trials": records} if args.details else {}))
        return 0
    out = console()
    for split in ("train", "test"):
        table = table_1(summary, split)
        if table is not None:
            out.print(table)
    if summary.get("category_named"):
        rates = summary["category_named"].items()
        out.print("category named: " + ", ".join(f"{k} {v:.2f}" for k, v in rates))
    if summary["failures"]:
        out.print("failures: " + ", ".join(f"{k} ({n})" for k, n in summary["failures"].items()))
    return 0


def table_1(summary: dict, split: str) -> Table | None:
    """One split's block of the paper's Table 1: categories and their mean as columns."""
    names = [k for k, v in summary["categories"].items() if v["split"] == split]
    if not names:
        return None
    pull = "AIA" if summary["pull"] == "aia" else "straight pull"
    table = Table(title=f"{split} categories: {summary['policy']} contacts, {pull}")
    table.add_column("success")
    for name in names:
        table.add_column(name.replace("_", " "), justify="right")
    table.add_column("AVG", justify="right")
    for key, label in (("initial", "initial (>0.01)"), ("long", "long (>0.1)")):
        cells = [f"{summary['categories'][n][key]:.2f}" for n in names]
        table.add_row(label, *cells, f"{summary[split][key]:.2f}")
    trials = [str(summary["categories"][n]["trials"]) for n in names]
    table.add_row("trials", *trials, "")
    return table


def run_reproduce(args: argparse.Namespace) -> int:
    """Reproduce the shipped contact model."""
    from rt_grasp_ros.pipeline.manip_default import ManipRecipe, reproduce_manip

    recipe = ManipRecipe(
        attempts=args.attempts,
        seed=args.seed,
        categories=_categories(args.categories),
        tool=args.tool,
        workers=args.workers,
        config=args.config,
        steps=args.steps,
    )
    reproduce_manip(args.out, recipe, console(), install=args.install)
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Render the category picture, or a policy's contacts (``--policy``)."""
    from rt_grasp_ros.manip.evaluate import SPLITS
    from rt_grasp_ros.manip.render import render_categories

    if args.policy:
        from rt_grasp_ros.manip.contact_picture import render_contacts

        names = _categories(args.categories)
        categories = SPLITS[names] if isinstance(names, str) else names
        path = render_contacts(args.out, args.policy, categories, args.seed, args.size)
    else:
        path = render_categories(args.out, args.seed, args.size)
    console().print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0
