"""GPU-ready defaults, checked on a CPU: dtype auto, fp32 master weights, merged LoRA, data
workers, and timings that wait for the device."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
from safetensors.torch import load_file

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm import predictor as predictor_module
from rt_grasp_ros.vlm.backbone import DEFAULT_DTYPE, DTYPES, load_backbone, resolve_dtype
from rt_grasp_ros.vlm.config import (
    DataConfig,
    LoraConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    load_train_config,
)
from rt_grasp_ros.vlm.dataset import record_image
from rt_grasp_ros.vlm.predictor import GraspPredictor, _FirstTokenClock, now
from rt_grasp_ros.vlm.strategy import apply_strategy, keep_fp32_master_weights
from rt_grasp_ros.vlm.train import train
from rt_grasp_ros.vlm.train_setup import training_arguments


def test_dtype_defaults_to_auto_which_is_float32_on_a_cpu(tiny_llava):
    assert DEFAULT_DTYPE == "auto" and DTYPES[0] == "auto"
    for function in (GraspPredictor.from_pretrained, load_backbone):
        assert inspect.signature(function).parameters["dtype"].default == "auto"
    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("bfloat16", "cpu") is torch.bfloat16
    with pytest.raises(ConfigError, match="unknown dtype 'fp32'; expected one of auto, float32"):
        resolve_dtype("fp32", "cpu")
    model = GraspPredictor.from_pretrained(tiny_llava, device="cpu").backbone.model
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_bf16_training_keeps_fp32_master_weights(tiny_llava):
    backbone = load_backbone(tiny_llava, "bfloat16", "cpu")
    model = apply_strategy(backbone.model, backbone.family, "lora", LoraConfig(r=4))
    half = [n for n, p in model.named_parameters() if p.requires_grad and p.dtype != torch.float32]
    assert half  # PEFT keeps LoRA in fp32, but the trained projector copy was bf16
    assert keep_fp32_master_weights(model) == len(half)
    dtypes = {p.requires_grad: set() for p in model.parameters()}
    for p in model.parameters():
        dtypes[p.requires_grad].add(p.dtype)
    assert dtypes == {True: {torch.float32}, False: {torch.bfloat16}}


def short_config(base, **data) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(base=str(base), dtype="bfloat16", device="cpu"),
        strategy="lora",
        lora=LoraConfig(r=4, alpha=8, dropout=0.0),
        optim=OptimConfig(
            learning_rate=1e-3, batch_size=4, micro_batch_size=4, max_steps=2, warmup_ratio=0.0
        ),
        data=DataConfig(**data),
        logging_steps=1,
        save_steps=100,
    )


def test_a_bf16_run_with_a_data_worker_trains_validates_and_saves_fp32(
    tiny_llava, tiny_data, tmp_path
):
    config = short_config(tiny_llava, num_workers=1)
    config = dataclasses.replace(
        config, eval=dataclasses.replace(config.eval, every_steps=1, samples=2, max_new_tokens=8)
    )
    result = train(config, tiny_data.root, tmp_path / "ckpt", progress=False)
    assert result.steps == 2 and [s for s, _ in result.validation] == [1, 2]
    saved = load_file(tmp_path / "ckpt" / "adapter" / "adapter_model.safetensors")
    assert {t.dtype for t in saved.values()} == {torch.float32}
    predictor = GraspPredictor.from_pretrained(
        tmp_path / "ckpt", dtype="bfloat16", device="cpu", max_new_tokens=40
    )
    image = record_image(tiny_data.records(0, "train")[0], tiny_data.image_folder)
    assert {p.dtype for p in predictor.backbone.model.parameters()} >= {torch.bfloat16}
    assert predictor.predict(image, constrained=True).ok  # no autocast needed to answer


def test_data_workers_are_config(tiny_llava, tmp_path):
    config = load_train_config("tiny", ["data.num_workers=3"])
    assert config.data.num_workers == 3 and DataConfig().num_workers == 0
    args = training_arguments(config, tmp_path, 1, torch.float32, torch.device("cpu"))
    assert args.dataloader_num_workers == 3 and not args.bf16
    bf16 = training_arguments(config, tmp_path, 1, torch.bfloat16, torch.device("cpu"))
    assert bf16.bf16 and not bf16.fp16
    with pytest.raises(ConfigError, match=r"data\.num_workers must be 0 or more, got -1"):
        load_train_config("tiny", ["data.num_workers=-1"])


@pytest.mark.parametrize("strategy_file", ["checkpoint", "adapter"])
def test_a_merged_lora_adapter_answers_as_the_adapter(
    tiny_llava, tiny_data, tmp_path, strategy_file
):
    backbone = load_backbone(tiny_llava, "float32", "cpu")
    model = apply_strategy(backbone.model, backbone.family, "lora", LoraConfig(r=4))
    torch.manual_seed(0)
    with torch.no_grad():  # LoRA's B starts at zero: make the adapter change the answers
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.05)
    model.save_pretrained(tmp_path / "adapter")
    image = record_image(tiny_data.records(0, "train")[0], tiny_data.image_folder)
    answers = {}
    for merge in (False, True):
        predictor = GraspPredictor.from_pretrained(
            tiny_llava, adapter=tmp_path / "adapter", device="cpu", merge_adapter=merge
        )
        inputs = predictor._encode([image], [predictor.messages(None, None)])
        with torch.inference_mode():
            answers[merge] = predictor.backbone.model(**inputs).logits
        names = [n for n, _ in predictor.backbone.model.named_parameters()]
        assert any("lora_" in n for n in names) != merge
    with torch.inference_mode():
        base = load_backbone(tiny_llava, "float32", "cpu").model(**inputs).logits
    assert not torch.allclose(answers[False], base, atol=1e-3)  # the adapter matters
    torch.testing.assert_close(answers[True], answers[False], atol=1e-4, rtol=1e-4)


def test_timings_wait_for_the_device(tiny_llava, tiny_data, monkeypatch):
    waited = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append(device))
    now(torch.device("cpu"))
    assert waited == []
    clock = _FirstTokenClock(torch.device("cuda", 0))
    clock(None, None)
    clock(None, None)
    assert waited == [torch.device("cuda", 0)] and clock.first is not None  # once, first token
    seen = []
    monkeypatch.setattr(predictor_module, "synchronize", seen.append)
    predictor = GraspPredictor.from_pretrained(tiny_llava, device="cpu", max_new_tokens=30)
    image = record_image(tiny_data.records(0, "train")[0], tiny_data.image_folder)
    prediction = predictor.predict(image, constrained=True)
    # Generation start, the first token's logits (end of prefill) and the end of decoding.
    assert [d.type for d in seen] == ["cpu"] * 3
    assert prediction.timings["prefill"] > 0 and prediction.timings["decode"] > 0
