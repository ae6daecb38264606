"""``rt-grasp panel``: the grasp refinement panel (Qt) over the running ROS 2 stack."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``panel`` command."""
    parser = sub.add_parser(
        "panel",
        help="the refinement panel: crop + grasp, conversation, Plan / Refine / Execute",
        description="A Qt window over /plan_grasp and /execute_grasp of a running stack "
        "(`rt-grasp ros up`). Needs `pip install 'rt-grasp[panel]'` (PySide6).",
    )
    parser.add_argument("--instruction", default="", help="the instruction to start with")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="save the panel as a PNG after --after seconds and exit (no display needed)",
    )
    parser.add_argument("--after", type=float, default=5.0, help="seconds before --screenshot")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Show the panel until its window closes."""
    from rt_grasp_ros.panel.app import run_panel

    return run_panel(args.instruction, args.screenshot, args.after)
