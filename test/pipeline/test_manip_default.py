"""``rt-grasp manip reproduce``: the shipped contact model rebuilt from nothing, end to end on
a tiny recipe (a few seeds, a few steps), and what it refuses."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.evaluate import EVAL_SEED
from rt_grasp_ros.pipeline.manip_default import ManipRecipe, reproduce_manip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("attempts", 0),
        ("workers", 0),
        ("steps", 0),
        ("seed", -1),
        ("seed", EVAL_SEED - 5),  # the collection would reach the evaluation's seeds
        ("categories", "everything"),
        ("categories", ("drawer", "teapot")),
        ("tool", "hand"),
    ],
)
def test_a_bad_recipe_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        ManipRecipe(**{field: value})


def test_policy_default_without_the_shipped_model_says_how_to_rebuild_it(monkeypatch, tmp_path):
    from rt_grasp_ros.manip.policies import make_policy
    from rt_grasp_ros.vlm import default

    monkeypatch.setattr(default, "default_model_dir", lambda name="default": tmp_path / name)
    with pytest.raises(RtGraspError, match=r"rt-grasp manip reproduce --out .* --install"):
        make_policy("default")


@pytest.mark.slow
def test_reproduce_collects_trains_and_installs_a_tiny_recipe(tmp_path, monkeypatch):
    pytest.importorskip("mujoco")
    pytest.importorskip("torch")
    from rt_grasp_ros.cli.main import main
    from rt_grasp_ros.manip.policies import make_policy
    from rt_grasp_ros.vlm import default

    shipped = tmp_path / "package" / "manip-default"
    monkeypatch.setattr(default, "default_model_dir", lambda name="default": shipped)
    out = tmp_path / "run"
    args = ["manip", "reproduce", "--out", str(out), "--attempts", "6", "--workers", "1"]
    args += ["--categories", "drawer", "door", "--steps", "3"]
    assert main([*args, "--install"]) == 0
    report = json.loads((out / "recipe.json").read_text())
    assert report["recipe"]["attempts"] == 6 and report["steps"] == 3
    assert report["collection"]["attempts"] == 6 and report["collection"]["successes"] >= 1
    assert (out / "collection" / "manipllm_tasks.json").exists()
    for name in ("rt_grasp_checkpoint.json", "weights.safetensors", "processor", "recipe.json"):
        assert (shipped / name).exists(), name
    # --policy default now loads the installed model (it is untrained: no contact asserted)
    assert callable(make_policy("default"))
    # A rerun reuses the collection; one with other seeds refuses it.
    assert main([*args]) == 0
    other = ManipRecipe(attempts=7, workers=1, categories=("drawer", "door"), steps=3)
    with pytest.raises(ConfigError, match="collected with"):
        reproduce_manip(out, other, Console(quiet=True))
