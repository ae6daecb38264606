"""The rectangle metric (Jiang et al. 2011) as RT-Grasp applies it.

A prediction ``(x, y, theta)`` has no opening, so for each ground-truth rectangle it is drawn
with that rectangle's opening and jaw size. It is correct iff, for at least one ground-truth
rectangle, the polygons' IoU is above 0.25 and the angles differ by less than 30 degrees
(modulo pi). IoU is the exact polygon IoU, computed with shapely's vectorised operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike

from rt_grasp_ros.grasp.angles import angle_difference
from rt_grasp_ros.grasp.rectangle import corners_from_params, params_from_corners

IOU_THRESHOLD = 0.25
ANGLE_THRESHOLD = np.deg2rad(30.0)


@dataclass(frozen=True)
class MetricResult:
    """Per-prediction outcome of the rectangle metric.

    Attributes:
        correct: ``(N,)`` bool, whether each prediction is a correct grasp.
        best_iou: ``(N,)`` highest IoU with a ground-truth rectangle whose angle is within
            the threshold (0 when there is none, or the prediction is missing).
        best_angle_error: ``(N,)`` smallest angle difference in radians (nan when missing).
    """

    correct: np.ndarray
    best_iou: np.ndarray
    best_angle_error: np.ndarray

    @property
    def accuracy(self) -> float:
        """Fraction of correct predictions (0 for an empty batch)."""
        return float(self.correct.mean()) if self.correct.size else 0.0


def polygon_iou(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Exact IoU of convex quadrilaterals ``(N, 4, 2)`` against ``(N, 4, 2)``, pairwise."""
    pa = shapely.polygons(np.asarray(a, dtype=np.float64))
    pb = shapely.polygons(np.asarray(b, dtype=np.float64))
    inter = shapely.area(shapely.intersection(pa, pb))
    union = shapely.area(pa) + shapely.area(pb) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def rectangle_metric(
    centers: ArrayLike,
    angles: ArrayLike,
    ground_truth: Sequence[np.ndarray],
    iou_threshold: float = IOU_THRESHOLD,
    angle_threshold: float = ANGLE_THRESHOLD,
) -> MetricResult:
    """Score a batch of predictions against their ground-truth rectangles.

    Args:
        centers: ``(N, 2)`` predicted centres in pixels; a row of NaN marks a missing
            (e.g. unparsable) prediction, which counts as incorrect.
        angles: ``(N,)`` predicted angles in radians.
        ground_truth: N arrays of shape ``(M_i, 4, 2)``: the ground-truth corners, in pixels
            of the same image as the prediction.
        iou_threshold: IoU must be strictly above this.
        angle_threshold: the angle difference must be strictly below this (radians).
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    n = len(centers)
    if len(angles) != n or len(ground_truth) != n:
        raise ValueError(
            f"rectangle_metric needs as many angles and ground-truth sets as centres: "
            f"got {n} centres, {len(angles)} angles, {len(ground_truth)} ground-truth sets"
        )
    counts = np.array([len(g) for g in ground_truth], dtype=np.int64)
    owner = np.repeat(np.arange(n), counts)  # which prediction each pair belongs to
    valid = np.isfinite(centers).all(axis=1) & np.isfinite(angles)
    pair_valid = valid[owner]

    iou = np.zeros(len(owner))
    angle_err = np.full(len(owner), np.nan)
    if pair_valid.any():
        gt = np.concatenate([np.asarray(g, np.float64).reshape(-1, 4, 2) for g in ground_truth])
        idx = owner[pair_valid]
        _, _, gt_angle, gt_w, gt_h = params_from_corners(gt[pair_valid])
        angle_err[pair_valid] = angle_difference(angles[idx], gt_angle)
        # Polygons only for pairs that pass the (cheap) angle test.
        sel = angle_err[pair_valid] < angle_threshold
        close = np.flatnonzero(pair_valid)[sel]
        pred = corners_from_params(
            centers[idx[sel], 0], centers[idx[sel], 1], angles[idx[sel]], gt_w[sel], gt_h[sel]
        )
        iou[close] = polygon_iou(pred, gt[close])

    pair_ok = iou > iou_threshold  # iou stays 0 for invalid pairs and angle misses
    correct = np.zeros(n, dtype=bool)
    np.logical_or.at(correct, owner, pair_ok)
    best_iou = np.zeros(n)
    np.maximum.at(best_iou, owner, iou)
    best_angle = np.full(n, np.inf)
    np.fmin.at(best_angle, owner, np.nan_to_num(angle_err, nan=np.inf))
    best_angle[~np.isfinite(best_angle)] = np.nan
    return MetricResult(correct=correct, best_iou=best_iou, best_angle_error=best_angle)


def rectangle_metric_reference(
    centers: ArrayLike,
    angles: ArrayLike,
    ground_truth: Sequence[np.ndarray],
    iou_threshold: float = IOU_THRESHOLD,
    angle_threshold: float = ANGLE_THRESHOLD,
) -> np.ndarray:
    """The same metric as a plain per-pair loop over shapely Polygons.

    Kept as the readable definition: tests check the vectorised version against it and the
    benchmark measures the speed-up.
    """
    from shapely.geometry import Polygon

    out = []
    for (cx, cy), theta, gts in zip(
        np.asarray(centers), np.asarray(angles), ground_truth, strict=True
    ):
        ok = False
        if np.isfinite([cx, cy, theta]).all():
            for g in np.asarray(gts).reshape(-1, 4, 2):
                _, _, ga, gw, gh = (float(v) for v in params_from_corners(g))
                if float(angle_difference(theta, ga)) >= angle_threshold:
                    continue
                p = Polygon(corners_from_params(cx, cy, theta, gw, gh))
                q = Polygon(g)
                inter = p.intersection(q).area
                union = p.area + q.area - inter
                if union > 0 and inter / union > iou_threshold:
                    ok = True
                    break
        out.append(ok)
    return np.array(out, dtype=bool)
