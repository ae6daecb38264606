"""Rectangle metric: vectorised (shapely ufuncs) against a per-pair loop, same data, same run."""

from __future__ import annotations

import argparse
import time

import numpy as np

from rt_grasp_ros.grasp.metric import rectangle_metric, rectangle_metric_reference
from rt_grasp_ros.grasp.rectangle import corners_from_params


def make_batch(n: int, rng: np.random.Generator):
    low, high = [280, 200, -1.5, 20, 8], [360, 280, 1.5, 80, 30]
    truths = [
        corners_from_params(*rng.uniform(low, high, (rng.integers(2, 9), 5)).T) for _ in range(n)
    ]
    # Predictions scattered around one ground-truth grasp, as a trained model's would be.
    first = np.stack([t[0] for t in truths])
    centers = first.mean(axis=1) + rng.normal(0, 12, (n, 2))
    edge = first[:, 1] - first[:, 0]
    angles = np.arctan2(-edge[:, 1], edge[:, 0]) + rng.normal(0, 0.4, n)
    return centers, angles, truths


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--predictions", type=int, default=5000)
    args = parser.parse_args()
    centers, angles, truths = make_batch(args.predictions, np.random.default_rng(0))
    pairs = sum(len(t) for t in truths)
    fast = rectangle_metric(centers, angles, truths).correct
    slow = rectangle_metric_reference(centers, angles, truths)
    assert (fast == slow).all(), "vectorised and reference metrics disagree"
    t_fast = best_of(lambda: rectangle_metric(centers, angles, truths), 5)
    t_slow = best_of(lambda: rectangle_metric_reference(centers, angles, truths), 2)
    print(f"predictions: {args.predictions}, (prediction, ground truth) pairs: {pairs}")
    print(f"accuracy (same for both): {fast.mean():.3f}")
    print(f"vectorised : {t_fast * 1e3:8.1f} ms  {pairs / t_fast:12,.0f} pairs/s")
    print(f"naive loop : {t_slow * 1e3:8.1f} ms  {pairs / t_slow:12,.0f} pairs/s")
    print(f"speed-up   : {t_slow / t_fast:.1f}x")


if __name__ == "__main__":
    main()
