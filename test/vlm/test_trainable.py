"""Which parameters train, as validated config: projector, language model, vision tower,
LoRA on either (the vision LoRA is ManipLLM's V-Adapter), for both model families."""

from __future__ import annotations

import pytest
import torch

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.checkpoint import load_checkpoint
from rt_grasp_ros.vlm.config import (
    PARTS,
    LoraConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    load_train_config,
)
from rt_grasp_ros.vlm.strategy import apply_strategy, apply_trainable

PAPER = ("projector", "lm_lora", "vision_lora")


def test_trainable_names_parts_and_errors_name_the_field():
    model = ModelConfig(base="x")
    assert TrainConfig(model, trainable=("vision_lora", "projector")).parts == (
        "projector",
        "vision_lora",
    )
    assert TrainConfig(model, trainable=PAPER).storage == "lora"
    assert TrainConfig(model, trainable=("projector", "language_model")).storage == "full"
    # The older spelling is a name for a set of parts.
    assert TrainConfig(model).parts == ("projector", "lm_lora")
    assert TrainConfig(model, strategy="projector").storage == "projector"
    assert TrainConfig(model, strategy="full", train_vision_tower=True).parts == (
        "projector",
        "language_model",
        "vision_tower",
    )
    with pytest.raises(ConfigError, match=r"trainable: unknown 'vision_adapter'; allowed: "):
        TrainConfig(model, trainable=("projector", "vision_adapter"))
    with pytest.raises(ConfigError, match="trainable: must name at least one of projector"):
        TrainConfig(model, trainable=())
    with pytest.raises(ConfigError, match="trainable: vision_tower trains in full"):
        TrainConfig(model, trainable=("vision_tower", "vision_lora"))
    with pytest.raises(ConfigError, match="trainable: give either trainable or strategy"):
        TrainConfig(model, strategy="lora", trainable=PAPER)
    with pytest.raises(ConfigError, match="names an entry twice"):
        TrainConfig(model, trainable=("projector", "projector"))


def test_trainable_and_tasks_from_yaml(tmp_path):
    config = load_train_config("manip-llava7b")
    assert config.parts == PAPER and config.storage == "lora"
    assert config.data.tasks == ("category", "affordance", "mask", "pose", "chain", "point")
    tiny = load_train_config("manip-tiny", ["trainable=[vision_lora]"])
    assert tiny.parts == ("vision_lora",)
    with pytest.raises(ConfigError, match=r"trainable\[1\]: expected str"):
        load_train_config("manip-tiny", ["trainable=[projector, 3]"])
    with pytest.raises(ConfigError, match=r"data\.tasks: unknown 'oci'; allowed: category"):
        load_train_config("manip-tiny", ["data.tasks=[pose, oci]"])


def test_table_2_ablations_add_one_task_at_a_time():
    rows = [load_train_config(f"manip-tiny-{k}").data.tasks for k in ("ft", "oci", "mlm", "apr")]
    assert [set(r) for r in rows] == [
        {"pose"},
        {"pose", "category"},
        {"pose", "category", "mask"},
        {"pose", "category", "mask", "affordance"},
    ]
    for name in ("manip-tiny", "manip-tiny-qwen2vl", "manip-tiny-ft"):
        assert load_train_config(name).parts == ("projector", "language_model", "vision_tower")
    assert load_train_config("manip-tiny-qwen2vl").model.tiny.family == "qwen2_vl"


def _trainable(model) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


def test_the_papers_adapters_on_both_families(tiny_base):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    family = backbone.family
    model = apply_trainable(backbone.model, family, PAPER, LoraConfig(r=4))
    names = _trainable(model)
    lora = [n for n in names if "lora_" in n]
    vision = [n for n in lora if family.is_vision(n)]
    language = [n for n in lora if ".language_model." in n]
    assert vision and language and len(vision) + len(language) == len(lora)
    assert not any(family.is_projector(n) for n in lora)  # the projector trains in full
    wrapped = {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in vision}
    expected = {"qkv", "proj", "fc1", "fc2"} if family.name == "qwen2_vl" else None
    assert wrapped == (expected or {"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"})
    others = [n for n in names if "lora_" not in n]
    assert others and all(family.is_projector(n) for n in others)


@pytest.mark.parametrize(
    "parts",
    [
        ("vision_lora",),
        ("lm_lora", "vision_lora"),
        ("projector", "language_model", "vision_tower"),
        ("language_model", "vision_lora"),
        ("projector", "vision_tower", "lm_lora"),
    ],
)
def test_any_combination_trains_exactly_its_parts(tiny_base, parts):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    family = backbone.family
    model = apply_trainable(backbone.model, family, parts, LoraConfig(r=4))
    names = _trainable(model)

    def part(n: str) -> str:
        if "lora_" in n:
            return "vision_lora" if family.is_vision(n) else "lm_lora"
        if family.is_projector(n):
            return "projector"
        return "vision_tower" if family.is_vision(n) else "language_model"

    assert {part(n) for n in names} == set(parts)
    full = [p for p in parts if p not in ("lm_lora", "vision_lora")]
    if full:  # every parameter of a part in full trains (a copy of it, under PEFT)
        total = {p: 0 for p in full}
        for n, p in backbone.model.named_parameters():
            if "lora_" not in n and "original_module" not in n and part(n) in total:
                total[part(n)] += p.numel()
        counted = {p: 0 for p in full}
        for n, p in model.named_parameters():
            if p.requires_grad and part(n) in counted:
                counted[part(n)] += p.numel()
        assert counted == total


def test_the_strategies_are_sets_of_parts(tiny_base):
    for strategy, vision in (("projector", False), ("lora", False), ("full", True)):
        a = load_backbone(tiny_base, "float32", "cpu")
        b = load_backbone(tiny_base, "float32", "cpu")
        parts = TrainConfig(ModelConfig(base="x"), strategy=strategy, train_vision_tower=vision)
        old = apply_strategy(a.model, a.family, strategy, LoraConfig(r=4), vision)
        new = apply_trainable(b.model, b.family, parts.parts, LoraConfig(r=4))
        assert _trainable(old) == _trainable(new)
    assert set(PARTS) == {"projector", "language_model", "vision_tower", "lm_lora", "vision_lora"}


def test_vision_lora_checkpoint_round_trips(tiny_base, manip_folder, tmp_path):
    from rt_grasp_ros.vlm.train import train

    config = TrainConfig(
        model=ModelConfig(base=str(tiny_base), dtype="float32", device="cpu"),
        trainable=PAPER,
        lora=LoraConfig(r=4, alpha=8, dropout=0.0),
        optim=OptimConfig(
            learning_rate=5e-3, batch_size=4, micro_batch_size=4, max_steps=3, warmup_ratio=0.0
        ),
        logging_steps=1,
        save_steps=100,
    )
    out = tmp_path / "ckpt"
    result = train(config, manip_folder, out, progress=False)
    assert result.steps == 3 and result.losses
    backbone, info = load_checkpoint(out, "float32", "cpu")
    assert info.strategy == "lora" and info.answer_format == "manipllm"
    assert info.extra["trainable"] == list(PAPER)
    family = backbone.family
    state = dict(backbone.model.named_parameters())
    vision_b = [n for n in state if "lora_B" in n and family.is_vision(n)]
    assert vision_b  # the vision LoRA came back, trained (lora_B starts at zero)
    assert any(state[n].abs().sum() > 0 for n in vision_b)
    # The same logits as a second load: nothing random, everything that trained restored.
    again, _ = load_checkpoint(out, "float32", "cpu")
    from rt_grasp_ros.manip.dataset import read_tasks
    from rt_grasp_ros.vlm.dataset import ConversationDataset
    from rt_grasp_ros.vlm.processing import collate

    records = read_tasks(manip_folder, ("pose",))[:2]
    data = ConversationDataset(records, manip_folder, backbone.processor, family, 1024)
    batch = collate([data[0], data[1]], backbone.processor.tokenizer.pad_token_id)
    with torch.inference_mode():
        a = backbone.model(**batch).logits
        b = again.model(**batch).logits
        base = load_backbone(tiny_base, "float32", "cpu").model(**batch).logits
    assert torch.equal(a, b) and not torch.allclose(a, base)
