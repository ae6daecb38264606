"""``rt-grasp calibrate``: eye-to-hand calibration with a ChArUco board on the flange.

``--sim`` runs it on the embedded robot (the sim renders a board on the flange, the arm
visits the poses) and compares the result with the sim camera's true pose; ``--samples DIR``
solves a calibration recorded elsewhere (``poses.json`` + images, see
:mod:`rt_grasp_ros.calibration.session`). Either writes the extrinsic as a parameters file
and prints the ``camera_extrinsic:=`` argument the stack reads.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rt_grasp_ros.cli.common import print_json
from rt_grasp_ros.errors import ConfigError, RtGraspError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command."""
    parser = subparsers.add_parser(
        "calibrate",
        help="hand-eye calibration (eye-to-hand, ChArUco board on the flange): the camera "
        "extrinsic the stack reads",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--sim", action="store_true", help="on the embedded robot, checked against the truth"
    )
    source.add_argument(
        "--samples", type=Path, metavar="DIR", help="recorded samples: DIR/poses.json + images"
    )
    parser.add_argument("--out", type=Path, help="write the extrinsic here (ROS params YAML)")
    parser.add_argument("--save-samples", type=Path, metavar="DIR", help="--sim: keep them")
    parser.add_argument("--poses", type=int, default=16, help="--sim: poses to visit")
    parser.add_argument("--seed", type=int, default=0, help="--sim: draw of the poses")
    parser.add_argument("--tilt", type=float, default=22.0, help="--sim: largest tilt (deg)")
    parser.add_argument("--board", default="5x5", help="squares along x and y, e.g. 5x5")
    parser.add_argument("--square", type=float, default=0.025, help="square side (m)")
    parser.add_argument("--marker", type=float, default=0.018, help="marker side (m)")
    parser.add_argument("--dictionary", default="DICT_5X5_100", help="ArUco dictionary")
    parser.add_argument(
        "--method",
        default="park",
        choices=["park", "tsai", "horaud", "andreff", "daniilidis"],
        help="cv2.calibrateHandEye's closed form (then refined on the reprojection error)",
    )
    parser.add_argument("--no-refine", action="store_true", help="the closed form only")
    parser.set_defaults(func=run)


def _board(args: argparse.Namespace):
    from rt_grasp_ros.calibration.board import CharucoSpec

    try:
        nx, ny = (int(v) for v in args.board.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--board must be like 5x5, got {args.board!r}") from None
    return CharucoSpec(nx, ny, args.square, args.marker, args.dictionary)


def run(args: argparse.Namespace) -> int:
    """Collect or load the samples, solve, report and write."""
    from rt_grasp_ros.calibration.handeye import (
        extrinsic_argument,
        solve_eye_to_hand,
        write_extrinsic,
    )

    spec = _board(args)
    report: dict = {}
    if args.sim:
        samples, camera, skipped, truth = _sim_samples(args, spec)
    else:
        from rt_grasp_ros.calibration.session import load_samples

        samples, camera, skipped = load_samples(args.samples, spec)
        truth = None
    result = solve_eye_to_hand(samples, camera, args.method, refine=not args.no_refine)
    report.update(result.summary())
    report["skipped"] = skipped
    if truth is not None:
        dp, dr = result.base_from_camera.distance_to(truth)
        report["error_vs_sim_truth"] = {
            "position_mm": round(dp * 1000, 4),
            "rotation_deg": round(math.degrees(dr), 4),
        }
    if args.out:
        write_extrinsic(args.out, result, "embedded robot" if args.sim else str(args.samples))
        report["written"] = str(args.out)
    report["launch_argument"] = extrinsic_argument(result.base_from_camera)
    print_json(report)
    return 0


def _sim_samples(args: argparse.Namespace, spec):
    from rt_grasp_ros.calibration.session import PoseSet, calibration_poses, collect, save_samples
    from rt_grasp_ros.sim.calibration_board import CalibrationRig

    with CalibrationRig(spec) as rig:
        start = rig.start_pose()
        rig.move_to(start)
        poses = calibration_poses(
            start, rig.board_in_tcp, PoseSet(args.poses, tilt_deg=args.tilt, seed=args.seed)
        )
        collected = collect(rig, rig, poses, spec, keep_images=args.save_samples is not None)
        if args.save_samples is not None:
            save_samples(args.save_samples, collected, rig.camera)
        if not collected.samples:
            raise RtGraspError(f"no pose showed the board: {collected.skipped}")
        return collected.samples, rig.camera, collected.skipped, rig.true_base_from_camera
