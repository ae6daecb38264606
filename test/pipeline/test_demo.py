from __future__ import annotations

import json

import pytest
from rich.console import Console

pytest.importorskip("mujoco")
pytest.importorskip("transformers")

from rt_grasp_ros.pipeline.demo import DemoOptions, run_demo


@pytest.mark.slow
def test_demo_wires_camera_model_and_robot(tmp_path):
    options = DemoOptions(objects=2, views=2, new_views=1, baseline_trials=2, steps=40)
    summary = run_demo(tmp_path, options, Console(quiet=True), ros=False)
    assert summary["oracle"]["successes"] == 2
    assert summary["model_seen"]["trials"] == 4 and summary["model_new"]["trials"] == 2
    assert all(a["answer"] for a in summary["answers"])  # the model answered every image
    for name in (
        "summary.md",
        "summary.json",
        "model_grasps.png",
        "scene/overlay.png",
        "model/rt_grasp_checkpoint.json",
    ):
        assert (tmp_path / name).exists(), name
    assert (
        json.loads((tmp_path / "summary.json").read_text())["model_seen"] == summary["model_seen"]
    )
