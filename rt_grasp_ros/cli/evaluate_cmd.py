"""``rt-grasp evaluate``: score model answers with the rectangle metric."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rt_grasp_ros.cli.common import add_source_arguments, console, load_samples, print_json
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.eval.scoring import EvaluationReport
from rt_grasp_ros.eval.sources import EvaluationSet


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score answers (a predictions file, or a model run now) with the rectangle metric",
        description=(
            "Every sample with ground truth counts: a missing or unparsable answer is a failure. "
            "Give --dataset/--predictions (or --dataset/--model) pairs to fill the paper's "
            "Table I. "
            "With folds, --model may contain {fold} to use one checkpoint per fold."
        ),
    )
    add_source_arguments(parser, dataset=True)
    parser.add_argument(
        "--predictions",
        type=Path,
        action="append",
        metavar="FILE.jsonl",
        help='JSON lines {"id": ..., "text": ...}; one per --dataset when several are given',
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="checkpoint, base model id or path (one per --dataset, or one for all); "
        "may contain {fold}",
    )
    parser.add_argument(
        "--adapter", type=Path, help="LoRA adapter (or checkpoint) to put on a base --model"
    )
    parser.add_argument(
        "--instruction", help="instruction for every image (default: the first template)"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--constrained", action="store_true", help="constrain decoding to a well-formed pose"
    )
    parser.add_argument(
        "--save-predictions",
        type=Path,
        default=Path("predictions"),
        metavar="DIR",
        help="where --model runs write their prediction files (default: ./predictions)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument(
        "--fold",
        type=int,
        action="append",
        metavar="K",
        help="only these folds of a built dataset",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--details", type=Path, metavar="FILE.jsonl", help="write the per-sample results"
    )
    parser.set_defaults(func=run)


def evaluation_sets(args: argparse.Namespace) -> list[EvaluationSet]:
    """The evaluation set(s) named by ``--cornell``, ``--jacquard`` or ``--dataset``."""
    from rt_grasp_ros.data.records import open_built_dataset
    from rt_grasp_ros.eval.sources import from_built, from_samples

    if args.dataset:
        return [from_built(open_built_dataset(d), args.fold) for d in args.dataset]
    if args.fold:
        raise RtGraspError("--fold only applies to a built --dataset")
    samples, source = load_samples(args)
    return [from_samples(samples, source["kind"])]


def run(args: argparse.Namespace) -> int:
    """Score a predictions file, or run a model and score its answers."""
    from rt_grasp_ros.eval.predictions import read_predictions

    if bool(args.predictions) == bool(args.model):
        raise RtGraspError(
            "give either --predictions FILE.jsonl (answers to score) or --model M (to run)"
        )
    sets = evaluation_sets(args)
    if args.model:
        reports = run_models(args, sets)
    else:
        if len(args.predictions) != len(sets):
            raise RtGraspError(
                f"give one --predictions file per evaluated dataset: "
                f"got {len(args.predictions)} for {len(sets)}"
            )
        reports = [
            score(s, read_predictions(p)) for s, p in zip(sets, args.predictions, strict=True)
        ]
    show(reports, args)
    return 0


def run_models(args: argparse.Namespace, sets: list[EvaluationSet]) -> list[EvaluationReport]:
    """Run ``--model`` over each evaluation set (one checkpoint per fold with ``{fold}``)."""
    from rt_grasp_ros.vlm.evaluate import evaluate_models
    from rt_grasp_ros.vlm.predictor import GraspPredictor

    runs = evaluate_models(
        args.model,
        sets,
        lambda model: GraspPredictor.from_pretrained(model, args.adapter, args.dtype, args.device),
        args.save_predictions,
        args.instruction,
        args.batch_size,
        args.constrained,
        progress=not args.json,
    )
    if not args.json:
        for run in runs:
            console().print(
                f"predictions written to {run.predictions_file} (re-score with --predictions)"
            )
    return [run.report for run in runs]


def score(eval_set: EvaluationSet, answers: dict[str, str]) -> EvaluationReport:
    """Score ``answers`` on one evaluation set."""
    from rt_grasp_ros.eval.scoring import evaluate_answers

    return evaluate_answers(eval_set.ground_truth, answers, eval_set.folds, eval_set.label)


def show(reports: list[EvaluationReport], args: argparse.Namespace) -> None:
    """Print reports as tables or JSON, and write per-sample details if asked."""
    from rt_grasp_ros.eval.report import print_report, print_table_one

    if args.details:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with args.details.open("w", encoding="utf-8") as f:
            for report in reports:
                for r in report.results:
                    f.write(json.dumps({**r.__dict__, **report.label}) + "\n")
    if args.json:
        if len(reports) == 1:
            print_json(reports[0].to_json())
        else:
            print_json({"reports": [r.to_json() for r in reports]})
        return
    out = console()
    for report in reports:
        title = " / ".join(
            str(v) for k, v in report.label.items() if k in ("source", "format", "split")
        )
        print_report(report, out, title=f"Rectangle metric: {title}")
    if len(reports) > 1 or reports[0].folds:
        print_table_one(reports, out)
