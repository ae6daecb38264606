from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.checkpoint import CHECKPOINT_FILE, load_checkpoint
from rt_grasp_ros.vlm.config import LoraConfig, ModelConfig, OptimConfig, TrainConfig
from rt_grasp_ros.vlm.dataset import record_image
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.strategy import apply_strategy
from rt_grasp_ros.vlm.train import train


def short_config(base, strategy: str) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(base=str(base), dtype="float32", device="cpu"),
        strategy=strategy,
        lora=LoraConfig(r=8, alpha=16, dropout=0.0),
        optim=OptimConfig(
            learning_rate=1e-3, batch_size=4, micro_batch_size=2, max_steps=3, warmup_ratio=0.0
        ),
        logging_steps=1,
        save_steps=2,
    )


def test_projector_strategy_trains_only_the_projector(tiny_base):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    model = apply_strategy(backbone.model, backbone.family, "projector", LoraConfig())
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(backbone.family.is_projector(n) for n in trainable)


def test_lora_targets_every_language_linear_layer_and_the_projector_only(tiny_base):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    model = apply_strategy(backbone.model, backbone.family, "lora", LoraConfig(r=8))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    lora = [n for n in trainable if "lora_" in n]
    assert lora and all(".language_model." in n for n in lora)
    wrapped = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in lora}
    assert wrapped == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    others = [n for n in trainable if "lora_" not in n]
    assert others and all(backbone.family.is_projector(n) for n in others)
    assert not any(backbone.family.is_vision(n) for n in trainable)


@pytest.mark.parametrize("strategy", ["lora", "projector"])
def test_train_save_reload_generates_the_same_answers(tiny_base, tiny_data, tmp_path, strategy):
    out = tmp_path / "ckpt"
    result = train(short_config(tiny_base, strategy), tiny_data.root, out, progress=False)
    assert result.steps == 3 and result.losses
    meta = json.loads((out / CHECKPOINT_FILE).read_text())
    assert meta["base_model"] == str(tiny_base) and meta["strategy"] == strategy
    assert meta["answer_format"] == "rt" and meta["train_config"]["optim"]["max_steps"] == 3
    assert meta["default_instruction"] == tiny_data.manifest["instructions"][0]
    # Only what trains is saved: LoRA matrices and the projector, never the frozen weights.
    from safetensors.torch import load_file

    family = load_backbone(tiny_base, "float32", "cpu").family
    saved = [
        k for f in out.glob("**/*.safetensors") if "trainer" not in f.parts for k in load_file(f)
    ]
    assert saved and all("lora_" in k or family.is_projector(k) for k in saved)
    assert any(family.is_projector(k) for k in saved)
    assert (out / "training_curve.png").exists() and (out / "train_log.json").exists()

    record = tiny_data.records(0, "train")[0]
    image = record_image(record, tiny_data.image_folder)
    reloaded = GraspPredictor.from_pretrained(
        out, dtype="float32", device="cpu", max_new_tokens=40
    )
    ids = reloaded._encode([image], [reloaded.messages(None, None)])
    with torch.inference_mode():
        after = reloaded.backbone.model(**ids).logits
    backbone, _ = load_checkpoint(out, "float32", "cpu")
    with torch.inference_mode():
        again = backbone.model(**ids).logits
    assert torch.equal(after, again)
    base = load_backbone(tiny_base, "float32", "cpu")
    with torch.inference_mode():
        untrained = base.model(**ids).logits
    assert not torch.allclose(after, untrained)  # the trained parameters were applied
    prediction = reloaded.predict(image, constrained=True)
    assert prediction.ok and prediction.generated_tokens > 0 and prediction.timings["total"] > 0


def test_resume_continues_from_the_saved_step(tiny_base, tiny_data, tmp_path, monkeypatch):
    import dataclasses

    from rt_grasp_ros.vlm import train as train_module
    from rt_grasp_ros.vlm.dataset import ConversationDataset

    epochs: list[int] = []
    real_set_epoch = ConversationDataset.set_epoch

    def set_epoch(self, epoch):
        if not epochs or epochs[-1] != epoch:
            epochs.append(epoch)
        real_set_epoch(self, epoch)

    monkeypatch.setattr(ConversationDataset, "set_epoch", set_epoch)
    out = tmp_path / "ckpt"
    first = train(short_config(tiny_base, "projector"), tiny_data.root, out, progress=False)
    assert (out / "trainer" / "checkpoint-2").exists() and (
        out / "trainer" / "checkpoint-3"
    ).exists()
    # 8 samples, 4 per step: steps 1-2 are epoch 0, step 3 starts epoch 1.
    assert epochs == [0, 1]
    epochs.clear()
    loaded = []
    real = train_module.load_weights
    monkeypatch.setattr(
        train_module, "load_weights", lambda model, file: (loaded.append(file), real(model, file))
    )
    cfg = short_config(tiny_base, "projector")
    cfg = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, max_steps=5))
    result = train(cfg, tiny_data.root, out, resume=True, progress=False)
    assert result.steps == 5
    assert epochs == [1, 2]  # resumed inside epoch 1: its prompts, then epoch 2's
    assert loaded == [out / "trainer" / "checkpoint-3" / "weights.safetensors"]
    steps = [s for s, _ in result.losses]
    assert steps == [1, 2, 3, 4, 5]  # the first three come from the restored history, not a rerun
    assert result.losses[:3] == first.losses


def test_validation_every_n_steps_and_gradient_checkpointing(tiny_base, tiny_data, tmp_path):
    import dataclasses

    from rt_grasp_ros.vlm.config import EvalConfig

    cfg = short_config(tiny_base, "lora")
    cfg = dataclasses.replace(
        cfg,
        optim=dataclasses.replace(cfg.optim, gradient_checkpointing=True),
        eval=EvalConfig(every_steps=1, samples=2, max_new_tokens=8),
    )
    result = train(cfg, tiny_data.root, tmp_path / "ckpt", progress=False)
    assert [step for step, _ in result.validation] == [1, 2, 3]
    assert all(0.0 <= acc <= 1.0 for _, acc in result.validation)
    assert all(np.isfinite(loss) for _, loss in result.losses)
    log = json.loads((tmp_path / "ckpt" / "train_log.json").read_text())
    assert [e["step"] for e in log if "val_accuracy" in e] == [1, 2, 3]


def test_loading_errors_say_what_is_wrong(tmp_path, tiny_base):
    with pytest.raises(RtGraspError, match="not a local folder"):
        load_backbone(tmp_path / "missing-model")
    from transformers import LlamaConfig, LlamaForCausalLM

    text_only = tmp_path / "llama"
    LlamaForCausalLM(
        LlamaConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            vocab_size=50,
        )
    ).save_pretrained(text_only)
    with pytest.raises(RtGraspError, match="not a supported image-text-to-text model"):
        load_backbone(text_only)


def test_an_adapter_for_another_base_is_refused(tiny_base, tiny_data, tmp_path):
    out = tmp_path / "ckpt"
    train(short_config(tiny_base, "lora"), tiny_data.root, out, progress=False)
    other = tmp_path / "other-base"
    import shutil

    shutil.copytree(tiny_base, other)
    with pytest.raises(RtGraspError, match="was trained on"):
        GraspPredictor.from_pretrained(other, adapter=out, dtype="float32", device="cpu")


def test_trainer_contract():
    """What GraspTrainer relies on in transformers, within the pinned versions."""
    import inspect
    from pathlib import Path

    import tomllib
    import transformers
    from packaging.specifiers import SpecifierSet

    from rt_grasp_ros.vlm.train import _trainer_classes

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    vlm = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]["vlm"]
    (pin,) = [d for d in vlm if d.startswith("transformers")]
    specifier = SpecifierSet(pin.removeprefix("transformers"))
    assert any(s.operator == "<" for s in specifier), f"{pin}: no upper bound"
    assert transformers.__version__ in specifier, (transformers.__version__, pin)

    trainer, grasp_trainer = transformers.Trainer, _trainer_classes()[0]
    for name, parameters in [
        ("_load_from_checkpoint", ["self", "resume_from_checkpoint", "model"]),
        ("save_model", ["self", "output_dir", "_internal_call"]),
    ]:
        for cls in (trainer, grasp_trainer):
            assert list(inspect.signature(getattr(cls, name)).parameters) == parameters, cls
    # The call sites: resuming loads through _load_from_checkpoint, checkpoints save through
    # save_model.
    assert "self._load_from_checkpoint(resume_from_checkpoint)" in inspect.getsource(trainer.train)
    assert "self.save_model(output_dir, _internal_call=True)" in inspect.getsource(
        trainer._save_checkpoint
    )
