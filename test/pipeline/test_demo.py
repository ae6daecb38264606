"""The default model's pipeline end to end, at a tiny size: reproduce, install, trials, demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rich.console import Console

pytest.importorskip("mujoco")
pytest.importorskip("transformers")

from rt_grasp_ros.pipeline.default_model import (
    SHIPPED_FILES,
    Recipe,
    install_checkpoint,
    reproduce,
)
from rt_grasp_ros.pipeline.demo import DemoOptions, run_demo, trained_scenes

# One worker runs this module, so its module fixture is built once under pytest-xdist.
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """``rt-grasp model reproduce`` at a tiny size: 6 instances, one view, 3 steps."""
    out = tmp_path_factory.mktemp("default_model")
    recipe = Recipe(objects=6, views=1, seed=40, workers=1, folds=3, steps=3)
    report = reproduce(out, recipe, Console(quiet=True))
    return out, report


@pytest.mark.slow
def test_reproduce_writes_a_checkpoint_with_its_recipe(reproduced):
    out, report = reproduced
    assert report["steps"] == 3 and report["samples"]["crops"] == 6
    held_out = report["held_out_instances"]
    assert held_out and set(held_out) <= {f"sim{s}" for s in range(40, 46)}
    assert report["samples"]["train"] + report["samples"]["test"] == 6
    saved = json.loads((out / "model" / "recipe.json").read_text())
    assert saved["held_out_instances"] == held_out
    target = install_checkpoint(out / "model", out / "installed")
    assert sorted(p.name for p in target.iterdir()) == sorted(SHIPPED_FILES)
    assert not (target / "trainer").exists()  # the Trainer's intermediate checkpoints stay out


@pytest.mark.slow
def test_trained_scenes_leave_the_held_out_instances_out(reproduced):
    out, report = reproduced
    scenes = trained_scenes(out / "model", 10)
    assert scenes and all(f"sim{s}" not in report["held_out_instances"] for s, _ in scenes)
    assert all(view == 0 for _, view in scenes)  # one view per instance in this recipe


@pytest.mark.slow
def test_sim_trials_with_a_model_report_the_oracle_fields_and_naming(reproduced):
    out, _ = reproduced
    command = [sys.executable, "-m", "rt_grasp_ros.cli.main", "sim", "trials"]
    command += ["--source", "model", "--model", str(out / "model"), "--n", "2", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    summary = json.loads(result.stdout)
    for field in ("success_rate", "trials", "successes", "per_category", "failures"):
        assert field in summary, field
    assert summary["source"] == "model" and summary["trials"] == 2
    assert 0 <= summary["object_named"] <= 2 and "object_named_rate" in summary


@pytest.mark.slow
def test_demo_wires_camera_model_and_robot(reproduced, tmp_path):
    out, _ = reproduced
    options = DemoOptions(model=str(out / "model"), unseen=2, trained=2, random_trials=2)
    summary = run_demo(tmp_path, options, Console(quiet=True), ros=False)
    assert summary["oracle"]["successes"] == 2  # ground truth lifts both unseen objects
    assert summary["model_unseen"]["trials"] == 2 and summary["model_trained"]["trials"] == 2
    assert "object_named" in summary["model_unseen"]
    assert all(a["answer"] for a in summary["answers"])  # the model answered every image
    for name in ("summary.md", "summary.json", "model_grasps.png", "scene/overlay.png"):
        assert (tmp_path / name).exists(), name
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["model_unseen"] == summary["model_unseen"]
    assert "unseen scenes" in (tmp_path / "summary.md").read_text()
    assert not summary["stand_in"]


@pytest.mark.slow
def test_without_a_shipped_model_the_demo_trains_a_stand_in_and_says_so(tmp_path, monkeypatch):
    from rt_grasp_ros.vlm import default

    monkeypatch.setattr(
        default, "default_model_dir", lambda name="default": tmp_path / "not-shipped"
    )
    recipe = Recipe(objects=4, views=1, seed=40, workers=1, folds=2, config="tiny", steps=2)
    options = DemoOptions(unseen=1, trained=1, random_trials=1, stand_in=recipe)
    summary = run_demo(tmp_path / "demo", options, Console(quiet=True), ros=False)
    stand_in = tmp_path / "demo" / "stand-in" / "model"
    assert summary["stand_in"] and summary["model"] == str(stand_in)
    assert json.loads((stand_in / "recipe.json").read_text())["steps"] == 2
    assert summary["model_unseen"]["trials"] == 1 and summary["model_trained"]["trials"] == 1
    assert "stand-in trained by the demo" in (tmp_path / "demo" / "summary.md").read_text()


def test_a_bad_recipe_names_the_field():
    from rt_grasp_ros.errors import ConfigError

    for field, value in (("objects", 0), ("augment", -1), ("folds", 1)):
        with pytest.raises(ConfigError, match=field):
            Recipe(**{field: value})
