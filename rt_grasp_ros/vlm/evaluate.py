"""Running a model over an evaluation set: prediction files, then the rectangle metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from rt_grasp_ros.eval.predictions import write_predictions
from rt_grasp_ros.eval.scoring import EvaluationReport, evaluate_answers
from rt_grasp_ros.eval.sources import EvaluationSet
from rt_grasp_ros.vlm.predictor import GraspPredictor, Prediction


def predict_ids(
    predictor: GraspPredictor,
    eval_set: EvaluationSet,
    ids: Sequence[str],
    instruction: str | None = None,
    batch_size: int = 8,
    constrained: bool = False,
    progress: bool = True,
    label: str = "predict",
) -> dict[str, Prediction]:
    """Greedy predictions for ``ids`` of ``eval_set``, in batches."""
    out: dict[str, Prediction] = {}
    with tqdm(total=len(ids), desc=label, unit="img", disable=not progress) as bar:
        for start in range(0, len(ids), batch_size):
            chunk = list(ids[start : start + batch_size])
            images = [eval_set.load_image(i) for i in chunk]
            predictions = predictor.predict_batch(images, [instruction] * len(chunk), constrained)
            out.update(zip(chunk, predictions, strict=True))
            bar.update(len(chunk))
    return out


def evaluate_model(
    predictor_for_fold: Callable[[int | None], GraspPredictor],
    eval_set: EvaluationSet,
    predictions_file: Path,
    instruction: str | None = None,
    batch_size: int = 8,
    constrained: bool = False,
    progress: bool = True,
) -> EvaluationReport:
    """Predict every sample (each fold with its own model when folds exist), save, score.

    The predictions file has one JSON line per sample (``id``, ``text`` and the reasoning,
    token counts and timings), so the run can be re-scored with ``evaluate --predictions``.
    """
    groups: dict[int | None, list[str]] = (
        dict(eval_set.folds) if eval_set.folds else {None: list(eval_set.ground_truth)}
    )
    predictions: dict[str, Prediction] = {}
    for fold, ids in groups.items():
        predictor = predictor_for_fold(fold)
        label = "predict" if fold is None else f"fold {fold}"
        predictions.update(
            predict_ids(
                predictor, eval_set, ids, instruction, batch_size, constrained, progress, label
            )
        )
    rows = []
    for sid, p in predictions.items():
        row = {"id": sid, **p.to_json()}
        rows.append(row)
    write_predictions(predictions_file, rows)
    answers = {sid: p.text for sid, p in predictions.items()}
    return evaluate_answers(eval_set.ground_truth, answers, eval_set.folds, eval_set.label)
