"""Augmented dataset build at the paper's ratio (885 images -> ~76k samples).

Builds twice from the same generated Cornell folder: storing transforms (rendered on the fly
by the training loader) and materialising JPEGs for a subset; prints rates and ratios.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))

from synthetic import write_cornell_folder

from rt_grasp_ros.data.build import BuildConfig, build_dataset
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.data.records import open_built_dataset
from rt_grasp_ros.eval.sources import EvaluationSet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=885)
    parser.add_argument("--augment", type=int, default=85, help="885 * (1 + 85) = 76,110 samples")
    parser.add_argument("--materialize-images", type=int, default=40)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rt_grasp_bench_"))
    source = work / "cornell"
    t = time.perf_counter()
    if not source.exists():
        write_cornell_folder(source, n_images=args.images, objects_per_image=4)
    print(f"generated {args.images} Cornell images in {time.perf_counter() - t:.1f} s ({source})")

    samples = load_cornell(source)
    cfg = BuildConfig(augment=args.augment, folds=5, split="object")
    summary = build_dataset(samples, work / "fly", cfg, {"kind": "cornell", "root": str(source)})
    rate_fly = summary.samples / summary.seconds
    print(
        f"on-the-fly build: {summary.samples:,} samples, 5 folds, {summary.seconds:.1f} s "
        f"({rate_fly:,.0f} samples/s)"
    )

    subset = samples[: args.materialize_images]
    mat_cfg = BuildConfig(augment=args.augment, folds=1, materialize=True)
    mat = build_dataset(subset, work / "mat", mat_cfg, {"kind": "cornell", "root": str(source)})
    rate_mat = mat.samples / mat.seconds
    est = summary.samples / rate_mat
    print(
        f"materialised build: {mat.samples:,} JPEGs in {mat.seconds:.1f} s "
        f"({rate_mat:,.0f} images/s); all {summary.samples:,} would take {est / 60:.1f} min"
    )

    # What the training loader pays per sample: render on the fly vs read a stored JPEG.
    ds = open_built_dataset(work / "fly")
    gt = ds.ground_truth()
    ids = [k for k in gt if "_a" in k][:200]
    loader = EvaluationSet(gt, ds.image_folder)
    t = time.perf_counter()
    for sid in ids:
        loader.load_image(sid)
    t_render = (time.perf_counter() - t) / len(ids)
    jpgs = sorted((work / "mat" / "images").glob("*_a*.jpg"))[:200]
    t = time.perf_counter()
    for p in jpgs:
        read_rgb(p)
    t_read = (time.perf_counter() - t) / len(jpgs)
    print(
        f"per sample: render on the fly {t_render * 1e3:.1f} ms, "
        f"read stored JPEG {t_read * 1e3:.1f} ms (ratio {t_render / t_read:.2f})"
    )
    print(f"ratio of build rates, on-the-fly / materialised: {rate_fly / rate_mat:.0f}x")


if __name__ == "__main__":
    main()
