"""Self-describing checkpoints: what trained, on top of which base model, for which answers.

::

    CKPT/rt_grasp_checkpoint.json   base model, family, strategy, answer format, train config
    CKPT/processor/                 the processor (tokenizer, chat template) used in training
    CKPT/adapter/                   LoRA adapters (language model and/or vision tower) and the
                                    parts that train in full (strategy lora, PEFT format)
    CKPT/weights.safetensors        trained parameters (strategy projector or full)
    CKPT/base/                      the base model itself, for tiny models built from scratch
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt_grasp_ros import __version__
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.backbone import Backbone, load_backbone, load_processor
from rt_grasp_ros.vlm.strategy import trainable_state_dict

CHECKPOINT_FILE = "rt_grasp_checkpoint.json"
WEIGHTS_FILE = "weights.safetensors"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CheckpointInfo:
    """The metadata of a checkpoint."""

    base_model: str
    family: str
    strategy: str
    answer_format: str
    decimals: int
    train_config: dict[str, Any]
    extra: dict[str, Any]


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by :func:`save_checkpoint`."""
    return (Path(path) / CHECKPOINT_FILE).exists()


def save_checkpoint(
    out: Path,
    model: Any,
    backbone: Backbone,
    info: CheckpointInfo,
    state_dict: dict[str, Any] | None = None,
) -> None:
    """Write the trained parameters, the processor and the metadata to ``out``.

    ``state_dict`` is the full state gathered from a sharded (FSDP, DeepSpeed) run; by default
    the parameters are read from ``model``.
    """
    out.mkdir(parents=True, exist_ok=True)
    if info.strategy == "lora":
        model.save_pretrained(out / "adapter", state_dict=state_dict)
    else:
        safetensors = require("safetensors.torch", "saving a checkpoint")
        weights = trainable_state_dict(model)
        if state_dict is not None:
            weights = {k: state_dict[k].detach().cpu().contiguous() for k in weights}
        safetensors.save_file(weights, str(out / WEIGHTS_FILE))
    backbone.processor.save_pretrained(out / "processor")
    meta = {
        "format_version": FORMAT_VERSION,
        "rt_grasp_version": __version__,
        "base_model": info.base_model,
        "family": info.family,
        "strategy": info.strategy,
        "answer_format": info.answer_format,
        "decimals": info.decimals,
        "train_config": info.train_config,
        **info.extra,
    }
    (out / CHECKPOINT_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def read_info(path: str | Path) -> CheckpointInfo:
    """The metadata of checkpoint ``path``."""
    file = Path(path) / CHECKPOINT_FILE
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RtGraspError(f"cannot read checkpoint metadata {file}: {exc}") from exc
    missing = {"base_model", "family", "strategy", "answer_format"} - set(meta)
    if missing:
        raise RtGraspError(f"{file}: missing keys {sorted(missing)}")
    known = {"base_model", "family", "strategy", "answer_format", "decimals", "train_config"}
    return CheckpointInfo(
        base_model=meta["base_model"],
        family=meta["family"],
        strategy=meta["strategy"],
        answer_format=meta["answer_format"],
        decimals=int(meta.get("decimals", 3)),
        train_config=meta.get("train_config", {}),
        extra={k: v for k, v in meta.items() if k not in known},
    )


def resolve_base(checkpoint: Path, base: str) -> str:
    """A base recorded relative to the checkpoint (tiny models) becomes a path; a hub id stays."""
    local = checkpoint / base
    return str(local) if local.exists() else base


def load_checkpoint(
    path: str | Path, dtype: str = "auto", device: str = "auto", merge_adapter: bool = False
) -> tuple[Backbone, CheckpointInfo]:
    """Load the base model and apply the checkpoint's trained parameters.

    ``merge_adapter`` folds a LoRA checkpoint's adapter into the base weights (for inference).
    """
    path = Path(path)
    info = read_info(path)
    backbone = load_backbone(resolve_base(path, info.base_model), dtype, device)
    if backbone.family.name != info.family:
        raise RtGraspError(
            f"{path}: trained on a {info.family} model, but its base is {backbone.family.name}"
        )
    if info.strategy == "lora":
        backbone.model = apply_adapter(backbone, path / "adapter", merge_adapter)
    else:
        load_weights(backbone.model, path / WEIGHTS_FILE)
    if (path / "processor").exists():
        backbone.processor = load_processor(str(path / "processor"), backbone.family)
    backbone.model.eval()
    return backbone, info


def load_weights(model: Any, file: Path) -> None:
    """Load a projector or full checkpoint's parameters into ``model`` (all must match)."""
    safetensors = require("safetensors.torch", "loading a checkpoint")
    if not file.exists():
        raise RtGraspError(f"checkpoint weights {file} are missing")
    state = safetensors.load_file(str(file))
    own = dict(model.named_parameters())
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise RtGraspError(
            f"{file}: parameters {unknown[:3]} do not exist in the base model (another base?)"
        )
    for name, tensor in state.items():
        if own[name].shape != tensor.shape:
            raise RtGraspError(
                f"{file}: {name} has shape {tuple(tensor.shape)}, "
                f"the base model {tuple(own[name].shape)}"
            )
        own[name].data.copy_(tensor.to(own[name].dtype))


def apply_adapter(backbone: Backbone, adapter: Path, merge: bool = False) -> Any:
    """Put a PEFT adapter (LoRA + projector) on the base model, checking it was made for it.

    With ``merge`` the LoRA weights are folded into the base layers and the PEFT wrapper is
    removed (the trained projector stays): the plain model, as fast as the base.
    """
    peft = require("peft", "loading a LoRA adapter")
    config_file = adapter / "adapter_config.json"
    if not config_file.exists():
        raise RtGraspError(f"{adapter} is not a LoRA adapter (no adapter_config.json)")
    recorded = json.loads(config_file.read_text()).get("base_model_name_or_path")
    if recorded and not _same_base(recorded, backbone.source):
        raise RtGraspError(
            f"adapter {adapter} was trained on {recorded!r}, not on {backbone.source!r}"
        )
    model = peft.PeftModel.from_pretrained(backbone.model, str(adapter))
    return model.merge_and_unload() if merge else model


def _same_base(recorded: str, source: str) -> bool:
    if recorded == source:
        return True
    a, b = Path(recorded), Path(source)
    if a.exists() and b.exists():
        return a.resolve() == b.resolve()
    return a.name == b.name and (a.exists() or b.exists())  # a checkpoint folder that was moved
