from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rt_grasp_ros
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.config import load_train_config, packaged_configs, resolve_train_config

PACKAGED = {
    "tiny",
    "tiny-qwen2vl",
    "llava-projector",
    "llava-lora",
    "sim-default",
    "manip-tiny",
    "manip-tiny-qwen2vl",
    "manip-tiny-ft",
    "manip-tiny-oci",
    "manip-tiny-mlm",
    "manip-tiny-apr",
    "manip-llava7b",
    "manip-default",
}


def test_shipped_configs_reproduce_the_paper_settings():
    projector = load_train_config("llava-projector")
    lora = load_train_config("llava-lora")
    assert projector.model.base == lora.model.base == "llava-hf/llava-1.5-7b-hf"
    assert projector.strategy == "projector" and projector.optim.learning_rate == 2e-3
    assert lora.strategy == "lora" and lora.optim.learning_rate == 5e-4
    assert (lora.lora.r, lora.lora.alpha) == (64, 32.0)
    assert projector.optim.batch_size == lora.optim.batch_size == 32
    assert lora.optim.micro_batch_size * lora.optim.accumulation == 32
    tiny = load_train_config("tiny")
    assert (
        tiny.model.tiny is not None
        and tiny.model.tiny.family == "llava"
        and tiny.model.base is None
    )
    assert load_train_config("tiny-qwen2vl").model.tiny.family == "qwen2_vl"


def test_packaged_configs_are_package_files_found_by_name():
    configs = packaged_configs()
    assert set(configs) == PACKAGED
    package_dir = Path(rt_grasp_ros.__file__).parent / "vlm" / "configs"
    for name, path in configs.items():
        assert path == package_dir / f"{name}.yaml" and path.is_file()
        assert resolve_train_config(name) == path
        assert resolve_train_config(f"{name}.yaml") == path
    # The top-level config/ folder is for ROS node parameters, not training configs.
    ros_params = list((package_dir.parents[2] / "config").rglob("*.yaml"))
    assert all("ros__parameters" in p.read_text() for p in ros_params)


def test_a_path_is_read_as_a_file_and_wins_over_a_name(tmp_path, monkeypatch):
    own = tmp_path / "mine.yaml"
    shutil.copy(packaged_configs()["tiny"], own)
    own.write_text(own.read_text().replace("max_steps: 1000", "max_steps: 7"))
    assert load_train_config(own).optim.max_steps == 7
    assert load_train_config(str(own)).optim.max_steps == 7
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(own.read_text())
    assert load_train_config("tiny.yaml").optim.max_steps == 7  # a file in the cwd first
    assert load_train_config("tiny").optim.max_steps == 1000  # a bare name is packaged


@pytest.mark.parametrize("name", ["tinyy", "llava"])
def test_unknown_name_lists_the_packaged_configs(name):
    with pytest.raises(ConfigError, match=f"unknown training config '{name}'") as info:
        load_train_config(name)
    assert all(n in str(info.value) for n in PACKAGED)


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ConfigError, match=f"{tmp_path / 'nope.yaml'} does not exist"):
        load_train_config(tmp_path / "nope.yaml")


def test_overrides_are_typed_and_applied():
    cfg = load_train_config(
        "llava-lora",
        ["optim.learning_rate=1e-4", "lora.r=16", "eval.every_steps=0"],
    )
    assert cfg.optim.learning_rate == 1e-4 and cfg.lora.r == 16 and cfg.eval.every_steps == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optim.lr=1e-4", "optim.lr: unknown key"),
        ("lora.rank=8", "lora.rank: unknown key"),
        ("optim.batch_size=big", "optim.batch_size: expected int"),
        ("optim.batch_size=30", "multiple of optim.micro_batch_size"),
        ("strategy=adapter", "strategy must be one of"),
        ("model.tiny.image_size=60", "tiny.image_size 60 must be a multiple"),
        ("learning_rate", "expected key=value"),
    ],
)
def test_bad_keys_and_values_name_themselves(override, message):
    name = "tiny" if override.startswith("model.tiny") else "llava-lora"
    with pytest.raises(ConfigError, match=message) as info:
        load_train_config(name, [override])
    if "=" in override:
        assert str(packaged_configs()[name]) in str(info.value)


def test_model_needs_exactly_one_source(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {base: x, tiny: {family: llava}}\n")
    with pytest.raises(ConfigError, match=r"exactly one of model\.base"):
        load_train_config(path)
