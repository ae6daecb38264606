"""The collected data on disk: sample folders, merged shards and the training task file.

A collection folder holds ``attempts.jsonl`` (every attempt), ``manifest.json`` (counts,
throughput, configuration) and ``samples/<seed>/`` for each success:

- ``rgb.png``; ``depth.png`` (uint16 millimetres, 0 = no reading);
- ``affordance.png`` (uint8, ManipLLM's Eq. 1 map times 255);
- ``mask.png`` (uint8: 0 background, 1 the object's static body, 2 its moving part);
- ``sample.json``: the attempt's record (category, part type, contact pixel ``(x, y)`` =
  (column, row), up and forward directions in camera and base frames, the part's motion) and
  the camera (intrinsics ``k``, pose of the optical frame in the base frame).

``manipllm_tasks.json`` is the list of LLaVA conversations of the four tasks and the
chain-of-thought conversation of each sample (each record names its ``task``).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.manip.tasks import (
    TaskFormats,
    TaskSample,
    build_conversations,
    load_task_formats,
    sample_affordance_points,
)
from rt_grasp_ros.perception.frame import RGBDFrame

SAMPLES = "samples"
TASKS_FILE = "manipllm_tasks.json"
ATTEMPTS = "attempts.jsonl"
MANIFEST = "manifest.json"


def sample_dir(out: Path, seed: int) -> Path:
    """The folder of sample ``seed``."""
    return out / SAMPLES / f"{seed:08d}"


def write_sample(
    out: Path,
    record: dict[str, Any],
    frame: RGBDFrame,
    affordance: np.ndarray,
    obj: np.ndarray,
    movable: np.ndarray,
) -> Path:
    """Save a successful sample's images, maps and record; its folder."""
    d = sample_dir(out, record["seed"])
    d.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(d / "rgb.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    depth_mm = np.clip(np.nan_to_num(frame.depth) * 1000, 0, 65535).astype(np.uint16)
    cv2.imwrite(str(d / "depth.png"), depth_mm)
    cv2.imwrite(str(d / "affordance.png"), np.round(affordance * 255).astype(np.uint8))
    mask = np.where(movable, 2, np.where(obj, 1, 0)).astype(np.uint8)
    cv2.imwrite(str(d / "mask.png"), mask)
    cam = frame.camera
    pose = cam.base_from_camera
    meta = record | {
        "image": f"{SAMPLES}/{d.name}/rgb.png",
        "camera": {
            "width": cam.width,
            "height": cam.height,
            "k": cam.k.tolist(),
            "position": pose.position.tolist(),
            "quat_xyzw": pose.quat_xyzw.tolist(),
        },
    }
    (d / "sample.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return d


def load_samples(out: Path) -> list[dict[str, Any]]:
    """Every sample record under ``out/samples``, by seed."""
    paths = sorted((out / SAMPLES).glob("*/sample.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _task_sample(out: Path, meta: dict[str, Any], formats: TaskFormats, rng) -> TaskSample:
    d = out / Path(meta["image"]).parent
    affordance = cv2.imread(str(d / "affordance.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(d / "mask.png"), cv2.IMREAD_UNCHANGED)
    if affordance is None or mask is None:
        raise DatasetError(f"{d}: affordance.png or mask.png is missing or unreadable")
    pos, neg = sample_affordance_points(affordance / 255.0, mask, formats.affordance, rng)
    c = meta["contact"]
    contact = ContactPose(*c["pixel"], tuple(c["up_camera"]), tuple(c["forward_camera"]))
    return TaskSample(f"{meta['seed']:08d}", meta["image"], meta["category"], contact, pos, neg)


def build_tasks(
    out: Path,
    formats: TaskFormats | None = None,
    seed: int = 0,
    chain: bool = True,
    points: int = 4,
) -> Path:
    """Write ``manipllm_tasks.json``; its path.

    It holds the four task conversations of every sample, with ``chain`` the sample's
    chain-of-thought conversation, and ``points`` one-point affordance questions (task
    ``point``, the form test-time adaptation asks in).
    """
    formats = formats or load_task_formats()
    rng = np.random.default_rng(seed)
    records = []
    for meta in load_samples(out):
        sample = _task_sample(out, meta, formats, rng)
        records += build_conversations(sample, formats, rng, chain, points)
    path = out / TASKS_FILE
    path.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return path


def is_task_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a ManipLLM task file (a collection or merged shards)."""
    return (Path(folder) / TASKS_FILE).is_file()


def read_tasks(folder: str | Path, tasks: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The conversations of ``folder``'s task file, those of ``tasks`` only if given.

    Raises:
        DatasetError: no task file, or a task that has no conversation in it (a file built
            without the chain-of-thought conversation, say).
    """
    path = Path(folder) / TASKS_FILE
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read the ManipLLM task file {path}: {exc}") from exc
    if tasks is None:
        return records
    present = {r.get("task") for r in records}
    missing = [t for t in tasks if t not in present]
    if missing:
        raise DatasetError(
            f"{path}: no conversations of task(s) {missing} (it has {sorted(map(str, present))});"
            " rebuild it with build_tasks"
        )
    return [r for r in records if r.get("task") in tasks]


def read_attempts(folder: Path) -> list[dict[str, Any]]:
    """The attempts of a collection folder.

    Raises:
        DatasetError: the folder has no ``attempts.jsonl``.
    """
    path = folder / ATTEMPTS
    if not path.is_file():
        raise DatasetError(f"{folder} is not a collection folder: no {ATTEMPTS}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Attempts, successes and the success ratio, overall and per category; failure kinds."""
    per: dict[str, list[int]] = {}
    for r in records:
        per.setdefault(r["category"], [0, 0])
        per[r["category"]][0] += bool(r["success"])
        per[r["category"]][1] += 1
    n, s = len(records), sum(bool(r["success"]) for r in records)
    return {
        "attempts": n,
        "successes": s,
        "success_ratio": round(s / n, 4) if n else 0.0,
        "per_category": {
            k: {"successes": a, "attempts": b, "success_ratio": round(a / b, 4)}
            for k, (a, b) in sorted(per.items())
        },
        "failures": dict(sorted(Counter(r["failure"] for r in records if r["failure"]).items())),
    }


def merge(shards: list[Path], out: Path) -> dict[str, Any]:
    """Join shard folders into ``out``: attempts, samples, a manifest and the task file.

    Raises:
        DatasetError: a folder is not a collection, or two shards hold the same seed.
    """
    owner: dict[int, Path] = {}
    records, manifests = [], []
    for shard in shards:
        for record in read_attempts(shard):
            seed = record["seed"]
            if seed in owner:
                raise DatasetError(f"seed {seed} is in both {owner[seed]} and {shard}")
            owner[seed] = shard
            records.append(record)
        manifest = shard / MANIFEST
        if manifest.is_file():
            manifests.append(json.loads(manifest.read_text(encoding="utf-8")))
    out.mkdir(parents=True, exist_ok=True)
    for shard in shards:
        for d in sorted((shard / SAMPLES).glob("*")):
            if d.resolve() != (out / SAMPLES / d.name).resolve():
                shutil.copytree(d, out / SAMPLES / d.name, dirs_exist_ok=True)
    records.sort(key=lambda r: r["seed"])
    with (out / ATTEMPTS).open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    wall = sum(m.get("wall_s", 0.0) * m.get("workers", 1) for m in manifests)
    merged = summarize(records) | {
        "shards": [str(s) for s in shards],
        "process_seconds": round(wall, 2),
        "samples_per_process_s": round(len(records) / wall, 3) if wall else None,
    }
    (out / MANIFEST).write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    build_tasks(out)
    return merged
