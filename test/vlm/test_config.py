from __future__ import annotations

from pathlib import Path

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.config import load_train_config

CONFIGS = Path(__file__).resolve().parents[2] / "config" / "train"


def test_shipped_configs_reproduce_the_paper_settings():
    projector = load_train_config(CONFIGS / "llava-projector.yaml")
    lora = load_train_config(CONFIGS / "llava-lora.yaml")
    assert projector.model.base == lora.model.base == "llava-hf/llava-1.5-7b-hf"
    assert projector.strategy == "projector" and projector.optim.learning_rate == 2e-3
    assert lora.strategy == "lora" and lora.optim.learning_rate == 5e-4
    assert (lora.lora.r, lora.lora.alpha) == (64, 32.0)
    assert projector.optim.batch_size == lora.optim.batch_size == 32
    assert lora.optim.micro_batch_size * lora.optim.accumulation == 32
    tiny = load_train_config(CONFIGS / "tiny.yaml")
    assert (
        tiny.model.tiny is not None
        and tiny.model.tiny.family == "llava"
        and tiny.model.base is None
    )
    assert load_train_config(CONFIGS / "tiny-qwen2vl.yaml").model.tiny.family == "qwen2_vl"


def test_overrides_are_typed_and_applied():
    cfg = load_train_config(
        CONFIGS / "llava-lora.yaml",
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
    config = CONFIGS / ("tiny.yaml" if override.startswith("model.tiny") else "llava-lora.yaml")
    with pytest.raises(ConfigError, match=message) as info:
        load_train_config(config, [override])
    if "=" in override:
        assert str(config) in str(info.value)


def test_model_needs_exactly_one_source(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: {base: x, tiny: {family: llava}}\n")
    with pytest.raises(ConfigError, match=r"exactly one of model\.base"):
        load_train_config(path)
