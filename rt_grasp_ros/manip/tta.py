"""ManipLLM's test-time adaptation (paper Sec. 3.3): learn from each trial's outcome.

After a trial, the model is asked the affordance prior reasoning question about the pixel it
operated on ("can operating on (x, y) manipulate the object?") and supervised with the
outcome: ``yes`` if the object moved, ``no`` if not. A few gradient steps update only the
vision-side adapter (LoRA on the vision tower's blocks, the paper's V-Adapter): position
errors come from perception under a domain shift, while the language model's reasoning
transfers. The adapted weights are saved to a folder of their own, :meth:`reset` restores the
checkpoint's, and the base checkpoint is never written.

A checkpoint trained with ``vision_lora`` adapts that adapter; any other gets a fresh vision
LoRA (zero-initialised, so the model starts as the checkpoint) on its merged weights, and so
does a base model that is no checkpoint (a model folder or a hub id, as the planner loads).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rt_grasp_ros.errors import AnswerParseError, ConfigError, RtGraspError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.manip.predictor import ContactPredictor
from rt_grasp_ros.manip.tasks import TaskFormats, affordance_question, load_task_formats
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.conversation import gpt_turn, human_turn
from rt_grasp_ros.vlm.backbone import Backbone, load_backbone
from rt_grasp_ros.vlm.checkpoint import is_checkpoint, load_checkpoint, read_info
from rt_grasp_ros.vlm.dataset import conversation_messages
from rt_grasp_ros.vlm.default import resolve_model
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.processing import (
    collate,
    encode_training,
    prepare_image,
)

ADAPTED_FILE = "vision_adapter.safetensors"
STATE_FILE = "tta.json"
FRESH_ADAPTER = "tta"


@dataclass(frozen=True)
class TTAConfig:
    """How much one trial's outcome changes the vision adapter.

    Attributes:
        steps: gradient steps per trial (the paper: one or a few).
        learning_rate: AdamW step size.
        r, alpha: rank and scaling of a fresh vision LoRA (checkpoints without one).
        max_length: the longest question, in tokens.
    """

    steps: int = 1
    learning_rate: float = 1e-4
    r: int = 8
    alpha: float = 16.0
    max_length: int = 1024

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"TTAConfig.steps must be at least 1, got {self.steps}")
        if self.learning_rate <= 0:
            raise ConfigError(
                f"TTAConfig.learning_rate must be positive, got {self.learning_rate}"
            )


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial taught: the image the model saw, the pixel it operated on, the result.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB, the frame the contact was predicted on.
        pixel: the contact ``(x, y)`` (column, row) in that image.
        success: whether the object moved (the supervision: yes or no).
        category: the object category (for the prompt's names).
    """

    image: np.ndarray
    pixel: tuple[float, float]
    success: bool
    category: str


def affordance_turns(outcome: TrialOutcome, formats: TaskFormats) -> list[dict[str, str]]:
    """The affordance question about the trial's pixel, answered by its outcome.

    The affordance prior reasoning task's question about one point (LLaVA layout), as the
    ``point`` training conversations ask it.
    """
    aff = formats.affordance
    question = affordance_question(formats, outcome.category, [np.round(outcome.pixel)])
    return [human_turn(question), gpt_turn(aff.positive if outcome.success else aff.negative)]


@dataclass
class TrialAdapter:
    """A checkpoint's model that adapts its vision LoRA after each trial.

    Build it with :meth:`from_checkpoint`. ``history`` lists every adaptation (trial pixel,
    outcome, loss before and after the steps).
    """

    backbone: Backbone
    checkpoint: Path
    out: Path
    config: TTAConfig
    formats: TaskFormats
    names: list[str]
    initial: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    optimizer: Any = None

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | Path,
        out: str | Path,
        config: TTAConfig | None = None,
        formats: TaskFormats | None = None,
        device: str = "cpu",
    ) -> TrialAdapter:
        """Load ``checkpoint`` for adaptation; adapted weights go to ``out``.

        ``checkpoint`` is a checkpoint folder, a shipped model's name (``manip-default``) or a
        base model (a folder or a hub id). The model is loaded in float32 (it trains).

        Raises:
            ConfigError: ``out`` is the checkpoint folder or inside it.
        """
        local, out = Path(resolve_model(checkpoint)), Path(out).resolve()
        checkpoint = local.resolve() if local.exists() else local  # else a hub id
        if out == checkpoint or checkpoint in out.parents:
            raise ConfigError(
                f"TTA output {out} is inside the base checkpoint {checkpoint}; "
                "adapted weights are saved apart from it"
            )
        config = config or TTAConfig()
        if is_checkpoint(checkpoint):
            has_vision_lora = "vision_lora" in read_info(checkpoint).extra.get("trainable", [])
            backbone, _ = load_checkpoint(
                checkpoint, "float32", device, merge_adapter=not has_vision_lora
            )
        else:
            has_vision_lora = False
            backbone = load_backbone(checkpoint, "float32", device)
        if not has_vision_lora:
            backbone.model = _fresh_vision_lora(backbone, config)
        names = _vision_lora_names(backbone)
        if not names:
            raise RtGraspError(f"{checkpoint}: the model has no vision LoRA to adapt")
        params = dict(backbone.model.named_parameters())
        for name, param in params.items():
            param.requires_grad_(name in names)
        initial = {n: params[n].detach().clone() for n in names}
        adapter = cls(
            backbone, checkpoint, out, config, formats or load_task_formats(), names, initial
        )
        adapter.reset()
        return adapter

    @property
    def trials(self) -> int:
        """Adaptations since the last :meth:`reset`."""
        return len(self.history)

    def parameters(self) -> list[Any]:
        """The vision LoRA parameters, the only ones that adapt."""
        params = dict(self.backbone.model.named_parameters())
        return [params[n] for n in self.names]

    def adapt(self, outcome: TrialOutcome) -> dict[str, Any]:
        """Take ``config.steps`` gradient steps on the trial's affordance question.

        Returns the entry added to ``history`` (losses before and after).
        """
        torch = require("torch", "test-time adaptation")
        batch = self._batch(outcome)
        model = self.backbone.model
        model.eval()  # no dropout: the steps depend on the outcome only
        losses = []
        for _ in range(self.config.steps):
            self.optimizer.zero_grad(set_to_none=True)
            loss = model(**batch).loss
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
        with torch.no_grad():
            after = float(model(**batch).loss)
        entry = {
            "pixel": [float(v) for v in outcome.pixel],
            "success": bool(outcome.success),
            "category": outcome.category,
            "loss_before": losses[0],
            "loss_after": after,
        }
        self.history.append(entry)
        return entry

    def yes_probability(self, outcome: TrialOutcome) -> float:
        """How sure the model is now that operating on the trial's pixel works.

        The probability of the ``yes`` answer against ``no`` (their first tokens).
        """
        torch = require("torch", "test-time adaptation")
        answers = []
        for success in (True, False):
            trial = TrialOutcome(outcome.image, outcome.pixel, success, outcome.category)
            batch = self._batch(trial)
            labels = batch["labels"][0]
            first = int((labels != -100).nonzero()[0])
            answers.append(int(labels[first]))
        with torch.no_grad():
            logits = self.backbone.model(**batch).logits[0, first - 1].float()
        return float(torch.softmax(logits[answers], -1)[0])

    def _batch(self, outcome: TrialOutcome) -> dict[str, Any]:
        turns = affordance_turns(outcome, self.formats)
        processor, family = self.backbone.processor, self.backbone.family
        image = prepare_image(outcome.image, family, processor)
        example = encode_training(
            processor, conversation_messages(turns, "tta"), image, self.config.max_length
        )
        batch = collate([example], processor.tokenizer.pad_token_id)
        device = self.backbone.device
        return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}

    def reset(self) -> None:
        """Restore the checkpoint's vision adapter and forget the optimiser state and history."""
        torch = require("torch", "test-time adaptation")
        with torch.no_grad():
            for param, value in zip(self.parameters(), self.initial.values(), strict=True):
                param.copy_(value)
        self.optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.config.learning_rate, weight_decay=0.0
        )
        self.history = []

    def save(self) -> Path:
        """Write the adapted vision LoRA and the history to ``out``; the folder."""
        safetensors = require("safetensors.torch", "saving adapted weights")
        self.out.mkdir(parents=True, exist_ok=True)
        state = {
            n: p.detach().cpu().contiguous()
            for n, p in zip(self.names, self.parameters(), strict=True)
        }
        safetensors.save_file(state, str(self.out / ADAPTED_FILE))
        meta = {
            "base_checkpoint": str(self.checkpoint),
            "config": asdict(self.config),
            "trials": self.history,
        }
        (self.out / STATE_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return self.out

    def load(self, folder: str | Path) -> None:
        """Apply adapted weights saved by :meth:`save` (from the same checkpoint)."""
        safetensors = require("safetensors.torch", "loading adapted weights")
        torch = require("torch", "test-time adaptation")
        folder = Path(folder)
        meta = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        if Path(meta["base_checkpoint"]) != self.checkpoint:
            raise RtGraspError(
                f"{folder} adapted {meta['base_checkpoint']}, not {self.checkpoint}"
            )
        state = safetensors.load_file(str(folder / ADAPTED_FILE))
        if sorted(state) != sorted(self.names):
            raise RtGraspError(f"{folder}: its parameters are not this model's vision LoRA")
        with torch.no_grad():
            for name, param in zip(self.names, self.parameters(), strict=True):
                param.copy_(state[name].to(param.dtype))


def greedy_contact(
    backbone: Backbone, image: np.ndarray, question: str, max_new_tokens: int = 64
) -> tuple[ContactPose, str]:
    """The model's greedy, free-decoded answer to the pose ``question`` about ``image``.

    The pose prompt alone, through :class:`ContactPredictor` (the one generation path).

    Raises:
        AnswerParseError: the answer holds no contact pose.
    """
    predictor = ContactPredictor(
        GraspPredictor(backbone, max_new_tokens=max_new_tokens), cot=False, constrained=False
    )
    prediction = predictor.predict(image, question)
    text = prediction.turn("pose").prediction.text
    if prediction.contact is None:
        raise AnswerParseError(prediction.error or "no contact pose", text)
    return prediction.contact, text


def _fresh_vision_lora(backbone: Backbone, config: TTAConfig) -> Any:
    peft = require("peft", "test-time adaptation")
    lora = peft.LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=0.0,
        target_modules=backbone.family.vision_lora_target_regex(),
    )
    return peft.get_peft_model(backbone.model, lora, adapter_name=FRESH_ADAPTER)


def _vision_lora_names(backbone: Backbone) -> list[str]:
    family = backbone.family
    return [
        n for n, _ in backbone.model.named_parameters() if "lora_" in n and family.is_vision(n)
    ]
