"""``rt-grasp demo``: the main job on the embedded robot (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from rt_grasp_ros.cli.common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="let the default model reason and grasp on the simulated robot, via ROS 2"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument(
        "--model", default="default", help="grasp model (default: the shipped embedded model)"
    )
    parser.add_argument("--unseen", type=int, default=12, help="trials on unseen scenes")
    parser.add_argument("--trained", type=int, default=6, help="trials on trained-on scenes")
    parser.add_argument("--random", type=int, default=10, help="random-grasp trials")
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
        model=args.model, unseen=args.unseen, trained=args.trained, random_trials=args.random
    )
    run_demo(args.out, options, console(), ros=ros)
    return 0
