"""The real CUDA path: bf16 by default, constrained decoding, timings that wait for the GPU,
bf16 training with fp32 master weights, a merged adapter. Skipped where no CUDA device exists
(test/vlm/conftest.py)."""

from __future__ import annotations

import time

import pytest
import torch
from safetensors.torch import load_file

from rt_grasp_ros.vlm.dataset import record_image
from rt_grasp_ros.vlm.predictor import GraspPredictor

pytestmark = pytest.mark.gpu


@pytest.fixture
def image(tiny_data):
    return record_image(tiny_data.records(0, "train")[0], tiny_data.image_folder)


def test_auto_loads_bf16_on_the_gpu_and_decodes_a_pose(tiny_llava, image):
    predictor = GraspPredictor.from_pretrained(tiny_llava, max_new_tokens=60)  # auto, auto
    model = predictor.backbone.model
    assert predictor.backbone.device.type == "cuda"
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    assert {p.dtype for p in model.parameters()} == {expected}
    prediction = predictor.predict(image, constrained=True)
    assert prediction.ok, prediction.text
    batch = predictor.predict_batch([image, image], [None, "Grasp the object."], constrained=True)
    assert all(p.ok for p in batch), [p.text for p in batch]


def test_timings_cover_the_gpu_work(tiny_llava, image):
    predictor = GraspPredictor.from_pretrained(tiny_llava, max_new_tokens=60)
    predictor.predict(image, constrained=True)  # warm-up (kernels, allocator)
    torch.cuda.synchronize()
    start = time.perf_counter()
    prediction = predictor.predict(image, constrained=True)
    wall = time.perf_counter() - start
    timings = prediction.timings
    assert timings["prefill"] > 0 and timings["decode"] > 0
    # Synchronised: the timed parts add up to (nearly) the whole call, none exceeds it.
    assert 0.8 * wall <= timings["total"] <= wall * 1.01


def test_bf16_lora_training_and_a_merged_adapter_on_the_gpu(
    tiny_llava, tiny_data, tmp_path, image
):
    from rt_grasp_ros.vlm.config import LoraConfig, ModelConfig, OptimConfig, TrainConfig
    from rt_grasp_ros.vlm.train import train

    config = TrainConfig(
        model=ModelConfig(base=str(tiny_llava)),  # dtype auto (bf16), device auto (cuda)
        strategy="lora",
        lora=LoraConfig(r=4, alpha=8, dropout=0.0),
        optim=OptimConfig(learning_rate=1e-3, batch_size=4, micro_batch_size=4, max_steps=2),
        logging_steps=1,
    )
    result = train(config, tiny_data.root, tmp_path / "ckpt", progress=False)
    assert result.steps == 2 and all(torch.isfinite(torch.tensor(v)) for _, v in result.losses)
    saved = load_file(tmp_path / "ckpt" / "adapter" / "adapter_model.safetensors")
    assert {t.dtype for t in saved.values()} == {torch.float32}  # fp32 master weights
    merged = GraspPredictor.from_pretrained(tmp_path / "ckpt", merge_adapter=True)
    names = [n for n, _ in merged.backbone.model.named_parameters()]
    assert not any("lora_" in n for n in names)
    assert merged.predict(image, constrained=True).ok
