"""``rt-grasp dataset build`` and ``rt-grasp dataset stats``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from rt_grasp_ros.cli.common import add_source_arguments, console, load_samples, print_json
from rt_grasp_ros.prompts.formats import AnswerFormat


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dataset`` command group."""
    parser = subparsers.add_parser("dataset", help="build and inspect training datasets")
    sub = parser.add_subparsers(dest="dataset_command", required=True)

    build = sub.add_parser(
        "build", help="write a LLaVA-layout dataset with folds and ground truth"
    )
    add_source_arguments(build, dataset=False)
    build.add_argument("--out", type=Path, required=True, help="output folder")
    build.add_argument("--format", default="rt", choices=[f.value for f in AnswerFormat])
    build.add_argument(
        "--augment", type=int, default=0, metavar="N", help="extra samples per image"
    )
    build.add_argument(
        "--folds", type=int, default=5, metavar="K", help="folds (1 = all in train)"
    )
    build.add_argument("--split", default="image", choices=["image", "object"])
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--decimals", type=int, default=3)
    build.add_argument(
        "--materialize", action="store_true", help="render augmented images to OUT/images"
    )
    build.add_argument("--max-rotation", type=float, default=180.0, metavar="DEG")
    build.add_argument("--zoom", type=float, nargs=2, default=(0.8, 1.25), metavar=("MIN", "MAX"))
    build.add_argument("--max-shift", type=float, default=0.1, metavar="FRACTION")
    build.add_argument("--flip", action="store_true", help="also mirror half of the samples")
    build.add_argument(
        "--instruction-templates",
        type=Path,
        metavar="YAML",
        help="your own instruction templates (default: the shipped ones)",
    )
    build.add_argument(
        "--reasoning-templates",
        type=Path,
        metavar="YAML",
        help="your own reasoning templates (default: the shipped ones)",
    )
    build.add_argument("--no-progress", action="store_true")
    build.set_defaults(func=run_build)

    stats = sub.add_parser("stats", help="summarise a built dataset")
    stats.add_argument("out", type=Path, help="a folder written by `dataset build`")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=run_stats)


def run_build(args: argparse.Namespace) -> int:
    """Build the dataset and print what was written."""
    from rt_grasp_ros.data.augment import AugmentationConfig
    from rt_grasp_ros.data.build import BuildConfig, build_dataset

    config = BuildConfig(
        format=args.format,
        augment=args.augment,
        folds=args.folds,
        split=args.split,
        seed=args.seed,
        materialize=args.materialize,
        decimals=args.decimals,
        augmentation=AugmentationConfig(
            max_rotation_deg=args.max_rotation,
            min_zoom=args.zoom[0],
            max_zoom=args.zoom[1],
            max_shift=args.max_shift,
            flip=args.flip,
        ),
    )
    from rt_grasp_ros.prompts.templates import load_templates

    templates = load_templates(args.reasoning_templates, args.instruction_templates)
    samples, source = load_samples(args)
    summary = build_dataset(
        samples, args.out, config, source, templates, progress=not args.no_progress
    )
    table = Table(title=f"Built {summary.out} in {summary.seconds:.1f} s")
    for name in ("fold", "train", "test"):
        table.add_column(name, justify="right")
    for f in summary.folds:
        table.add_row(str(f["fold"]), str(f["train"]), str(f["test"]))
    out = console()
    out.print(table)
    out.print(
        f"{summary.source_images} source images -> {summary.samples} samples "
        f"({config.format.value} answers)"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Print the summary of a built dataset."""
    from rt_grasp_ros.data.records import open_built_dataset
    from rt_grasp_ros.data.stats import dataset_stats

    stats = dataset_stats(open_built_dataset(args.out))
    if args.json:
        print_json(stats)
        return 0
    out = console()
    out.print(
        f"[bold]{args.out}[/]: {stats['source_images']} images -> {stats['samples']} samples, "
        f"format {stats['format']}, {stats['folds']} {stats['split']}-wise fold(s), "
        f"augment {stats['augment']}{' (materialized)' if stats['materialized'] else ''}"
    )
    folds = Table(title="Folds")
    for name in ("fold", "train", "test", "train objects", "test objects", "shared objects"):
        folds.add_column(name, justify="right")
    for f in stats["fold_counts"]:
        folds.add_row(
            *(
                str(f[k])
                for k in (
                    "fold",
                    "train",
                    "test",
                    "train_objects",
                    "test_objects",
                    "shared_objects",
                )
            )
        )
    out.print(folds)
    cats = Table(title="Categories (source images)")
    cats.add_column("category")
    cats.add_column("images", justify="right")
    for name, n in stats["categories"].items():
        cats.add_row(name, str(n))
    out.print(cats)
    r, a = stats["rectangles_per_image"], stats["answer_chars"]
    out.print(f"rectangles per image: mean {r['mean']:.1f} (min {r['min']}, max {r['max']})")
    out.print(
        f"answer length: mean {a['mean']:.0f} chars (max {a['max']}); "
        f"unparsable: {stats['unparsable_answers']}"
    )
    h = stats["angle_histogram"]
    bins = ", ".join(
        f"[{lo:g},{hi:g}): {c}"
        for lo, hi, c in zip(h["edges_deg"], h["edges_deg"][1:], h["counts"], strict=False)
    )
    out.print(f"target angles (deg): {bins}")
    return 0
