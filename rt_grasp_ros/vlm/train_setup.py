"""What a training run is made of: its base model, tokenizer corpus, arguments, validation.

Split from :mod:`rt_grasp_ros.vlm.train` (which re-exports these names).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt_grasp_ros.data.records import BuiltDataset, GroundTruth, open_built_dataset
from rt_grasp_ros.errors import ConfigError, DatasetError
from rt_grasp_ros.eval.scoring import evaluate_answers
from rt_grasp_ros.manip.dataset import is_task_folder, read_tasks
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.conversation import PromptTemplates
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.vlm.config import TrainConfig
from rt_grasp_ros.vlm.dataset import record_image, record_messages
from rt_grasp_ros.vlm.distributed import engine_arguments
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.tiny import build_tiny

TINY_BASE = "base"
MANIP_FORMAT = "manipllm"  # the answer format of checkpoints trained on ManipLLM's tasks


@dataclass(frozen=True)
class TrainingData:
    """What a run trains on: one fold of a built grasp dataset, or a ManipLLM task file.

    Attributes:
        records: the training conversations (LLaVA layout).
        image_folder: the folder their image paths are relative to.
        corpus: the texts a tiny model's tokenizer learns from.
        answer_format: how answers are written (a grasp format, or ``manipllm``).
        decimals: decimals of grasp answers (0 for ManipLLM's integer bins).
        description: the checkpoint's ``dataset`` entry.
        default_instruction: the prompt a checkpoint is asked with by default.
        built: the grasp dataset, for its prompt templates and rectangle-metric validation;
            ``None`` for ManipLLM tasks (no validation during training).
    """

    records: list[dict[str, Any]]
    image_folder: Path
    corpus: list[str]
    answer_format: str
    decimals: int
    description: dict[str, Any]
    default_instruction: str | None
    built: BuiltDataset | None = None

    @property
    def prompts(self) -> PromptTemplates | None:
        """The grasp dataset's prompt templates (conversations drawn anew each epoch)."""
        return dataset_prompts(self.built) if self.built is not None else None


def open_training_data(config: TrainConfig, data: str | Path) -> TrainingData:
    """The training conversations of ``data``.

    A ManipLLM task folder (``rt-grasp manip collect`` output; the tasks of ``data.tasks``)
    or a built grasp dataset (fold ``data.fold``).

    Raises:
        ConfigError: ``data.tasks`` given for a grasp dataset.
        DatasetError: no training records.
    """
    tasks = config.data.tasks
    if is_task_folder(data):
        records = read_tasks(data, tasks)
        everything = read_tasks(data)
        corpus = [turn["value"] for r in everything for turn in r["conversations"]]
        pose = next((r for r in everything if r.get("task") == "pose"), None)
        return TrainingData(
            records,
            Path(data).resolve(),
            corpus,
            MANIP_FORMAT,
            0,
            {
                "path": str(Path(data).resolve()),
                "kind": "manipllm",
                "tasks": sorted({str(r.get("task")) for r in records}),
                "conversations": len(records),
            },
            pose["conversations"][0]["value"].split("\n", 1)[-1] if pose else None,
        )
    if tasks is not None:
        raise ConfigError(
            f"data.tasks: selects ManipLLM tasks, but {data} is a built grasp dataset "
            "(no manipllm_tasks.json); leave data.tasks out"
        )
    dataset = open_built_dataset(data)
    fold = config.data.fold
    records = dataset.records(fold, "train")
    if not records:
        raise DatasetError(f"{data}: fold {fold} has no training records")
    return TrainingData(
        records,
        dataset.image_folder,
        tokenizer_corpus(dataset),
        dataset.manifest["format"],
        int(dataset.manifest.get("decimals", 3)),
        {"path": str(Path(data).resolve()), "fold": fold, "split": dataset.manifest["split"]},
        (dataset.manifest.get("instructions") or [None])[0],
        dataset,
    )


def num_folds(data: str | Path) -> int:
    """The folds of ``data`` (a ManipLLM task file has one)."""
    return 1 if is_task_folder(data) else open_built_dataset(data).num_folds


def validation_records(
    dataset: BuiltDataset, fold: int, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """Held-out records of the fold, or (single fold) un-augmented training records."""
    test = dataset.records(fold, "test")
    if test:
        return test[:limit], "test"
    originals = [
        r
        for r in dataset.records(fold, "train")
        if "augmentation" not in r and r["id"] == r["source_id"]
    ]
    return originals[:limit], "train"


def evaluate_records(
    predictor: GraspPredictor,
    records: list[dict[str, Any]],
    image_folder: Path,
    ground_truth: dict[str, GroundTruth],
    batch_size: int,
) -> tuple[float, int]:
    """Rectangle-metric accuracy of greedy answers on ``records``; (accuracy, parse failures)."""
    answers = {}
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        images = [record_image(r, image_folder) for r in chunk]
        instructions = [record_messages(r)[0]["content"][-1]["text"] for r in chunk]
        for record, prediction in zip(
            chunk, predictor.predict_batch(images, instructions), strict=True
        ):
            answers[record["id"]] = prediction.text
    report = evaluate_answers({r["id"]: ground_truth[r["id"]] for r in records}, answers)
    return report.accuracy, report.count("unparsable")


def prepare_base(config: TrainConfig, corpus: list[str], output: Path) -> tuple[str, str]:
    """(path to load, name to record): a hub id or path, or a tiny model in ``output/base``.

    A tiny model's tokenizer learns from ``corpus``.
    """
    if config.model.base is not None:
        return config.model.base, config.model.base
    base_dir = output / TINY_BASE
    if not (base_dir / "config.json").exists():
        build_tiny(config.model.tiny, corpus, base_dir)
    return str(base_dir), TINY_BASE


def tokenizer_corpus(dataset: BuiltDataset) -> list[str]:
    """Texts a tiny model's tokenizer learns from: templates and the dataset's conversations."""
    lib = load_templates()
    corpus = [t for ts in lib.reasoning.values() for t in ts] + list(lib.instructions)
    corpus += list(lib.generic)
    prompts = dataset_prompts(dataset)
    if prompts is not None:
        corpus += list(prompts.instructions) + [t for ts in prompts.reasoning.values() for t in ts]
    for fold in range(dataset.num_folds):
        for r in dataset.records(fold, "train"):
            corpus += [turn["value"] for turn in r["conversations"]]
    return corpus


def dataset_prompts(dataset: BuiltDataset) -> PromptTemplates | None:
    """The prompt templates a built dataset stores (None for datasets built before them)."""
    return PromptTemplates.from_manifest(dataset.manifest, str(dataset.root / "manifest.json"))


def training_arguments(
    config: TrainConfig,
    output: Path,
    processes: int,
    dtype: Any,
    device: Any,
    progress: bool = True,
) -> Any:
    """The Trainer's arguments for ``config``.

    Args:
        config: the training config.
        output: the checkpoint folder (the Trainer's own checkpoints go to ``output/trainer``).
        processes: the number of training processes (for the gradient accumulation).
        dtype: the dtype the model was loaded in: bfloat16 or float16 turn on mixed
            precision (the trainable parameters are float32 master weights).
        device: the model's device.
        progress: show the Trainer's progress bar.
    """
    torch = require("torch", "training")
    transformers = require("transformers", "training")
    workers = config.data.num_workers
    return transformers.TrainingArguments(
        output_dir=str(output / "trainer"),
        per_device_train_batch_size=config.optim.micro_batch_size,
        gradient_accumulation_steps=config.optim.accumulation_for(processes),
        learning_rate=config.optim.learning_rate,
        num_train_epochs=config.optim.epochs,
        max_steps=config.optim.max_steps,
        lr_scheduler_type=config.optim.scheduler,
        warmup_steps=config.optim.warmup_ratio,
        weight_decay=config.optim.weight_decay,
        max_grad_norm=config.optim.max_grad_norm,
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_total_limit=2,
        bf16=dtype == torch.bfloat16,
        fp16=dtype == torch.float16,
        use_cpu=device.type == "cpu",
        seed=config.seed,
        report_to="none",
        remove_unused_columns=False,
        disable_tqdm=not progress,
        dataloader_num_workers=workers,
        # Workers start again every epoch, so they see the epoch's prompts (set_epoch).
        dataloader_persistent_workers=False,
        dataloader_pin_memory=device.type == "cuda",
        **engine_arguments(config.distributed, processes),
    )


@contextlib.contextmanager
def mixed_precision(dtype: Any, device: Any) -> Iterator[None]:
    """Autocast to ``dtype`` where the model is half precision.

    Its float32 master weights and its half-precision frozen weights then meet in
    half-precision arithmetic (as in training); a float32 model runs as it is.
    """
    torch = require("torch", "training")
    half = dtype in (torch.bfloat16, torch.float16)
    with torch.autocast(device.type, dtype=dtype, enabled=half):
        yield
