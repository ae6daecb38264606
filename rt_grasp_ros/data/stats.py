"""Summaries of a built dataset (``rt-grasp dataset stats``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from rt_grasp_ros.data.records import BuiltDataset
from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.prompts.parser import parse_answer


def dataset_stats(dataset: BuiltDataset) -> dict[str, Any]:
    """Counts per fold, object overlap between train and test, categories, answers, angles."""
    gt = dataset.ground_truth()
    originals = [g for g in gt.values() if g.id == g.source_id]
    folds = []
    answers_by_id: dict[str, str] = {}
    for k in range(dataset.num_folds):
        train, test = dataset.records(k, "train"), dataset.records(k, "test")
        for r in train + test:
            answers_by_id[r["id"]] = r["conversations"][1]["value"]
        train_objects = {r.get("object") or r["source_id"] for r in train}
        test_objects = {r.get("object") or r["source_id"] for r in test}
        folds.append(
            {
                "fold": k,
                "train": len(train),
                "test": len(test),
                "train_objects": len(train_objects),
                "test_objects": len(test_objects),
                "shared_objects": len(train_objects & test_objects),
            }
        )
    answers = list(answers_by_id.values())
    angles, unparsable = [], 0
    for text in answers:
        try:
            angles.append(parse_answer(text).pose.theta)
        except AnswerParseError:
            unparsable += 1
    lengths = np.array([len(a) for a in answers]) if answers else np.zeros(1)
    rects = np.array([len(g.corners) for g in originals]) if originals else np.zeros(1)
    hist, edges = np.histogram(angles, bins=6, range=(-np.pi / 2, np.pi / 2))
    m = dataset.manifest
    return {
        "format": m["format"],
        "split": m["split"],
        "folds": m["folds"],
        "augment": m.get("augment", 0),
        "materialized": m.get("materialized", False),
        "source_images": len(originals),
        "samples": len(gt),
        "fold_counts": folds,
        "categories": dict(Counter(g.category or "unknown" for g in originals).most_common()),
        "rectangles_per_image": {
            "mean": float(rects.mean()),
            "min": int(rects.min()),
            "max": int(rects.max()),
        },
        "answer_chars": {"mean": float(lengths.mean()), "max": int(lengths.max())},
        "unparsable_answers": unparsable,
        "angle_histogram": {
            "edges_deg": [round(float(np.degrees(e)), 1) for e in edges],
            "counts": hist.tolist(),
        },
    }
