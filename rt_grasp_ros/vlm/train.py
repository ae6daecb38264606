"""Reasoning tuning with transformers' Trainer and PEFT.

``train`` builds (tiny) or loads the base model, applies the strategy, trains on one fold of a
built dataset with answer-only loss, checks the rectangle-metric accuracy on held-out samples
every few steps, and writes a self-describing checkpoint with only the parameters that train.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rt_grasp_ros.data.records import GroundTruth
from rt_grasp_ros.errors import ConfigError, DatasetError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.backbone import Backbone, load_backbone
from rt_grasp_ros.vlm.checkpoint import WEIGHTS_FILE, CheckpointInfo, load_weights, save_checkpoint
from rt_grasp_ros.vlm.config import TrainConfig
from rt_grasp_ros.vlm.dataset import ConversationDataset
from rt_grasp_ros.vlm.distributed import (
    is_main_process,
    main_process_first,
    validates_in_training,
    world_size,
)
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.processing import collate
from rt_grasp_ros.vlm.strategy import (
    apply_trainable,
    count_parameters,
    keep_fp32_master_weights,
    trainable_state_dict,
)
from rt_grasp_ros.vlm.train_setup import (
    MANIP_FORMAT,
    TINY_BASE,
    TrainingData,
    dataset_prompts,
    evaluate_records,
    mixed_precision,
    num_folds,
    open_training_data,
    prepare_base,
    tokenizer_corpus,
    training_arguments,
    validation_records,
)

__all__ = [
    "MANIP_FORMAT",
    "TINY_BASE",
    "FoldRun",
    "TrainResult",
    "TrainingData",
    "dataset_prompts",
    "evaluate_records",
    "open_training_data",
    "plan_folds",
    "prepare_base",
    "tokenizer_corpus",
    "train",
    "train_folds",
    "validation_records",
]

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced."""

    output: Path
    steps: int
    seconds: float
    trainable_parameters: int
    total_parameters: int
    validation: list[tuple[int, float]] = field(default_factory=list)
    losses: list[tuple[int, float]] = field(default_factory=list)


def _trainer_classes() -> tuple[type, type, type]:
    transformers = require("transformers", "training")

    class GraspTrainer(transformers.Trainer):
        """A Trainer whose checkpoints hold only the trained parameters (for non-PEFT models).

        Saving goes through the public ``save_model``, which the Trainer also calls for its
        checkpoints. Resuming has no public hook, so ``_load_from_checkpoint`` is overridden:
        pyproject pins transformers to the tested minor versions, and
        ``test_trainer_contract`` checks the signature and call sites this relies on.
        """

        def __init__(self, *args: Any, trainable_only: bool = False, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.trainable_only = trainable_only

        def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
            """Save the model; with ``trainable_only``, just the parameters that train."""
            if not self.trainable_only:
                return super().save_model(output_dir, _internal_call)
            if self.args.should_save:
                safetensors = require("safetensors.torch", "checkpointing")
                out = Path(output_dir or self.args.output_dir)
                out.mkdir(parents=True, exist_ok=True)
                safetensors.save_file(trainable_state_dict(self.model), str(out / WEIGHTS_FILE))
                # As the Trainer's own save: the arguments travel with the weights.
                require("torch", "checkpointing").save(self.args, out / "training_args.bin")
            return None

        def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
            if not self.trainable_only:
                return super()._load_from_checkpoint(resume_from_checkpoint, model)
            load_weights(model or self.model, Path(resume_from_checkpoint) / WEIGHTS_FILE)
            return None

    class ValidationCallback(transformers.TrainerCallback):
        """Rectangle-metric accuracy on held-out samples every ``every`` steps and at the end."""

        def __init__(self, run: _Run) -> None:
            self.run = run

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            every = self.run.config.eval.every_steps
            if self.run.validating and every and state.global_step % every == 0:
                self._validate(state)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not self.run.validating:
                return
            if not self.run.validation or self.run.validation[-1][0] != state.global_step:
                self._validate(state)

        def _validate(self, state: Any) -> None:
            accuracy, failures = self.run.validate()
            self.run.validation.append((state.global_step, accuracy))
            state.log_history.append(
                {
                    "step": state.global_step,
                    "val_accuracy": accuracy,
                    "val_parse_failures": failures,
                }
            )
            log.info(
                "step %d: validation accuracy %.1f %% (%d unparsable)",
                state.global_step,
                100 * accuracy,
                failures,
            )

    class EpochCallback(transformers.TrainerCallback):
        """Tells the training set which epoch starts, so it draws that epoch's prompts.

        ``state.epoch`` is the epoch reached (the fraction is the part done), also after
        resuming from a checkpoint.
        """

        def __init__(self, dataset: ConversationDataset) -> None:
            self.dataset = dataset

        def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.dataset.set_epoch(int(state.epoch or 0))

    return GraspTrainer, ValidationCallback, EpochCallback


@dataclass
class _Run:
    """State shared by the training loop and the validation callback."""

    config: TrainConfig
    backbone: Backbone
    model: Any
    data: TrainingData
    val_records: list[dict[str, Any]]
    ground_truth: dict[str, GroundTruth]
    validating: bool = True  # rank 0 only; off where the engine shards the parameters
    dtype: Any = None  # the dtype the model was loaded in (half: validate under autocast)
    validation: list[tuple[int, float]] = field(default_factory=list)

    def validate(self) -> tuple[float, int]:
        if not self.val_records:
            return 0.0, 0
        predictor = GraspPredictor(
            Backbone(
                self.model, self.backbone.processor, self.backbone.family, self.backbone.source
            ),
            self.data.answer_format,
            self.data.decimals,
            self.config.eval.max_new_tokens,
        )
        was_training = self.model.training
        self.model.eval()
        try:
            with mixed_precision(self.dtype, self.backbone.device):
                return evaluate_records(
                    predictor,
                    self.val_records,
                    self.data.image_folder,
                    self.ground_truth,
                    self.config.eval.batch_size,
                )
        finally:
            self.model.train(was_training)


def train(
    config: TrainConfig,
    data: str | Path,
    output: str | Path,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train and write a checkpoint to ``output``.

    ``data`` is a built grasp dataset (one fold of it trains, validated with the rectangle
    metric) or a ManipLLM task folder (``rt-grasp manip collect`` output: the conversations
    of ``data.tasks`` train, the loss over every assistant turn).
    """
    torch = require("torch", "training")
    start = time.perf_counter()
    output = Path(output)
    source = open_training_data(config, data)
    processes = world_size()
    config.optim.accumulation_for(processes)  # a batch size that does not divide fails now
    with main_process_first():  # rank 0 builds a tiny base, the others then load it
        load_path, base_name = prepare_base(config, source.corpus, output)
    backbone = load_backbone(load_path, config.model.dtype, config.model.device)
    dtype = next(backbone.model.parameters()).dtype
    torch.manual_seed(config.seed)
    model = apply_trainable(backbone.model, backbone.family, config.parts, config.lora)
    keep_fp32_master_weights(model)
    if config.optim.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    trainable, total = count_parameters(model)
    log.info(
        "training %s/%s: %d of %d parameters",
        backbone.family.name,
        "+".join(config.parts),
        trainable,
        total,
    )

    val_records = (
        validation_records(source.built, config.data.fold, config.eval.samples)[0]
        if source.built is not None
        else []
    )
    in_training = validates_in_training(config.distributed, processes)
    if not in_training:
        log.info(
            "engine %s shards the parameters: no validation during training; "
            "run `rt-grasp evaluate` on the checkpoint",
            config.distributed.engine,
        )
    run = _Run(
        config,
        backbone,
        model,
        source,
        val_records,
        source.built.ground_truth() if val_records and source.built else {},
        in_training and is_main_process() and bool(val_records),
        dtype=dtype,
    )
    trainer_cls, callback_cls, epoch_cls = _trainer_classes()
    args = training_arguments(
        config, output, processes, dtype, next(model.parameters()).device, progress
    )
    dataset_obj = ConversationDataset(
        source.records,
        source.image_folder,
        backbone.processor,
        backbone.family,
        config.data.max_length,
        cache=config.data.cache_examples,
        prompts=source.prompts,
        seed=config.seed,
    )
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=dataset_obj,
        data_collator=partial(collate, pad_token_id=backbone.processor.tokenizer.pad_token_id),
        callbacks=[callback_cls(run), epoch_cls(dataset_obj)],
        trainable_only=config.storage != "lora",
    )
    trainer.train(resume_from_checkpoint=resume or None)

    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    info = CheckpointInfo(
        base_model=base_name,
        family=backbone.family.name,
        strategy=config.storage,
        answer_format=source.answer_format,
        decimals=source.decimals,
        train_config=config.to_dict(),
        extra={
            "dataset": source.description,
            "trainable": list(config.parts),
            "steps": trainer.state.global_step,
            "default_instruction": source.default_instruction,
            "validation": [{"step": s, "accuracy": a} for s, a in run.validation],
        },
    )
    _write_outputs(trainer, run, output, info, losses)
    return TrainResult(
        output,
        trainer.state.global_step,
        time.perf_counter() - start,
        trainable,
        total,
        run.validation,
        losses,
    )


def _write_outputs(
    trainer: Any, run: _Run, output: Path, info: CheckpointInfo, losses: list[tuple[int, float]]
) -> None:
    """Checkpoint, log and curve, written by rank 0 only.

    Sharding engines gather the full parameters first; every rank takes part in that.
    """
    state_dict = None
    if not validates_in_training(run.config.distributed, world_size()):  # sharded parameters
        state_dict = trainer.accelerator.get_state_dict(trainer.model_wrapped)
    if not is_main_process():
        return
    save_checkpoint(output, run.model, run.backbone, info, state_dict)
    (output / "train_log.json").write_text(json.dumps(trainer.state.log_history, indent=1) + "\n")
    from rt_grasp_ros.viz.curves import plot_training_curves

    plot_training_curves(
        run.validation,
        losses,
        output / "training_curve.png",
        f"{run.backbone.family.name} / {'+'.join(run.config.parts)} / {info.answer_format}",
    )


@dataclass(frozen=True)
class FoldRun:
    """One training run of a multi-fold job: the fold, its config and its output folder."""

    fold: int
    config: TrainConfig
    output: Path


def plan_folds(
    config: TrainConfig, num_folds: int, output: str | Path, fold: int | str | None = None
) -> list[FoldRun]:
    """The runs that train ``fold`` of a dataset with ``num_folds`` folds.

    Args:
        config: the training config (its ``data.fold`` is the default fold).
        num_folds: how many folds the dataset has.
        output: the checkpoint folder.
        fold: ``None`` (``data.fold``), a fold index (as a number or text), or ``"all"``,
            which trains every fold into ``output/fold_K``.

    Raises:
        ConfigError: ``fold`` is neither a number nor ``"all"``.
        DatasetError: the fold does not exist in the dataset.
    """
    output = Path(output)
    if fold == "all":
        return [FoldRun(k, _with_fold(config, k), output / f"fold_{k}") for k in range(num_folds)]
    if fold is None:
        index = config.data.fold
    else:
        try:
            index = int(fold)
        except ValueError:
            raise ConfigError(f"fold must be a number or 'all', got {fold!r}") from None
    if not 0 <= index < num_folds:
        raise DatasetError(f"fold {index} does not exist (the dataset has {num_folds})")
    return [FoldRun(index, _with_fold(config, index), output)]


def _with_fold(config: TrainConfig, fold: int) -> TrainConfig:
    return dataclasses.replace(config, data=dataclasses.replace(config.data, fold=fold))


def train_folds(
    config: TrainConfig,
    data: str | Path,
    output: str | Path,
    fold: int | str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> Iterator[tuple[FoldRun, TrainResult]]:
    """Train each run of :func:`plan_folds` in turn, yielding its result when it is done."""
    runs = plan_folds(config, num_folds(data), output, fold)
    for run in runs:
        yield run, train(run.config, data, run.output, resume=resume, progress=progress)
