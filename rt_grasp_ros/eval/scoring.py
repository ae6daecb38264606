"""Score model answers against ground truth with the rectangle metric."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rt_grasp_ros.data.records import GroundTruth
from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.grasp.metric import rectangle_metric
from rt_grasp_ros.prompts.parser import parse_answer


@dataclass(frozen=True)
class SampleResult:
    """The outcome for one sample.

    Attributes:
        status: ``correct``, ``wrong``, ``unparsable`` or ``missing``.
        error: why the answer did not parse, for ``unparsable``.
    """

    id: str
    status: str
    category: str | None
    best_iou: float
    angle_error_deg: float | None
    error: str | None = None

    @property
    def correct(self) -> bool:
        """Whether the answer is a correct grasp."""
        return self.status == "correct"


@dataclass(frozen=True)
class FoldScore:
    """Accuracy on one fold's test set."""

    fold: int
    total: int
    correct: int

    @property
    def accuracy(self) -> float:
        """Correct / total (0 for an empty fold)."""
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class EvaluationReport:
    """Accuracy over every sample that has ground truth; failures are counted, not dropped."""

    results: list[SampleResult]
    unknown_ids: list[str] = field(default_factory=list)
    folds: list[FoldScore] = field(default_factory=list)
    label: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Samples with ground truth."""
        return len(self.results)

    @property
    def correct(self) -> int:
        """Correct answers."""
        return sum(r.correct for r in self.results)

    @property
    def accuracy(self) -> float:
        """Correct / total."""
        return self.correct / self.total if self.total else 0.0

    def count(self, status: str) -> int:
        """Number of samples with ``status``."""
        return sum(r.status == status for r in self.results)

    def per_category(self) -> dict[str, tuple[int, int]]:
        """Category -> (correct, total), for samples whose category is known."""
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.results:
            if r.category:
                table[r.category][0] += r.correct
                table[r.category][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def fold_mean_std(self) -> tuple[float, float] | None:
        """Mean and (population) standard deviation of fold accuracies, if folds were scored."""
        if not self.folds:
            return None
        acc = np.array([f.accuracy for f in self.folds])
        return float(acc.mean()), float(acc.std())

    def to_json(self, with_samples: bool = False) -> dict[str, Any]:
        """A JSON-ready summary (``accuracy`` in [0, 1])."""
        out: dict[str, Any] = {
            **self.label,
            "accuracy": self.accuracy,
            "total": self.total,
            "correct": self.correct,
            "wrong": self.count("wrong"),
            "parse_failures": self.count("unparsable"),
            "missing": self.count("missing"),
            "unknown_ids": len(self.unknown_ids),
        }
        categories = self.per_category()
        if categories:
            out["per_category"] = {
                k: {"accuracy": c / t, "correct": c, "total": t}
                for k, (c, t) in categories.items()
            }
        stats = self.fold_mean_std()
        if stats:
            out["folds"] = [
                {"fold": f.fold, "accuracy": f.accuracy, "total": f.total, "correct": f.correct}
                for f in self.folds
            ]
            out["fold_mean"], out["fold_std"] = stats
        if with_samples:
            out["samples"] = [r.__dict__ for r in self.results]
        return out


def evaluate_answers(
    ground_truth: Mapping[str, GroundTruth],
    answers: Mapping[str, str],
    folds: Mapping[int, Sequence[str]] | None = None,
    label: dict[str, Any] | None = None,
) -> EvaluationReport:
    """Score answers for every ground-truth sample.

    Args:
        ground_truth: id -> ground truth; every one of these is scored.
        answers: id -> model answer text; a missing or unparsable answer is a failure.
        folds: optional fold index -> test-set ids, for per-fold accuracy (mean +- std).
        label: extra keys carried into the JSON summary (format, split, ...).
    """
    ids = list(ground_truth)
    centers = np.full((len(ids), 2), np.nan)
    angles = np.full(len(ids), np.nan)
    status: list[str] = []
    errors: list[str | None] = []
    for i, sid in enumerate(ids):
        text = answers.get(sid)
        if text is None:
            status.append("missing")
            errors.append(None)
            continue
        try:
            parsed = parse_answer(text)
        except AnswerParseError as exc:
            status.append("unparsable")
            errors.append(exc.reason)
            continue
        width, height = ground_truth[sid].image_size
        centers[i] = parsed.pose.to_pixels(width, height)
        angles[i] = parsed.pose.theta
        status.append("parsed")
        errors.append(None)
    metric = rectangle_metric(centers, angles, [ground_truth[sid].corners for sid in ids])
    results = []
    for i, sid in enumerate(ids):
        st = status[i]
        if st == "parsed":
            st = "correct" if metric.correct[i] else "wrong"
        err = metric.best_angle_error[i]
        results.append(
            SampleResult(
                id=sid,
                status=st,
                category=ground_truth[sid].category,
                best_iou=float(metric.best_iou[i]),
                angle_error_deg=None if math.isnan(err) else math.degrees(err),
                error=errors[i],
            )
        )
    fold_scores = []
    if folds is not None:
        by_id = {r.id: r for r in results}
        for k, test_ids in folds.items():
            scored = [by_id[t] for t in test_ids if t in by_id]
            fold_scores.append(FoldScore(k, len(scored), sum(r.correct for r in scored)))
    unknown = sorted(set(answers) - set(ground_truth))
    return EvaluationReport(results, unknown, fold_scores, dict(label or {}))
