from __future__ import annotations

import json

import numpy as np
import pytest

from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.manip.dataset import (
    ATTEMPTS,
    TASKS_FILE,
    build_tasks,
    is_task_folder,
    load_samples,
    merge,
    read_tasks,
    write_sample,
)
from rt_grasp_ros.manip.tasks import TASKS
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame


def frame() -> RGBDFrame:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    depth = np.full((48, 64), 0.6, np.float32)
    return RGBDFrame(rgb, depth, PinholeCamera.ideal(64, 48, 50.0))


def record(seed: int, success: bool = True) -> dict:
    return {
        "seed": seed,
        "category": "door",
        "split": "train",
        "part_type": "revolute",
        "success": success,
        "delta": 0.3 if success else 0.0,
        "failure": None if success else "no movement",
        "contact": {
            "pixel": [40.5, 20.5],
            "up_camera": [0.0, 0.0, 1.0],
            "forward_camera": [1.0, 0.0, 0.0],
            "up_base": [1.0, 0.0, 0.0],
            "forward_base": [0.0, 0.0, -1.0],
        },
    }


def shard(folder, seeds):
    folder.mkdir(parents=True)
    obj = np.zeros((48, 64), bool)
    obj[5:45, 5:60] = True
    part = np.zeros((48, 64), bool)
    part[10:40, 20:55] = True
    aff = np.where(part, np.tile(np.linspace(0, 1, 64), (48, 1)), 0.0)
    rows = []
    for s in seeds:
        r = record(s, success=s % 2 == 0)
        rows.append(r)
        if r["success"]:
            write_sample(folder, r, frame(), aff, obj, part)
    (folder / ATTEMPTS).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "manifest.json").write_text(json.dumps({"wall_s": 2.0, "workers": 2}))
    return folder


def test_a_sample_folder_holds_images_maps_and_the_record(tmp_path):
    shard(tmp_path / "a", [4])
    (meta,) = load_samples(tmp_path / "a")
    assert meta["image"] == "samples/00000004/rgb.png"
    assert meta["contact"]["pixel"] == [40.5, 20.5] and meta["camera"]["width"] == 64
    d = tmp_path / "a" / "samples" / "00000004"
    assert {p.name for p in d.iterdir()} == {
        "rgb.png",
        "depth.png",
        "affordance.png",
        "mask.png",
        "sample.json",
    }
    path = build_tasks(tmp_path / "a")
    tasks = json.loads(path.read_text())
    assert [t["task"] for t in tasks] == [*TASKS, "chain"] + ["point"] * 4
    path = build_tasks(tmp_path / "a", chain=False, points=0)
    assert [t["task"] for t in read_tasks(tmp_path / "a")] == list(TASKS)


def test_tasks_are_read_by_name(tmp_path):
    a = shard(tmp_path / "a", [0, 2])
    build_tasks(a)
    assert is_task_folder(a) and not is_task_folder(tmp_path)
    assert len(read_tasks(a)) == 2 * (5 + 4)
    chosen = read_tasks(a, ("pose", "category"))
    assert sorted(r["task"] for r in chosen) == ["category", "category", "pose", "pose"]
    build_tasks(a, chain=False, points=0)
    with pytest.raises(DatasetError, match=r"no conversations of task\(s\) \['chain'\]"):
        read_tasks(a, ("pose", "chain"))
    with pytest.raises(DatasetError, match="cannot read the ManipLLM task file"):
        read_tasks(tmp_path)


def test_merge_joins_shards_and_builds_the_tasks(tmp_path):
    a = shard(tmp_path / "a", [0, 1, 2])
    b = shard(tmp_path / "b", [3, 4, 5])
    manifest = merge([b, a], tmp_path / "all")
    assert manifest["attempts"] == 6 and manifest["successes"] == 3
    assert manifest["success_ratio"] == 0.5
    assert manifest["samples_per_process_s"] == pytest.approx(6 / 8)
    lines = (tmp_path / "all" / ATTEMPTS).read_text().splitlines()
    seeds = [json.loads(x)["seed"] for x in lines]
    assert seeds == [0, 1, 2, 3, 4, 5]
    tasks = json.loads((tmp_path / "all" / TASKS_FILE).read_text())
    assert len(tasks) == 3 * (5 + 4)  # four tasks, the chain, four one-point questions
    assert {t["image"] for t in tasks} == {f"samples/{s:08d}/rgb.png" for s in (0, 2, 4)}


def test_merge_refuses_overlapping_shards(tmp_path):
    a = shard(tmp_path / "a", [0, 1])
    b = shard(tmp_path / "b", [1, 2])
    with pytest.raises(DatasetError, match="seed 1 is in both"):
        merge([a, b], tmp_path / "all")
    with pytest.raises(DatasetError, match="not a collection folder"):
        merge([tmp_path], tmp_path / "all")
