from __future__ import annotations

import json

import numpy as np
import pytest

from rt_grasp_ros.data.records import GroundTruth
from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.eval import evaluate_answers, read_predictions, write_predictions
from rt_grasp_ros.grasp.rectangle import corners_from_params


def entry(sid, cx, cy, theta, category="mug"):
    return GroundTruth(
        sid, f"{sid}.png", (200, 100), corners_from_params(cx, cy, theta, 40, 20)[None], category
    )


GT = {
    "a": entry("a", 100, 50, 0.0),
    "b": entry("b", 50, 50, 1.0),
    "c": entry("c", 150, 20, -0.5, "pen"),
    "d": entry("d", 10, 10, 0.0, "pen"),
}


def test_every_ground_truth_sample_counts_and_failures_are_reported():
    answers = {
        "a": "A mug. [0.500, 0.500], 0.05",  # correct
        "b": "[0.250, 0.500], -0.5",  # wrong angle
        "c": "I cannot see a grasp.",  # unparsable
        "zzz": "[0.5, 0.5], 0",  # unknown id
    }  # d is missing
    report = evaluate_answers(GT, answers)
    summary = report.to_json()
    assert summary["total"] == 4 and summary["correct"] == 1
    assert summary["accuracy"] == pytest.approx(0.25)
    assert summary["parse_failures"] == 1 and summary["missing"] == 1 and summary["wrong"] == 1
    assert summary["unknown_ids"] == 1
    assert summary["per_category"]["mug"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    statuses = {r.id: r.status for r in report.results}
    assert statuses == {"a": "correct", "b": "wrong", "c": "unparsable", "d": "missing"}


def test_fold_mean_and_std():
    answers = {"a": "[0.5, 0.5], 0", "b": "[0.25, 0.5], 1.0", "c": "[0.75, 0.2], -0.5"}
    report = evaluate_answers(GT, answers, folds={0: ["a", "b"], 1: ["c", "d"]})
    mean, std = report.fold_mean_std()
    assert (mean, std) == pytest.approx((0.75, 0.25))
    assert [f.accuracy for f in report.folds] == [1.0, 0.5]


def test_predictions_file_errors_name_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    write_predictions(path, [{"id": "a", "text": "x"}, {"id": "b", "text": "y", "extra": 1}])
    assert read_predictions(path) == {"a": "x", "b": "y"}
    for body, match in [
        (
            '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n',
            r"p.jsonl:2: id 'a' was already given on line 1",
        ),
        ('{"id": "a"}\n', r"p.jsonl:1: field 'text' must be a string"),
        ("{nope\n", r"p.jsonl:1: invalid JSON"),
        ("[1, 2]\n", r"p.jsonl:1: expected an object"),
    ]:
        path.write_text(body)
        with pytest.raises(DatasetError, match=match):
            read_predictions(path)


def test_ground_truth_json_round_trip():
    g = GT["a"]
    back = GroundTruth.from_json(json.loads(json.dumps(g.to_json())), "x")
    np.testing.assert_allclose(back.corners, g.corners, atol=0.01)
    assert (back.id, back.image_size, back.category) == (g.id, g.image_size, g.category)
    with pytest.raises(DatasetError, match=r"gt\.jsonl:3: malformed"):
        GroundTruth.from_json({"id": "x"}, "gt.jsonl:3")
