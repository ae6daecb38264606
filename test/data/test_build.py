from __future__ import annotations

import json

import numpy as np
import pytest

from rt_grasp_ros.data.build import BuildConfig, build_dataset
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.data.records import open_built_dataset
from rt_grasp_ros.data.stats import dataset_stats
from rt_grasp_ros.errors import ConfigError, DatasetError
from rt_grasp_ros.eval.sources import EvaluationSet
from rt_grasp_ros.prompts import load_templates, parse_answer
from rt_grasp_ros.prompts.conversation import PromptTemplates


def build(cornell_dir, out, **kw):
    samples = load_cornell(cornell_dir)
    cfg = BuildConfig(**kw)
    return samples, build_dataset(
        samples, out, cfg, {"kind": "cornell", "root": str(cornell_dir)}, progress=False
    )


def test_llava_layout_and_fold_counts(cornell_dir, tmp_path):
    samples, summary = build(cornell_dir, tmp_path / "out", augment=2, folds=5, split="image")
    ds = open_built_dataset(tmp_path / "out")
    assert summary.samples == 10 * 3
    for k in range(5):
        train, test = ds.records(k, "train"), ds.records(k, "test")
        assert len(test) == 2 and len(train) == 8 * 3
        assert not {r["source_id"] for r in train} & {r["id"] for r in test}
        for r in train + test:
            human, gpt = r["conversations"]
            assert human["from"] == "human" and human["value"].startswith("<image>\n")
            assert gpt["from"] == "gpt"
            assert (ds.image_folder / r["image"]).exists()
            assert parse_answer(gpt["value"]).pose is not None
    test_ids = {r["id"] for k in range(5) for r in ds.records(k, "test")}
    assert test_ids == {s.id for s in samples}  # un-augmented test ids are image stems


def test_answer_pose_is_one_of_the_ground_truth_grasps(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "out", augment=3, folds=1)
    ds = open_built_dataset(tmp_path / "out")
    gt = ds.ground_truth()
    for r in ds.records(0, "train"):
        pose = parse_answer(r["conversations"][1]["value"]).pose
        g = gt[r["id"]]
        centres = g.corners.mean(axis=1)
        px, py = pose.to_pixels(*g.image_size)
        assert np.min(np.linalg.norm(centres - [px, py], axis=1)) < 1.0


def test_reasoning_follows_category_and_format(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "rt", folds=1, format="rt")
    build(cornell_dir, tmp_path / "a", folds=1, format="no-reasoning-a")
    rt = open_built_dataset(tmp_path / "rt").records(0, "train")
    a = open_built_dataset(tmp_path / "a").records(0, "train")
    assert all("pen" in r["conversations"][1]["value"].lower() for r in rt)
    assert all(r["conversations"][1]["value"].startswith("[") for r in a)


def test_records_keep_category_and_grasp_and_the_manifest_the_templates(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "out", augment=1, folds=1)
    ds = open_built_dataset(tmp_path / "out")
    prompts = PromptTemplates.from_manifest(ds.manifest, "manifest.json")
    lib = load_templates()
    assert prompts.instructions == lib.instructions
    assert prompts.reasoning == {"pen": lib.reasoning["pen"]}
    assert ds.manifest["instructions"][0] == lib.instructions[0]  # what prediction asks
    records = ds.records(0, "train")
    for r in records:
        human, gpt = r["conversations"]
        parsed = parse_answer(gpt["value"])
        assert [parsed.pose.x, parsed.pose.y, parsed.pose.theta] == pytest.approx(
            r["grasp"], abs=5e-4
        )
        assert r["category"] == "pen" and parsed.reasoning in lib.reasoning["pen"]
        assert human["value"].removeprefix("<image>\n") in lib.instructions
    assert len({r["conversations"][0]["value"] for r in records}) > 1


def test_build_is_deterministic(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "x", augment=2, folds=2, seed=5)
    build(cornell_dir, tmp_path / "y", augment=2, folds=2, seed=5)
    for name in ("fold_0/train.json", "fold_1/test.json", "ground_truth.jsonl"):
        assert (tmp_path / "x" / name).read_text() == (tmp_path / "y" / name).read_text()


def test_materialized_images_equal_on_the_fly_rendering(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "fly", augment=2, folds=1, seed=1)
    build(cornell_dir, tmp_path / "mat", augment=2, folds=1, seed=1, materialize=True)
    fly, mat = open_built_dataset(tmp_path / "fly"), open_built_dataset(tmp_path / "mat")
    fly_gt, mat_gt = fly.ground_truth(), mat.ground_truth()
    assert mat.manifest["image_folder"] == "images"
    on_the_fly = EvaluationSet(fly_gt, fly.image_folder)
    for sid in ["pcd0100_a001", "pcd0104_a000"]:
        np.testing.assert_allclose(fly_gt[sid].corners, mat_gt[sid].corners)
        rendered = on_the_fly.load_image(sid).astype(int)
        stored = read_rgb(mat.image_path(mat_gt[sid].image)).astype(int)
        assert np.abs(rendered - stored).mean() < 2.0  # JPEG at quality 95


def test_stats_report_object_overlap_and_categories(cornell_dir, tmp_path):
    build(cornell_dir, tmp_path / "o", folds=5, split="object", augment=1)
    stats = dataset_stats(open_built_dataset(tmp_path / "o"))
    assert stats["source_images"] == 10 and stats["samples"] == 20
    assert all(f["shared_objects"] == 0 for f in stats["fold_counts"])
    assert stats["categories"] == {"pen": 10}
    assert stats["unparsable_answers"] == 0
    assert sum(stats["angle_histogram"]["counts"]) == 20


def test_bad_config_and_missing_dataset(tmp_path):
    with pytest.raises(ConfigError, match="augment"):
        BuildConfig(augment=-1)
    with pytest.raises(ConfigError, match="unknown answer format"):
        BuildConfig(format="cot")
    with pytest.raises(DatasetError, match=r"manifest\.json is missing"):
        open_built_dataset(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1}))
    with pytest.raises(DatasetError, match="missing keys"):
        open_built_dataset(tmp_path)
