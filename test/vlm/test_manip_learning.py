"""The tiny model learns ManipLLM's pose from the images: trained through ``rt-grasp train`` on
a small collection folder, its greedy, free-decoded contacts land on the moving part far more
often than chance, and its up directions near the truth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from manip_synthetic import write_manip_collection

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.manip.dataset import load_samples
from rt_grasp_ros.manip.tasks import chain_of_thought, load_task_formats
from rt_grasp_ros.manip.tta import greedy_contact
from rt_grasp_ros.vlm.checkpoint import load_checkpoint


@pytest.fixture
def one_thread():
    """One intra-op thread: the 0.6M-parameter model gains nothing from more on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def decode_contacts(checkpoint: Path, folder: Path) -> list[dict]:
    """Each sample's greedy answer to the pose prompt, parsed, beside its truth."""
    backbone, _ = load_checkpoint(checkpoint, "float32", "cpu")
    formats = load_task_formats()
    out = []
    for meta in load_samples(folder):
        d = folder / Path(meta["image"]).parent
        question = chain_of_thought(formats, meta["category"])[2]
        try:
            contact, _ = greedy_contact(backbone, read_rgb(d / "rgb.png"), question, 96)
        except AnswerParseError:
            contact = None
        out.append({"meta": meta, "mask": cv2.imread(str(d / "mask.png"), -1), "pose": contact})
    return out


@pytest.mark.usefixtures("one_thread")
def test_tiny_llava_puts_its_contacts_on_the_moving_part(tmp_path):
    folder = write_manip_collection(tmp_path / "collection", 12)
    ckpt = tmp_path / "ckpt"
    args = ["train", "--config", "manip-tiny", "--data", str(folder), "--output", str(ckpt)]
    sets = [
        "optim.max_steps=300",
        "data.tasks=[pose]",
        "optim.learning_rate=2e-3",
        "logging_steps=50",
    ]
    assert main([*args, *[w for s in sets for w in ("--set", s)], "--no-progress"]) == 0
    results = decode_contacts(ckpt, folder)
    parsed = [r for r in results if r["pose"] is not None]
    on_part = []
    for r in parsed:
        x, y = round(r["pose"].x), round(r["pose"].y)
        h, w = r["mask"].shape
        on_part.append(0 <= x < w and 0 <= y < h and r["mask"][y, x] == 2)
    # Chance: a uniform pixel lands on the part as often as the part covers the image. The
    # training contacts' mean lands on it as often as positions repeat (not here: the parts
    # are anywhere), so hitting the part needs the image.
    chance = float(np.mean([(r["mask"] == 2).mean() for r in results]))
    mean_x, mean_y = np.mean([r["meta"]["contact"]["pixel"] for r in results], axis=0)
    mean_hits = np.mean([r["mask"][round(mean_y), round(mean_x)] == 2 for r in results])
    up = [_angle(r["pose"].up, r["meta"]["contact"]["up_camera"]) for r in parsed]
    print(
        f"parsed {len(parsed)}/{len(results)}, on part {sum(on_part)}, chance {chance:.3f}, "
        f"mean-point {mean_hits:.3f}, up median {np.median(up):.1f} deg, max {np.max(up):.1f}"
    )
    # Measured (300 steps of the pose prompt, 40 s on a loaded 2-core CPU): 12/12 parsed and
    # on the part (chance 0.043, the training contacts' mean 0.0), up directions within
    # 0.8 deg (median 0.5). On training images: the test is that the model reads the image.
    assert len(parsed) == len(results)
    assert np.mean(on_part) >= 0.6 and np.mean(on_part) > 5 * max(chance, mean_hits)
    assert np.median(up) < 10 and np.mean(np.array(up) < 20) >= 0.8


def _angle(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b), -1.0, 1.0))))


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_tiny_llava_learns_from_a_simulator_collection(tmp_path):
    pytest.importorskip("mujoco")
    folder = tmp_path / "collection"
    assert main(["manip", "collect", "--out", str(folder), "--n", "12", "--json"]) == 0
    assert len(load_samples(folder)) >= 3
    ckpt = tmp_path / "ckpt"
    args = ["train", "--config", "manip-tiny-ft", "--data", str(folder), "--output", str(ckpt)]
    sets = ["optim.max_steps=200", "optim.learning_rate=2e-3", "logging_steps=50"]
    assert main([*args, *[w for s in sets for w in ("--set", s)], "--no-progress"]) == 0
    results = decode_contacts(ckpt, folder)
    parsed = [r for r in results if r["pose"] is not None]
    on_part = [r["mask"][round(r["pose"].y), round(r["pose"].x)] == 2 for r in parsed]
    up = [_angle(r["pose"].up, r["meta"]["contact"]["up_camera"]) for r in parsed]
    # The objects sit near the image centre, so a fixed point is often on the part too; the up
    # direction is what the image decides. Measured (seeds 0-11: 6 samples, 200 steps, about
    # 50 s with the collection): 6/6 parsed and on the part, up 0.3 deg from the truth
    # (median), the training mean 25.7 deg off. On training images, as the test above.
    mean_up = np.mean([r["meta"]["contact"]["up_camera"] for r in results], axis=0)
    mean_error = np.median(
        [
            _angle(mean_up / np.linalg.norm(mean_up), r["meta"]["contact"]["up_camera"])
            for r in results
        ]
    )
    print(
        f"{len(parsed)}/{len(results)} parsed, {sum(on_part)} on the part, up median "
        f"{np.median(up):.1f} deg (training mean {mean_error:.1f})"
    )
    assert len(parsed) >= 0.8 * len(results) and np.mean(on_part) >= 0.6
    assert np.median(up) < 10 and np.median(up) < mean_error / 2
