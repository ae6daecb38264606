"""Arguments and helpers shared by several ``rt-grasp`` commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import RtGraspError


def console() -> Console:
    """Console for tables and messages (stdout)."""
    return Console(highlight=False)


def add_source_arguments(
    parser: argparse.ArgumentParser, dataset: bool = True, required: bool = True
) -> None:
    """``--cornell DIR | --jacquard DIR [| --dataset OUT]`` plus ``--objects CSV``."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--cornell", type=Path, metavar="DIR", help="Cornell dataset folder")
    group.add_argument("--jacquard", type=Path, metavar="DIR", help="Jacquard dataset folder")
    if dataset:
        group.add_argument(
            "--dataset",
            type=Path,
            metavar="OUT",
            action="append",
            help="dataset built by `rt-grasp dataset build` (repeatable for evaluate)",
        )
    parser.add_argument("--objects", type=Path, metavar="CSV", help="image,object,category map")


def load_samples(args: argparse.Namespace) -> tuple[list[GraspSample], dict[str, str]]:
    """Samples of ``--cornell`` or ``--jacquard``, and the source description."""
    if getattr(args, "cornell", None):
        from rt_grasp_ros.data.cornell import load_cornell

        return load_cornell(args.cornell, args.objects), {
            "kind": "cornell",
            "root": str(args.cornell),
        }
    if getattr(args, "jacquard", None):
        from rt_grasp_ros.data.jacquard import load_jacquard

        return load_jacquard(args.jacquard, args.objects), {
            "kind": "jacquard",
            "root": str(args.jacquard),
        }
    raise RtGraspError("give --cornell DIR or --jacquard DIR")


def print_json(data: Any) -> None:
    """One JSON object on stdout."""
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")
