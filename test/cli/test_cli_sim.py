from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.sim.urdf import URDF_FILES, robot_urdf


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_render_writes_pictures_raw_depth_and_ground_truth(tmp_path, capsys):
    out = tmp_path / "scene"
    code, text, _ = run(capsys, "sim", "render", "--seed", 4, "--out", out)
    assert code == 0 and "ground-truth grasps" in text
    for name in (
        "rgb.png",
        "depth.png",
        "depth_mm.png",
        "depth.npy",
        "crop.png",
        "overlay.png",
        "scene.json",
    ):
        assert (out / name).exists(), name
    depth = np.load(out / "depth.npy")
    depth_mm = cv2.imread(str(out / "depth_mm.png"), cv2.IMREAD_UNCHANGED)
    assert depth_mm.dtype == np.uint16 and depth.shape == (480, 640)
    np.testing.assert_allclose(depth_mm, np.round(depth * 1000), atol=1)
    record = json.loads((out / "scene.json").read_text())
    assert len(record["objects"]) == 3 and record["grasps"]
    assert np.array(record["camera"]["intrinsics"]).shape == (3, 3)
    assert cv2.imread(str(out / "crop.png")).shape == (400, 400, 3)


def test_trials_json(capsys):
    code, text, _ = run(
        capsys, "sim", "trials", "--gripper", "suction", "--n", 2, "--json", "--categories", "box"
    )
    data = json.loads(text)
    assert (
        code == 0
        and data["trials"] == 2
        and data["successes"] == 2
        and data["success_rate"] == 1.0
    )


def test_urdf_command_writes_the_committed_files(tmp_path, capsys):
    code, _, _ = run(capsys, "sim", "urdf", "--out", tmp_path)
    assert code == 0
    for name, tool in URDF_FILES.items():
        assert (tmp_path / name).read_text() == robot_urdf(tool)


def test_dataset_export_is_a_loadable_cornell_folder(tmp_path, capsys):
    out = tmp_path / "cornell"
    code, _, _ = run(
        capsys, "sim", "dataset", "--out", out, "--objects", 2, "--views", 2, "--no-progress"
    )
    assert code == 0
    samples = load_cornell(out)
    assert len(samples) == 4
    assert {s.object_id for s in samples} == {"sim0", "sim1"}
    # Object-centred squares inside the 400x400 workspace.
    assert all(s.image_size[0] == s.image_size[1] <= 400 and s.category for s in samples)
    assert samples[0].load_depth().shape == samples[0].image_size[::-1]


def test_unknown_category_is_a_one_line_error(capsys):
    code, _, err = run(capsys, "sim", "trials", "--n", 1, "--categories", "unicorn")
    assert code == 2 and "unknown object categories" in err
