"""``rt-grasp demo``: the main job on the embedded robot (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from rt_grasp_ros.cli.common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="render, train the tiny model, and let it grasp in the simulator"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--objects", type=int, default=12, help="object instances to learn")
    parser.add_argument("--views", type=int, default=4, help="training placements per object")
    parser.add_argument("--steps", type=int, help="training steps (default: the config's)")
    parser.add_argument(
        "--seen-stride",
        type=int,
        default=4,
        help="try every Nth trained placement (default 4: one per object)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the trials with the simulator in this process instead of through ROS 2",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from rt_grasp_ros.pipeline.demo import DemoOptions, run_demo

    ros = not args.in_process
    if ros and importlib.util.find_spec("rclpy") is None:
        console().print("no rclpy: the trials run in-process (`make` installs ROS 2)")
        ros = False
    options = DemoOptions(
        objects=args.objects, views=args.views, steps=args.steps, seen_stride=args.seen_stride
    )
    run_demo(args.out, options, console(), ros=ros)
    return 0
