"""``rt-grasp predict``: reasoning and a grasp pose for one image, with refinement turns."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rich.markup import escape

from rt_grasp_ros.cli.common import console, print_json

OVERLAY_OPENING = 0.12  # drawn opening of a predicted grasp, as a fraction of the image width


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command."""
    parser = subparsers.add_parser(
        "predict", help="predict a grasp for an image (and refine it by conversation)"
    )
    parser.add_argument(
        "--model",
        default="default",
        help="checkpoint, base model id or path (default: the shipped embedded model)",
    )
    parser.add_argument(
        "--adapter", type=Path, help="LoRA adapter (or checkpoint) for a base --model"
    )
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument(
        "--instruction", help="the request (default: the first instruction template)"
    )
    parser.add_argument(
        "--follow-up",
        action="append",
        default=[],
        metavar="TEXT",
        help="a refinement turn, e.g. 'grasp it by the handle instead' (repeatable)",
    )
    parser.add_argument(
        "--interactive", action="store_true", help="read follow-ups from the terminal"
    )
    parser.add_argument("--constrained", action="store_true", help="guarantee a well-formed pose")
    parser.add_argument(
        "--samples", type=int, default=1, help="sample k answers and return their consensus"
    )
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument(
        "--overlay", type=Path, help="save the image with the predicted grasp(s) drawn"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Predict, refine, print and draw."""
    from rt_grasp_ros.data.images import read_rgb
    from rt_grasp_ros.vlm.predictor import GraspPredictor

    image = read_rgb(args.image)
    predictor = GraspPredictor.from_pretrained(
        args.model, args.adapter, args.dtype, args.device, max_new_tokens=args.max_new_tokens
    )
    session = predictor.session(image)
    options = {
        "constrained": args.constrained,
        "samples": args.samples,
        "temperature": args.temperature,
        "seed": args.seed,
    }
    turns = [args.instruction, *args.follow_up]
    out = console()
    for text in turns:
        prediction = session.ask(text, **options)
        if not args.json:
            _print_turn(out, text or predictor.default_instruction, prediction)
    while args.interactive and not args.json:
        try:
            text = input("follow-up (empty to stop)> ").strip()
        except EOFError:
            break
        if not text:
            break
        _print_turn(out, text, session.ask(text, **options))
    if args.overlay:
        _save_overlay(image, session, args.overlay)
        if not args.json:
            out.print(f"overlay written to {args.overlay}")
    if args.json:
        print_json(
            {
                "model": str(args.model),
                "image": str(args.image),
                "turns": [
                    {"instruction": q, **p.to_json()}
                    for (q, _), p in zip(session.turns, session.predictions, strict=True)
                ],
            }
        )
    return 0 if session.pose is not None else 1


def _print_turn(out, question: str, prediction) -> None:
    out.print(f"[bold]> {escape(question)}[/]")
    if prediction.reasoning:
        out.print(f"reasoning: {escape(prediction.reasoning)}")
    if prediction.pose is not None:
        p = prediction.pose
        out.print(
            f"grasp pose: [{p.x:.3f}, {p.y:.3f}], {p.theta:.3f} rad "
            f"({np.degrees(p.theta):.1f} deg)"
        )
    else:
        out.print(
            f"[red]no valid pose[/]: {escape(prediction.error or '')}\n"
            f"answer: {escape(prediction.text)!r}"
        )
    if prediction.consensus is not None:
        c = prediction.consensus
        out.print(
            f"consensus of {len(prediction.samples)} samples: "
            f"spread x {c.x_std:.3f}, y {c.y_std:.3f}, "
            f"theta {c.theta_std_deg:.1f} deg (agreement {c.agreement:.2f})"
        )
    t = prediction.timings
    out.print(
        f"[dim]{prediction.prompt_tokens} prompt + "
        f"{prediction.generated_tokens} generated tokens; "
        f"preprocess {t.get('preprocess', 0):.2f} s, prefill {t.get('prefill', 0):.2f} s, "
        f"decode {t.get('decode', 0):.2f} s ({prediction.decode_tokens_per_s:.1f} tok/s)[/]"
    )


def _save_overlay(image: np.ndarray, session, path: Path) -> None:
    from rt_grasp_ros.data.images import write_rgb
    from rt_grasp_ros.grasp.rectangle import corners_from_params
    from rt_grasp_ros.viz.overlay import draw_grasps

    h, w = image.shape[:2]
    poses = [p.pose for p in session.predictions if p.pose is not None]
    corners = [
        corners_from_params(
            p.x * w, p.y * h, p.theta, OVERLAY_OPENING * w, OVERLAY_OPENING * w / 3
        )
        for p in poses
    ]
    caption = f"{len(poses)} grasp(s), latest in red" if poses else "no valid grasp"
    drawn = draw_grasps(
        image,
        np.array(corners[:-1]) if len(corners) > 1 else None,
        np.array(corners[-1:]) if corners else None,
        caption,
    )
    write_rgb(path, drawn)
    if not poses:
        print("no valid grasp to draw", file=sys.stderr)
