"""Running a model over an evaluation set: prediction files, then the rectangle metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rt_grasp_ros.errors import RtGraspError
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


FOLD_FIELD = "{fold}"


def model_for_fold(template: str, fold: int | None) -> str:
    """The model of ``fold``: ``template`` with ``{fold}`` replaced by the fold index.

    Raises:
        RtGraspError: the template has ``{fold}`` but the evaluated set has no folds.
    """
    if FOLD_FIELD not in template:
        return template
    if fold is None:
        raise RtGraspError(
            f"model {template!r} has {FOLD_FIELD}, but the evaluated set has no folds"
        )
    return template.replace(FOLD_FIELD, str(fold))


def models_per_set(models: Sequence[str], count: int) -> list[str]:
    """One model (template) per evaluation set: as given, or one for all of them."""
    paired = list(models) * count if len(models) == 1 else list(models)
    if len(paired) != count:
        raise RtGraspError(
            f"give one model per evaluated dataset (or one for all): got {len(models)} for {count}"
        )
    return paired


class PredictorCache:
    """Loads each model once, however many folds or sets use it."""

    def __init__(self, load: Callable[[str], GraspPredictor]) -> None:
        self.load = load
        self.loaded: dict[str, GraspPredictor] = {}

    def get(self, model: str) -> GraspPredictor:
        """The predictor of ``model`` (a checkpoint, hub id or path)."""
        if model not in self.loaded:
            self.loaded[model] = self.load(model)
        return self.loaded[model]

    def for_template(self, template: str) -> Callable[[int | None], GraspPredictor]:
        """``fold -> predictor`` for a model template that may contain ``{fold}``."""
        return lambda fold: self.get(model_for_fold(template, fold))


@dataclass(frozen=True)
class ModelRun:
    """One model (template) evaluated on one set: its report and its predictions file."""

    model: str
    report: EvaluationReport
    predictions_file: Path


def predictions_name(eval_set: EvaluationSet) -> str:
    """``<dataset>-<format>-<split>``: the stem of a set's predictions file."""
    label = eval_set.label
    parts = [Path(str(label.get("source", "eval"))).name]
    parts += [str(label[k]) for k in ("format", "split") if k in label]
    return "-".join(parts)


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3`` ... when it is taken."""
    k, candidate = 1, name
    while candidate in taken:
        k += 1
        candidate = f"{name}-{k}"
    return candidate


def evaluate_models(
    models: Sequence[str],
    sets: Sequence[EvaluationSet],
    load: Callable[[str], GraspPredictor],
    predictions_dir: Path,
    instruction: str | None = None,
    batch_size: int = 8,
    constrained: bool = False,
    progress: bool = True,
) -> list[ModelRun]:
    """Run and score a model (template) on each set, one checkpoint per fold with ``{fold}``.

    Args:
        models: one model per set, or one for all; each may contain ``{fold}``.
        sets: the evaluation sets.
        load: loads a predictor from a model path or id (called once per distinct model).
        predictions_dir: where ``<dataset>-<format>-<split>.jsonl`` files are written.
        instruction: the instruction for every image (default: the model's own).
        batch_size: images per generation batch.
        constrained: constrain decoding to a well-formed pose.
        progress: show progress bars.
    """
    cache = PredictorCache(load)
    runs: list[ModelRun] = []
    for eval_set, template in zip(sets, models_per_set(models, len(sets)), strict=True):
        name = _unique(predictions_name(eval_set), {r.predictions_file.stem for r in runs})
        out = Path(predictions_dir) / f"{name}.jsonl"
        report = evaluate_model(
            cache.for_template(template),
            eval_set,
            out,
            instruction,
            batch_size,
            constrained,
            progress,
        )
        runs.append(ModelRun(template, report, out))
    return runs
