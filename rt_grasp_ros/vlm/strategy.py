"""Which parameters train: the projector only, LoRA on the language model, or everything."""

from __future__ import annotations

from typing import Any

from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.config import LoraConfig
from rt_grasp_ros.vlm.families import Family


def apply_strategy(
    model: Any, family: Family, strategy: str, lora: LoraConfig, train_vision_tower: bool = False
) -> Any:
    """Freeze and wrap ``model`` for a training strategy; returns the model to train.

    - ``projector``: only the multimodal projector trains (the paper's pre-training).
    - ``lora``: LoRA on every linear layer of the language model, plus the projector; the
      vision tower and the language model stay frozen (the paper's LoRA fine-tuning).
    - ``full``: everything but the vision tower (meant for tiny models trained from scratch).

    ``train_vision_tower`` also unfreezes the vision tower (from-scratch tiny models only).
    """
    for name, param in model.named_parameters():
        trainable = family.is_projector(name)
        if strategy == "full":
            trainable = not family.is_vision(name)
        if train_vision_tower and family.is_vision(name):
            trainable = True
        param.requires_grad_(trainable)
    if strategy != "lora":
        return model
    peft = require("peft", "LoRA fine-tuning")
    config = peft.LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=family.lora_target_regex(),
        modules_to_save=[family.projector],
    )
    return peft.get_peft_model(model, config)


def keep_fp32_master_weights(model: Any) -> int:
    """Store the trainable parameters in float32 when the model is loaded in half precision.

    The frozen weights stay bfloat16 (or float16) and mixed precision (autocast) runs the
    arithmetic in half precision, but optimiser updates of 1e-4 relative size vanish in
    bfloat16's 8-bit mantissa; float32 master weights keep them. Returns how many parameters
    were cast.
    """
    torch = require("torch", "training")
    cast = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype in (torch.bfloat16, torch.float16):
            param.data = param.data.float()
            cast += 1
    return cast


def trainable_state_dict(model: Any) -> dict[str, Any]:
    """The parameters that train, by name (what a projector or full checkpoint saves)."""
    return {
        name: p.detach().cpu().contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
