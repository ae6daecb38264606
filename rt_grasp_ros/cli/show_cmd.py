"""``rt-grasp show``: draw ground-truth and predicted grasps on the images (PNG)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rt_grasp_ros.cli.common import add_source_arguments
from rt_grasp_ros.errors import AnswerParseError, RtGraspError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``show`` command."""
    parser = subparsers.add_parser("show", help="draw predicted and ground-truth rectangles (PNG)")
    add_source_arguments(parser, dataset=True)
    parser.add_argument(
        "--id",
        action="append",
        metavar="ID",
        help="sample id(s) to draw (default: the first --limit)",
    )
    parser.add_argument(
        "--limit", type=int, default=6, help="how many samples when no --id is given"
    )
    parser.add_argument(
        "--predictions", type=Path, metavar="FILE.jsonl", help="model answers to draw in red"
    )
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Draw the chosen samples into one PNG."""
    from rt_grasp_ros.cli.evaluate_cmd import evaluation_sets
    from rt_grasp_ros.data.images import write_rgb
    from rt_grasp_ros.eval.predictions import read_predictions
    from rt_grasp_ros.viz.overlay import tile

    if args.dataset and len(args.dataset) > 1:
        raise RtGraspError("show draws one --dataset at a time")
    args.fold = None
    eval_set = evaluation_sets(args)[0]
    ids = args.id or list(eval_set.ground_truth)[: args.limit]
    answers = read_predictions(args.predictions) if args.predictions else {}
    panels = [panel(eval_set, sid, answers.get(sid), args.predictions is not None) for sid in ids]
    write_rgb(args.out, tile(panels, args.columns))
    print(f"wrote {args.out} ({len(panels)} sample(s))")
    return 0


def panel(eval_set, sample_id: str, answer: str | None, expect_answer: bool) -> np.ndarray:
    """One image with its ground truth, and the answer's grasp when there is one."""
    from rt_grasp_ros.grasp.metric import rectangle_metric
    from rt_grasp_ros.grasp.rectangle import corners_from_params, params_from_corners
    from rt_grasp_ros.prompts.parser import parse_answer
    from rt_grasp_ros.viz.overlay import draw_grasps

    if sample_id not in eval_set.ground_truth:
        raise RtGraspError(f"sample id {sample_id!r} is not in this dataset")
    gt = eval_set.ground_truth[sample_id]
    image = eval_set.load_image(sample_id)
    if answer is None:
        caption = f"{sample_id}: no answer" if expect_answer else sample_id
        return draw_grasps(image, gt.corners, None, caption)
    try:
        pose = parse_answer(answer).pose
    except AnswerParseError as exc:
        return draw_grasps(image, gt.corners, None, f"{sample_id}: unparsable ({exc.reason})")
    px, py = pose.to_pixels(*gt.image_size)
    result = rectangle_metric([[px, py]], [pose.theta], [gt.corners])
    # Draw the prediction with the opening and jaw size of the closest ground-truth grasp.
    centres = gt.corners.mean(axis=1)
    nearest = int(np.argmin(np.linalg.norm(centres - [px, py], axis=1)))
    _, _, _, w, h = params_from_corners(gt.corners[nearest])
    pred = corners_from_params(px, py, pose.theta, w, h)[None]
    verdict = "correct" if result.correct[0] else "wrong"
    caption = f"{sample_id}: {verdict} (IoU {result.best_iou[0]:.2f})"
    return draw_grasps(image, gt.corners, pred, caption)
