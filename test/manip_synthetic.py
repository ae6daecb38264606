"""A generated ManipLLM collection folder (the layout ``rt-grasp manip collect`` writes).

Each sample is a plain-coloured cabinet (static body) on a table with a movable part (a
drawer or door front, in a colour of its own) at a random place; the affordance is high on
the part's handle side and the contact is there, pushing into the part. Images are small, so
that a tiny model trains on them in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rt_grasp_ros.manip.dataset import ATTEMPTS, build_tasks, write_sample
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame

TABLE = (150, 120, 90)
BODY = (200, 200, 205)
PART = (40, 90, 200)


def _sample(seed: int, size: int) -> tuple[dict, RGBDFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rgb = np.empty((size, size, 3), np.uint8)
    rgb[:] = TABLE
    w, h = rng.integers(size // 3, size // 2, 2)
    x0, y0 = rng.integers(2, size - w - 2), rng.integers(2, size - h - 2)
    obj = np.zeros((size, size), bool)
    obj[y0 : y0 + h, x0 : x0 + w] = True
    pw, ph = w // 2, h // 2
    px0, py0 = x0 + rng.integers(2, w - pw - 1), y0 + rng.integers(2, h - ph - 1)
    part = np.zeros((size, size), bool)
    part[py0 : py0 + ph, px0 : px0 + pw] = True
    rgb[obj] = BODY
    rgb[part] = PART
    affordance = np.zeros((size, size))
    xs = np.arange(size)
    ramp = np.clip((xs - px0) / max(pw - 1, 1), 0, 1)  # high towards the handle (right) side
    affordance[part] = np.broadcast_to(ramp, (size, size))[part]
    x, y = px0 + 0.8 * (pw - 1), py0 + 0.5 * (ph - 1)
    tilt = rng.uniform(-0.4, 0.4, 2)
    up = np.array([tilt[0], tilt[1], 1.0]) / np.linalg.norm([tilt[0], tilt[1], 1.0])
    forward = np.cross(up, [0.0, 1.0, 0.0])
    forward /= np.linalg.norm(forward)
    record = {
        "seed": seed,
        "category": "drawer",
        "split": "train",
        "part_type": "prismatic",
        "success": True,
        "delta": 0.2,
        "failure": None,
        "contact": {
            "pixel": [float(x), float(y)],
            "up_camera": up.tolist(),
            "forward_camera": forward.tolist(),
            "up_base": up.tolist(),
            "forward_base": forward.tolist(),
        },
    }
    depth = np.full((size, size), 0.8, np.float32)
    frame = RGBDFrame(rgb, depth, PinholeCamera.ideal(size, size, float(size)))
    return record, frame, affordance, obj | part, part


def write_manip_collection(folder: Path, n: int, size: int = 64, chain: bool = True) -> Path:
    """``n`` samples (seeds 0..n-1) and their task file in ``folder``; the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(n):
        record, frame, affordance, obj, part = _sample(seed, size)
        write_sample(folder, record, frame, affordance, obj, part)
        rows.append(record)
    (folder / ATTEMPTS).write_text("".join(json.dumps(r) + "\n" for r in rows))
    build_tasks(folder, chain=chain)
    return folder


def manip_corpus() -> list[str]:
    """The task texts with every category's names (what a tokenizer for ManipLLM sees)."""
    f = load_task_formats()
    texts = [f.category.questions[0], f.reasoning.questions[0], f.pose.questions[0]]
    texts.append(f.pose.answer.format(x=120, y=80, up="(1, -20, 45)", forward="(-3, 44, 20)"))
    for names in f.names.values():
        texts += [
            f.category.answer.format(**names),
            f.reasoning.questions[0].format(**names),
            f.reasoning.answer.format(**names),
        ]
    return texts
