from __future__ import annotations

import math

import numpy as np
import pytest

from rt_grasp_ros.grasp.metric import polygon_iou, rectangle_metric, rectangle_metric_reference
from rt_grasp_ros.grasp.rectangle import corners_from_params


def gt(cx, cy, theta, w=40.0, h=20.0):
    return corners_from_params(cx, cy, theta, w, h)[None]


def test_identical_prediction_is_correct_with_iou_one():
    res = rectangle_metric([[100, 100]], [0.3], [gt(100, 100, 0.3)])
    assert res.correct.tolist() == [True]
    assert res.best_iou[0] == pytest.approx(1.0)


def test_angle_threshold_is_strictly_below_30_degrees():
    ok = rectangle_metric([[100, 100]], [math.radians(29.9)], [gt(100, 100, 0.0)])
    bad = rectangle_metric([[100, 100]], [math.radians(30.1)], [gt(100, 100, 0.0)])
    assert ok.correct[0] and not bad.correct[0]


def test_angle_difference_wraps_modulo_pi():
    # -85 and +85 degrees are 10 degrees apart for a symmetric gripper.
    res = rectangle_metric([[100, 100]], [math.radians(-85)], [gt(100, 100, math.radians(85))])
    assert res.correct[0]


def test_iou_threshold_is_strictly_above_quarter():
    # Two 40x20 rectangles shifted along x by d: IoU = (40-d)/(40+d); 0.25 at d = 24.
    below = rectangle_metric([[124.5, 100]], [0.0], [gt(100, 100, 0.0)])
    above = rectangle_metric([[123.5, 100]], [0.0], [gt(100, 100, 0.0)])
    assert above.correct[0] and not below.correct[0]
    assert polygon_iou(gt(124, 100, 0.0), gt(100, 100, 0.0))[0] == pytest.approx(0.25)


def test_prediction_uses_each_ground_truth_size():
    # A long thin ground truth: a prediction at its centre matches only with that size.
    truths = np.concatenate([gt(300, 300, 0.0, 200, 10), gt(100, 100, 1.0, 40, 20)])
    res = rectangle_metric([[300, 300]], [0.0], [truths])
    assert res.correct[0] and res.best_iou[0] == pytest.approx(1.0)


def test_any_ground_truth_match_is_enough_and_missing_is_wrong():
    truths = np.concatenate([gt(10, 10, 0.0), gt(100, 100, 0.5)])
    res = rectangle_metric([[100, 100], [np.nan, np.nan]], [0.5, 0.0], [truths, truths])
    assert res.correct.tolist() == [True, False]
    assert np.isnan(res.best_angle_error[1])


def test_vectorised_matches_reference_loop_on_random_batches():
    rng = np.random.default_rng(1)
    n = 300
    truths = [
        corners_from_params(
            *rng.uniform([80, 80, -1.5, 20, 8], [120, 120, 1.5, 60, 25], (rng.integers(1, 6), 5)).T
        )
        for _ in range(n)
    ]
    centers = rng.uniform(70, 130, (n, 2))
    angles = rng.uniform(-1.5, 1.5, n)
    centers[::17] = np.nan
    fast = rectangle_metric(centers, angles, truths).correct
    slow = rectangle_metric_reference(centers, angles, truths)
    np.testing.assert_array_equal(fast, slow)
    assert 0.05 < fast.mean() < 0.95  # both outcomes occur


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="as many"):
        rectangle_metric([[1, 2]], [0.0, 1.0], [gt(1, 2, 0)])
