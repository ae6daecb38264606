"""Training on several processes with the engines transformers' Trainer already drives.

``rt-grasp train`` runs unchanged under ``torchrun`` or ``accelerate launch``: the Trainer
(through accelerate) wraps the model in DDP, FSDP or DeepSpeed, and shards the data. This
module adds what the project decides itself: how many processes there are, the Trainer
arguments for the configured engine, and which process builds shared files and writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.config import DistributedConfig

DEEPSPEED_STAGES = ("zero2", "zero3")


def world_size() -> int:
    """Processes in the job (``WORLD_SIZE``, set by torchrun and accelerate launch)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_distributed() -> bool:
    """Whether this process is one of several."""
    return world_size() > 1


def _state() -> Any:
    """The process state of accelerate (it joins the group the launcher describes)."""
    return require("accelerate", "distributed training").PartialState()


def is_main_process() -> bool:
    """Whether this process writes checkpoints, curves and logs (rank 0, or a lone process)."""
    return not is_distributed() or _state().is_main_process


@contextmanager
def main_process_first() -> Iterator[None]:
    """Run the block on rank 0 first and on the others after it (e.g. building shared files)."""
    if not is_distributed():
        yield
        return
    with _state().main_process_first():
        yield


def deepspeed_config(name: str) -> Path:
    """A packaged DeepSpeed stage (``zero2``, ``zero3``) or a DeepSpeed JSON file.

    Raises:
        ConfigError: neither a packaged stage nor an existing file.
    """
    if name in DEEPSPEED_STAGES:
        return Path(str(files("rt_grasp_ros.vlm").joinpath(f"configs/deepspeed/{name}.json")))
    path = Path(name)
    if not path.is_file():
        raise ConfigError(
            f"distributed.deepspeed: {name!r} is neither a packaged stage "
            f"({', '.join(DEEPSPEED_STAGES)}) nor a DeepSpeed JSON file"
        )
    return path


def engine_arguments(config: DistributedConfig, processes: int) -> dict[str, Any]:
    """``TrainingArguments`` keywords for the configured engine (none for one process)."""
    if processes <= 1:
        return {}
    if config.engine == "fsdp":
        return {"fsdp": config.fsdp, "ddp_find_unused_parameters": False}
    if config.engine == "deepspeed":
        return {"deepspeed": str(deepspeed_config(config.deepspeed))}
    # Frozen towers (projector, LoRA) leave no unused *trainable* parameters: no extra pass.
    return {"ddp_find_unused_parameters": False}


def validates_in_training(config: DistributedConfig, processes: int) -> bool:
    """Whether rank 0 can generate with its own copy of the model during training.

    DDP (and one process) keeps whole parameters on every rank; FSDP and DeepSpeed shard them,
    so their runs are evaluated on the written checkpoint (``rt-grasp evaluate``) instead.
    """
    return processes <= 1 or config.engine == "ddp"
