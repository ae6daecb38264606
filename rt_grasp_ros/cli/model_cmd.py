"""``rt-grasp model``: the default embedded model (reproduce it, show where it is)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rt_grasp_ros.cli.common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``model`` command group."""
    parser = subparsers.add_parser("model", help="the default embedded grasp model")
    sub = parser.add_subparsers(dest="model_command", required=True)
    again = sub.add_parser(
        "reproduce",
        help="train the default model from scratch: simulator crops, dataset, training",
    )
    again.add_argument("--out", type=Path, default=Path("runs/default-model"))
    again.add_argument("--objects", type=int, default=3000, help="object instances to render")
    again.add_argument("--views", type=int, default=2, help="placements per instance")
    again.add_argument("--seed", type=int, default=0, help="first instance seed")
    again.add_argument("--workers", type=int, default=2, help="rendering processes")
    again.add_argument(
        "--augment", type=int, default=0, help="augmented copies of each training crop"
    )
    again.add_argument("--config", default="sim-default", help="training config (name or YAML)")
    again.add_argument("--steps", type=int, help="training steps (default: the config's)")
    again.add_argument(
        "--install", action="store_true", help="make the result the package's default model"
    )
    again.set_defaults(func=run_reproduce)
    where = sub.add_parser("path", help="print the shipped default model's folder")
    where.set_defaults(func=run_path)


def run_reproduce(args: argparse.Namespace) -> int:
    """Reproduce the default model."""
    from rt_grasp_ros.pipeline.default_model import Recipe, reproduce

    recipe = Recipe(
        objects=args.objects,
        views=args.views,
        seed=args.seed,
        workers=args.workers,
        augment=args.augment,
        config=args.config,
        steps=args.steps,
    )
    reproduce(args.out, recipe, console(), install=args.install)
    return 0


def run_path(args: argparse.Namespace) -> int:
    """Print where the default model is."""
    from rt_grasp_ros.vlm.default import DEFAULT_MODEL, resolve_model

    print(resolve_model(DEFAULT_MODEL))
    return 0
