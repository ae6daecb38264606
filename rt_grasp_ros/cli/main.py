"""Entry point of the ``rt-grasp`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from rt_grasp_ros import __version__
from rt_grasp_ros.cli import (
    calibrate_cmd,
    dataset_cmd,
    demo_cmd,
    evaluate_cmd,
    manip_cmd,
    model_cmd,
    panel_cmd,
    predict_cmd,
    ros_cmd,
    show_cmd,
    sim_cmd,
    train_cmd,
)
from rt_grasp_ros.errors import RtGraspError

COMMANDS = (
    demo_cmd,
    dataset_cmd,
    train_cmd,
    model_cmd,
    predict_cmd,
    evaluate_cmd,
    show_cmd,
    sim_cmd,
    manip_cmd,
    ros_cmd,
    panel_cmd,
    calibrate_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="rt-grasp",
        description="Reasoning-tuned grasp prediction with a multimodal LLM (RT-Grasp, ManipLLM)",
    )
    parser.add_argument("--version", action="version", version=f"rt-grasp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors on bad input print one line and return status 2."""
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args) or 0)
    except RtGraspError as exc:
        print(f"rt-grasp: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; stop quietly like other Unix tools.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except KeyboardInterrupt:
        print("rt-grasp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
