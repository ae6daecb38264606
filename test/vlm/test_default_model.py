"""The shipped default model: found by name, small, and it looks at the image."""

from __future__ import annotations

from pathlib import Path

import pytest

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.vlm import default
from rt_grasp_ros.vlm.default import DEFAULT_MODEL, default_model_dir, resolve_model

SHIPPED = default_model_dir()
needs_shipped = pytest.mark.skipif(
    not (SHIPPED / "rt_grasp_checkpoint.json").exists(), reason="no shipped default model"
)


def test_other_names_pass_through():
    assert resolve_model("runs/demo/model") == "runs/demo/model"
    assert resolve_model(Path("/x/ckpt")) == "/x/ckpt"


def test_a_missing_default_model_says_how_to_rebuild_it(monkeypatch, tmp_path):
    monkeypatch.setattr(default, "default_model_dir", lambda name="default": tmp_path / "none")
    with pytest.raises(RtGraspError, match="rt-grasp model reproduce"):
        resolve_model(DEFAULT_MODEL)


@needs_shipped
def test_the_shipped_model_is_small_and_reproducible():
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size <= 20 * 2**20, f"{size / 2**20:.1f} MB"
    assert (SHIPPED / "training_curve.png").exists() and (SHIPPED / "recipe.json").exists()
    assert resolve_model(DEFAULT_MODEL) == str(SHIPPED)


@needs_shipped
@pytest.mark.slow
def test_the_shipped_model_names_and_grasps_an_unseen_object():
    pytest.importorskip("mujoco")
    pytest.importorskip("transformers")
    from rt_grasp_ros.pipeline.trials import model_trial
    from rt_grasp_ros.sim.trials import TrialConfig
    from rt_grasp_ros.vlm.predictor import GraspPredictor

    trial = model_trial(GraspPredictor.from_pretrained(DEFAULT_MODEL, dtype="float32"))
    results = [trial(seed, TrialConfig(source="model")) for seed in (7_000_001, 7_000_002)]
    assert all(r.answer for r in results)
    assert all(r.named == r.category for r in results), [(r.category, r.answer) for r in results]
    assert any(r.success for r in results), [r.reason for r in results]
