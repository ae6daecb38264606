"""``rt-grasp train``: reasoning tuning on a built dataset, or ManipLLM's tasks."""

from __future__ import annotations

import argparse
from pathlib import Path

from rt_grasp_ros.cli.common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    parser = subparsers.add_parser(
        "train",
        help="train the grasp model (projector, LoRA, or a tiny model)",
        description="Train on one fold of a built dataset, or on ManipLLM's tasks from a "
        "collection folder (`rt-grasp manip collect`; data.tasks selects them). Runs as is "
        "under torchrun or "
        "`accelerate launch` (one process per GPU): the engine is distributed.engine "
        "(ddp, fsdp, deepspeed) and optim.batch_size stays the effective batch.",
    )
    parser.add_argument(
        "--config",
        required=True,
        metavar="NAME|YAML",
        help="a packaged config (tiny, tiny-qwen2vl, llava-projector, llava-lora, manip-tiny, "
        "manip-tiny-qwen2vl, manip-tiny-{ft,oci,mlm,apr}, manip-llava7b) or a YAML file",
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="a dataset written by `rt-grasp dataset build`, or a ManipLLM collection folder",
    )
    parser.add_argument(
        "--output", type=Path, required=True, help="checkpoint folder (per fold: OUTPUT/fold_K)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value"
    )
    parser.add_argument(
        "--fold", default=None, help="fold to train (default: data.fold), or 'all'"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last trainer checkpoint"
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train one fold, or every fold into OUTPUT/fold_K (under torchrun: rank 0 reports)."""
    from rt_grasp_ros.vlm.config import load_train_config
    from rt_grasp_ros.vlm.distributed import is_main_process
    from rt_grasp_ros.vlm.train import train_folds

    config = load_train_config(args.config, args.set)
    out = console()
    for run, result in train_folds(
        config, args.data, args.output, args.fold, args.resume, not args.no_progress
    ):
        if not is_main_process():
            continue
        last = (
            f", validation accuracy {100 * result.validation[-1][1]:.1f} %"
            if result.validation
            else ""
        )
        out.print(
            f"fold {run.fold}: {result.steps} steps in {result.seconds:.0f} s "
            f"({result.trainable_parameters:,} of {result.total_parameters:,} parameters trained)"
            f"{last} -> {run.output}"
        )
    return 0
