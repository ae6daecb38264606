"""Which parameters train: projector, language model, vision tower, in full or as LoRA."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.config import PARTS, STRATEGY_PARTS, LoraConfig
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
    The strategy is a name for a set of parts (:data:`STRATEGY_PARTS`); see
    :func:`apply_trainable`.
    """
    parts = STRATEGY_PARTS[strategy] + (("vision_tower",) if train_vision_tower else ())
    return apply_trainable(model, family, parts, lora)


def apply_trainable(model: Any, family: Family, parts: Sequence[str], lora: LoraConfig) -> Any:
    """Freeze ``model`` but ``parts`` (names of :data:`PARTS`); returns the model to train.

    Parts in full (``projector``, ``language_model`` with its head, ``vision_tower``) train
    their own parameters; ``lm_lora`` and ``vision_lora`` put LoRA (PEFT) on the linear layers
    of the language model and of the vision tower's blocks. With a LoRA part the model is a
    PEFT model whose saved modules are the parts that train in full, so that its adapter
    holds everything that trained.
    """
    named = set(parts)
    unknown = sorted(named - set(PARTS))
    if unknown:
        raise ConfigError(f"trainable: unknown {unknown[0]!r}; allowed: {', '.join(PARTS)}")
    for name, param in model.named_parameters():
        param.requires_grad_(_trains_in_full(name, family, named))
    language, vision = "lm_lora" in named, "vision_lora" in named
    if not (language or vision):
        return model
    peft = require("peft", "LoRA fine-tuning")
    config = peft.LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=family.lora_targets(language, vision),
        modules_to_save=full_modules(model, family, named),
    )
    return peft.get_peft_model(model, config)


def _trains_in_full(name: str, family: Family, parts: set[str]) -> bool:
    if family.is_projector(name):
        return "projector" in parts
    if family.is_vision(name):
        return "vision_tower" in parts
    return "language_model" in parts


def full_modules(model: Any, family: Family, parts: set[str]) -> list[str]:
    """Paths of the outermost modules that own parameters training in full.

    PEFT keeps a trainable copy of each (``modules_to_save``); the projector is one module,
    a language model or vision tower in full is the set of its parameter-owning modules (a
    module list is never called, so it cannot be wrapped as a whole).
    """
    if not parts & {"language_model", "vision_tower"}:
        return [family.projector] if "projector" in parts else []
    chosen: list[str] = []
    for path, module in model.named_modules():
        if not path or any(path.startswith(c + ".") for c in chosen):
            continue
        own = [f"{path}.{n}" for n, _ in module.named_parameters(recurse=False)]
        if own and all(_trains_in_full(n, family, parts) for n in own):
            chosen.append(path)
    return chosen


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
