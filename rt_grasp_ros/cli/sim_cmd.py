"""``rt-grasp sim``: render scenes, run grasp trials, write the URDF, export datasets."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from rt_grasp_ros.cli.common import console, print_json

DEFAULT_URDF_DIR = Path("urdf")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sim`` command group."""
    parser = subparsers.add_parser(
        "sim", help="the embedded MuJoCo Panda: render, trials, urdf, dataset"
    )
    sub = parser.add_subparsers(dest="sim_command", required=True)

    render = sub.add_parser(
        "render", help="save RGB, depth and a ground-truth overlay of a seeded scene"
    )
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--out", type=Path, required=True)
    _scene_arguments(render)
    render.set_defaults(func=run_render)

    trials = sub.add_parser("trials", help="run seeded grasp trials and print the success rate")
    trials.add_argument("--gripper", choices=["parallel", "suction"], default="parallel")
    trials.add_argument("--source", choices=["oracle", "random", "model"], default="oracle")
    trials.add_argument(
        "--model",
        default="default",
        help="with --source model: a checkpoint (default: the shipped embedded model)",
    )
    trials.add_argument("--n", type=int, default=20)
    trials.add_argument("--seed", type=int, default=0, help="first seed")
    trials.add_argument("--categories", nargs="+", metavar="CATEGORY")
    trials.add_argument("--force", type=float, default=40.0, help="grasp force (N), at most 70")
    trials.add_argument("--json", action="store_true")
    trials.add_argument("--details", action="store_true", help="with --json: every trial")
    trials.set_defaults(func=run_trials_cmd)

    urdf = sub.add_parser("urdf", help="write the robot URDF files (parallel and suction tools)")
    urdf.add_argument("--out", type=Path, default=DEFAULT_URDF_DIR)
    urdf.set_defaults(func=run_urdf)

    dataset = sub.add_parser(
        "dataset", help="render objects into a Cornell-layout dataset (400x400 crops)"
    )
    dataset.add_argument("--out", type=Path, required=True)
    dataset.add_argument("--objects", type=int, default=20, help="object instances")
    dataset.add_argument("--views", type=int, default=4, help="placements per object")
    dataset.add_argument("--seed", type=int, default=0)
    dataset.add_argument("--categories", nargs="+", metavar="CATEGORY")
    dataset.add_argument("--workers", type=int, default=1, help="rendering processes")
    dataset.add_argument("--no-progress", action="store_true")
    dataset.set_defaults(func=run_dataset)


def _scene_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--objects", type=int, default=3, help="graspable objects on the table")
    parser.add_argument("--categories", nargs="+", metavar="CATEGORY")
    parser.add_argument("--gripper", choices=["parallel", "suction"], default="parallel")
    from rt_grasp_ros.sim.articulated import ARTICULATED

    parser.add_argument("--articulated", choices=ARTICULATED)


def run_render(args: argparse.Namespace) -> int:
    """Render one scene to a folder."""
    from rt_grasp_ros.sim.export import render_scene
    from rt_grasp_ros.sim.scene import SceneConfig, generate_scene

    config = SceneConfig(
        n_objects=args.objects,
        categories=tuple(args.categories) if args.categories else None,
        gripper=args.gripper,
        articulated=args.articulated,
    )
    record = render_scene(generate_scene(args.seed, config), args.out)
    objects = ", ".join(o["category"] for o in record["objects"]) or "none"
    console().print(
        f"wrote {args.out}/ (rgb.png, depth.png, depth_mm.png, depth.npy, crop.png, overlay.png, "
        "scene.json): "
        f"objects: {objects}; {len(record['grasps'])} ground-truth grasps"
    )
    return 0


def run_trials_cmd(args: argparse.Namespace) -> int:
    """Run trials and print the success rate."""
    from rt_grasp_ros.sim.trials import TrialConfig, run_trial, run_trials

    config = TrialConfig(
        gripper=args.gripper,
        source=args.source,
        categories=tuple(args.categories) if args.categories else None,
        grasp_force=args.force,
    )
    trial = run_trial
    if config.source.value == "model":
        from rt_grasp_ros.pipeline.trials import model_trial
        from rt_grasp_ros.vlm.predictor import GraspPredictor

        trial = model_trial(GraspPredictor.from_pretrained(args.model, dtype="float32"))
    summary = run_trials(args.n, config, seed=args.seed, progress=not args.json, trial=trial)
    if args.json:
        print_json(summary.to_json(with_trials=args.details))
        return 0
    table = Table(
        title=f"{args.gripper} gripper, {args.source} grasps: "
        f"success {summary.successes}/{len(summary.results)}"
    )
    for name in ("category", "success", "trials"):
        table.add_column(name, justify="left" if name == "category" else "right")
    for name, (s, n) in summary.per_category().items():
        table.add_row(name, str(s), str(n))
    out = console()
    out.print(table)
    out.print(f"success rate: {100 * summary.success_rate:.1f} %")
    data = summary.to_json()
    if "object_named" in data:
        out.print(
            "object named correctly in the reasoning: "
            f"{data['object_named']}/{len(summary.results)}"
        )
    for kind, n in summary.to_json()["failures"].items():
        example = next(r for r in summary.results if r.failure == kind)
        out.print(f"  failed ({n}x): {kind}, e.g. seed {example.seed}: {example.reason}")
    return 0


def run_urdf(args: argparse.Namespace) -> int:
    """Write the URDF files."""
    from rt_grasp_ros.sim.urdf import URDF_FILES, robot_urdf

    args.out.mkdir(parents=True, exist_ok=True)
    for name, tool in URDF_FILES.items():
        (args.out / name).write_text(robot_urdf(tool), encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def run_dataset(args: argparse.Namespace) -> int:
    """Export a Cornell-layout dataset from rendered scenes."""
    from rt_grasp_ros.sim.export import export_cornell
    from rt_grasp_ros.sim.scene import SceneConfig

    config = SceneConfig(
        n_objects=1, categories=tuple(args.categories) if args.categories else None
    )
    stems = export_cornell(
        args.out,
        args.objects,
        args.views,
        args.seed,
        config,
        progress=not args.no_progress,
        workers=args.workers,
    )
    print(
        f"wrote {len(stems)} images of {args.objects} objects to {args.out} "
        "(Cornell layout, objects.csv)"
    )
    return 0
