"""Grasp prediction with a multimodal LLM: reasoning, pose, token counts and timings.

``GraspPredictor.predict`` answers one image (optionally continuing a conversation);
``predict_batch`` answers many at once for evaluation; a ``RefinementSession`` keeps the turns
so that follow-ups ("rotate the gripper by 90 degrees") are answered in context.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.formats import DEFAULT_DECIMALS, AnswerFormat
from rt_grasp_ros.prompts.spec import AnswerSpec, GraspPoseSpec
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.vlm.backbone import DEFAULT_DTYPE, Backbone, load_backbone
from rt_grasp_ros.vlm.checkpoint import apply_adapter, is_checkpoint, load_checkpoint
from rt_grasp_ros.vlm.consensus import consensus
from rt_grasp_ros.vlm.constrained import AnswerGrammar
from rt_grasp_ros.vlm.default import resolve_model
from rt_grasp_ros.vlm.prediction import Prediction, parse_prediction, total_time
from rt_grasp_ros.vlm.processing import assistant_message, prepare_image, render, user_message

__all__ = ["GraspPredictor", "Prediction", "RefinementSession", "parse_prediction"]

DEFAULT_MAX_NEW_TOKENS = 160


def synchronize(device: Any) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; a CPU needs no wait)."""
    if getattr(device, "type", str(device)).startswith("cuda"):
        require("torch", "timing on a GPU").cuda.synchronize(device)


def now(device: Any) -> float:
    """``time.perf_counter()`` once the device has finished what was queued on it."""
    synchronize(device)
    return time.perf_counter()


class _FirstTokenClock:
    """A logits processor that notes when the first token's logits arrive (end of prefill).

    On a GPU the logits are not computed yet when the processor is called (kernels are only
    queued), so the clock waits for the device first.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self.first: float | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.first is None:
            self.first = now(self.device)
        return scores


class GraspPredictor:
    """Turns images and instructions into reasoning and grasp poses."""

    def __init__(
        self,
        backbone: Backbone,
        answer_format: AnswerFormat | str = AnswerFormat.RT,
        decimals: int = DEFAULT_DECIMALS,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        default_instruction: str | None = None,
    ) -> None:
        self.backbone = backbone
        self.answer_format = AnswerFormat.parse(answer_format)
        self.decimals = decimals
        self.spec = GraspPoseSpec(self.answer_format, decimals)
        self.max_new_tokens = max_new_tokens
        # The instruction the model was trained with first, when the checkpoint records it.
        self.default_instruction = default_instruction or load_templates().instructions[0]

    @classmethod
    def from_pretrained(
        cls,
        model: str | Path,
        adapter: str | Path | None = None,
        dtype: str = DEFAULT_DTYPE,
        device: str = "auto",
        merge_adapter: bool = False,
        **kwargs: Any,
    ) -> GraspPredictor:
        """Load a trained checkpoint, or a base model (optionally with a LoRA adapter).

        Args:
            model: a checkpoint folder, a hub id or path of a base model, or ``default``: the
                shipped embedded model (:mod:`rt_grasp_ros.vlm.default`).
            adapter: a LoRA adapter (or a LoRA checkpoint) for the base model ``model``.
            dtype: ``auto`` (bfloat16 on a GPU that has it, float32 otherwise), ``float32``,
                ``bfloat16`` or ``float16``.
            device: ``auto`` (``cuda`` where a GPU is visible), ``cpu`` or ``cuda[:N]``.
            merge_adapter: fold a LoRA adapter into the base weights (faster decoding, no
                adapter left to switch off; answers agree up to rounding).
            **kwargs: :class:`GraspPredictor` options (answer format, decimals, ...).
        """
        model = resolve_model(model)
        if is_checkpoint(model):
            if adapter is not None:
                raise RtGraspError(
                    f"{model} is already a trained checkpoint; give its base model with --adapter"
                )
            backbone, info = load_checkpoint(model, dtype, device, merge_adapter)
            kwargs.setdefault("answer_format", info.answer_format)
            kwargs.setdefault("decimals", info.decimals)
            kwargs.setdefault("default_instruction", info.extra.get("default_instruction"))
            return cls(backbone, **kwargs)
        backbone = load_backbone(model, dtype, device)
        if adapter is not None:
            adapter = Path(adapter)
            backbone.model = apply_adapter(
                backbone, adapter / "adapter" if is_checkpoint(adapter) else adapter, merge_adapter
            )
            backbone.model.eval()
        return cls(backbone, **kwargs)

    # -- inputs ------------------------------------------------------------------------------

    def messages(
        self, instruction: str | None, history: Sequence[tuple[str, str]] | None
    ) -> list[dict[str, Any]]:
        """The conversation so far plus the new instruction (the image rides on the first turn)."""
        turns = list(history or [])
        messages: list[dict[str, Any]] = []
        for k, (question, answer) in enumerate(turns):
            messages += [user_message(question, k == 0), assistant_message(answer)]
        messages.append(user_message(instruction or self.default_instruction, not turns))
        return messages

    def _encode(self, images: Sequence[Any], conversations: Sequence[list[dict[str, Any]]]) -> Any:
        processor = self.backbone.processor
        texts = [render(processor, c, add_generation_prompt=True) for c in conversations]
        pictures = [prepare_image(i, self.backbone.family, processor) for i in images]
        # Generation continues every row at its end, so rows are padded on the left; per call,
        # because the processor is shared (a trainer pads the same tokenizer on the right).
        inputs = processor(
            text=texts, images=pictures, padding=True, padding_side="left", return_tensors="pt"
        )
        return inputs.to(self.backbone.device)

    # -- generation ----------------------------------------------------------------------------

    def _generate(
        self,
        inputs: Any,
        constrained: AnswerSpec | None,
        max_new_tokens: int | None = None,
        **sampling: Any,
    ) -> tuple[Any, dict[str, float]]:
        """Generated ids (prompt cut off) and prefill/decode seconds.

        ``constrained``: the spec whose grammar the answer must follow (None: free decoding).
        """
        torch = require("torch", "grasp prediction")
        transformers = require("transformers", "grasp prediction")
        tokenizer = self.backbone.processor.tokenizer
        device = self.backbone.device
        budget = max_new_tokens or self.max_new_tokens
        clock = _FirstTokenClock(device)
        processors: list[Any] = [clock]
        prompt_length = inputs["input_ids"].shape[1]
        if constrained is not None:
            processors.append(AnswerGrammar(tokenizer, prompt_length, constrained, budget))
        start = now(device)
        with torch.inference_mode():
            out = self.backbone.model.generate(
                **inputs,
                max_new_tokens=budget,
                logits_processor=transformers.LogitsProcessorList(processors),
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                **sampling,
            )
        end = now(device)
        first = clock.first or end
        return out[:, prompt_length:], {"prefill": first - start, "decode": end - first}

    def _decode(self, ids: Any) -> tuple[str, int]:
        """Answer text and the number of generated tokens (up to and including the first EOS)."""
        tokenizer = self.backbone.processor.tokenizer
        values = ids.tolist()
        if tokenizer.eos_token_id in values:
            cut = values.index(tokenizer.eos_token_id)
            body, generated = values[:cut], cut + 1
        else:
            body = [t for t in values if t != tokenizer.pad_token_id]
            generated = len(body)
        return tokenizer.decode(body, skip_special_tokens=True).strip(), generated

    def answer(
        self,
        image: Any,
        messages: list[dict[str, Any]],
        spec: AnswerSpec | None,
        constrained: bool = False,
        max_new_tokens: int | None = None,
    ) -> Prediction:
        """The greedy answer to ``messages`` about ``image``, read with ``spec``.

        The one generation path of every answer kind: RT-Grasp's pose (:meth:`predict`) and
        each turn of ManipLLM's chain of thought. ``spec`` None: a free-text turn.
        """
        start = time.perf_counter()
        inputs = self._encode([image], [messages])
        preprocess = time.perf_counter() - start
        grammar = spec if constrained and spec is not None else None
        ids, timing = self._generate(inputs, grammar, max_new_tokens, do_sample=False)
        text, n = self._decode(ids[0])
        prompt_tokens = int(inputs["attention_mask"].sum())
        return parse_prediction(text, prompt_tokens, n, {"preprocess": preprocess, **timing}, spec)

    def predict(
        self,
        image: Any,
        instruction: str | None = None,
        history: Sequence[tuple[str, str]] | None = None,
        constrained: bool = False,
        samples: int = 1,
        temperature: float = 0.7,
        seed: int | None = None,
    ) -> Prediction:
        """Answer one image; ``samples > 1`` samples k answers and returns their consensus."""
        torch = require("torch", "grasp prediction")
        messages = self.messages(instruction, history)
        if samples <= 1:
            return self.answer(image, messages, self.spec, constrained)
        start = time.perf_counter()
        inputs = self._encode([image], [messages])
        preprocess = time.perf_counter() - start
        prompt_tokens = int(inputs["attention_mask"].sum())
        if seed is not None:
            torch.manual_seed(seed)
        ids, timing = self._generate(
            inputs,
            self.spec if constrained else None,
            do_sample=True,
            temperature=temperature,
            num_return_sequences=samples,
        )
        each = []
        for row in ids:
            text, n = self._decode(row)
            each.append(parse_prediction(text, prompt_tokens, n, {}, self.spec))
        return self._combine(each, prompt_tokens, {"preprocess": preprocess, **timing})

    def _combine(
        self, each: list[Prediction], prompt_tokens: int, timings: dict[str, float]
    ) -> Prediction:
        parsed = [p for p in each if p.ok]
        total = sum(p.generated_tokens for p in each)
        if not parsed:
            reasons = sorted({p.error for p in each if p.error})
            result = parse_prediction(each[0].text, prompt_tokens, total, timings, self.spec)
            result.error = f"none of {len(each)} sampled answers parsed ({'; '.join(reasons)})"
            result.samples = each
            return result
        agreed = consensus([p.pose for p in parsed])
        chosen = parsed[agreed.nearest]
        result = Prediction(
            chosen.text,
            agreed.pose,
            chosen.reasoning,
            None,
            prompt_tokens,
            total,
            {**timings, "parse": sum(p.timings["parse"] for p in each)},
            each,
            agreed,
            self.spec,
        )
        result.timings["total"] = total_time(result.timings)
        return result

    def predict_batch(
        self, images: Sequence[Any], instructions: Sequence[str | None], constrained: bool = False
    ) -> list[Prediction]:
        """Greedy answers for a batch (one turn each); timings are per batch, divided evenly."""
        if len(images) != len(instructions):
            raise RtGraspError(f"{len(images)} images but {len(instructions)} instructions")
        if not images:
            return []
        start = time.perf_counter()
        inputs = self._encode(images, [self.messages(i, None) for i in instructions])
        preprocess = time.perf_counter() - start
        ids, timing = self._generate(inputs, self.spec if constrained else None, do_sample=False)
        share = {
            "preprocess": preprocess / len(images),
            **{k: v / len(images) for k, v in timing.items()},
        }
        out = []
        for row, mask in zip(ids, inputs["attention_mask"], strict=True):
            text, n = self._decode(row)
            out.append(parse_prediction(text, int(mask.sum()), n, share, self.spec))
        return out

    def session(self, image: Any) -> RefinementSession:
        """Start a refinement conversation about ``image``."""
        return RefinementSession(self, image)


class RefinementSession:
    """A conversation about one image; each follow-up is answered with the earlier turns."""

    def __init__(self, predictor: GraspPredictor, image: Any) -> None:
        self.predictor = predictor
        self.image = image
        self.turns: list[tuple[str, str]] = []
        self.predictions: list[Prediction] = []

    def ask(self, instruction: str | None = None, **kwargs: Any) -> Prediction:
        """Ask for a (first or refined) grasp; the answer joins the conversation."""
        prediction = self.predictor.predict(self.image, instruction, self.turns, **kwargs)
        question = instruction or self.predictor.default_instruction
        self.turns.append((question, prediction.text))
        self.predictions.append(prediction)
        return prediction

    @property
    def pose(self) -> GraspPose | None:
        """The latest pose that parsed."""
        return next((p.pose for p in reversed(self.predictions) if p.ok), None)
