"""Conversations to model inputs: chat templates, images, and answer-only labels.

A conversation is rendered with the processor's chat template and split into segments at the
assistant turns: the prompt (with the image, through the processor so that image tokens are
expanded) and each answer (through the tokenizer, in the context of the text before it, so
that the tokens are those of the whole conversation: a SentencePiece tokenizer that prepends
``▁`` to a text on its own would start every answer with an extra ``▁`` token). Labels are the
answer tokens; everything else is -100, so the loss covers answers only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.families import Family

log = logging.getLogger(__name__)
IGNORE_INDEX = -100
SEQUENCE_KEYS = ("input_ids", "attention_mask", "labels", "mm_token_type_ids", "token_type_ids")
IMAGE_KEYS = ("pixel_values", "image_grid_thw", "image_sizes")


def to_pil(image: Any) -> Any:
    """An RGB PIL image from a path, a PIL image or an ``(H, W, 3)`` uint8 array."""
    from PIL import Image

    if isinstance(image, (str, Path)):
        from rt_grasp_ros.data.images import read_rgb

        image = read_rgb(image)
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise RtGraspError(
                f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}"
            )
        return Image.fromarray(image)
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    raise RtGraspError(f"cannot use {type(image).__name__} as an image")


def prepare_image(image: Any, family: Family, processor: Any) -> Any:
    """The image as the model sees it: padded to a square (centred) where the family needs it."""
    from PIL import Image

    pil = to_pil(image)
    if not family.square_images or pil.width == pil.height:
        return pil
    mean = getattr(processor.image_processor, "image_mean", None) or (0.5, 0.5, 0.5)
    fill = tuple(round(255 * m) for m in mean)
    side = max(pil.width, pil.height)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(pil, ((side - pil.width) // 2, (side - pil.height) // 2))
    return canvas


def user_message(text: str, with_image: bool) -> dict[str, Any]:
    """A user turn (the first one carries the image)."""
    content: list[dict[str, str]] = [{"type": "image"}] if with_image else []
    return {"role": "user", "content": [*content, {"type": "text", "text": text}]}


def assistant_message(text: str) -> dict[str, Any]:
    """An assistant turn."""
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def render(processor: Any, messages: Sequence[dict[str, Any]], add_generation_prompt: bool) -> str:
    """The conversation as text, through the processor's chat template."""
    return processor.apply_chat_template(
        list(messages), add_generation_prompt=add_generation_prompt, tokenize=False
    )


def encode_prompt(processor: Any, messages: Sequence[dict[str, Any]], image: Any) -> Any:
    """Model inputs (tensors, batch of one) for generating the next assistant turn."""
    text = render(processor, messages, add_generation_prompt=True)
    return processor(text=[text], images=[image], return_tensors="pt")


def _segments(processor: Any, messages: Sequence[dict[str, Any]]) -> list[tuple[str, bool]]:
    """(text, is_answer) pieces whose concatenation is the rendered conversation."""
    pieces: list[tuple[str, bool]] = []
    done = ""
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(processor, messages[:i], add_generation_prompt=True)
        full = render(processor, messages[: i + 1], add_generation_prompt=False)
        if not prompt.startswith(done) or not full.startswith(prompt):
            raise ConfigError(
                "the chat template does not render a conversation as a prefix of its "
                "continuation, "
                "so answer tokens cannot be separated from the prompt"
            )
        answer = full[len(prompt) :]
        pieces.append((prompt[len(done) :], False))
        eos = getattr(processor.tokenizer, "eos_token", None)
        if eos and eos in answer:
            # Train up to the end-of-turn token; what follows (a newline) is never generated.
            end = answer.index(eos) + len(eos)
            pieces += [(answer[:end], True), (answer[end:], False)]
        else:
            pieces.append((answer, True))
        done = full
    if not pieces:
        raise RtGraspError("a training conversation needs at least one assistant turn")
    return pieces


def encode_training(
    processor: Any,
    messages: Sequence[dict[str, Any]],
    image: Any,
    max_length: int,
    prompt_cache: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Inputs and answer-only labels for one conversation (1-D tensors, no batch dimension).

    Args:
        processor: the model's processor.
        messages: the conversation; the image rides on the first user turn.
        image: the image, or a callable that returns it (called only when it is processed).
        max_length: the longest conversation allowed, in tokens.
        prompt_cache: the processor's outputs for the first prompt of this image, by text;
            given a dict, it is read and filled, so an image is processed once per prompt.
    """
    torch = require("torch", "training")
    tokenizer = processor.tokenizer
    ids: list[int] = []
    labels: list[int] = []
    extra: dict[str, Any] = {}
    context = ""
    for k, (text, is_answer) in enumerate(p for p in _segments(processor, messages) if p[0]):
        if k == 0:
            enc = _encode_first(processor, text, image, prompt_cache)
            piece = enc["input_ids"][0].tolist()
            extra = {key: value for key, value in enc.items() if key not in SEQUENCE_KEYS}
            if "mm_token_type_ids" in enc:
                extra["_mm_prefix"] = enc["mm_token_type_ids"][0].tolist()
        else:
            piece = continuation_ids(tokenizer, context, text)
        context += text
        if is_answer and tokenizer.eos_token_id is not None and tokenizer.eos_token not in text:
            piece = [*piece, tokenizer.eos_token_id]
        ids += piece
        labels += piece if is_answer else [IGNORE_INDEX] * len(piece)
    if len(ids) > max_length:
        raise RtGraspError(
            f"a conversation is {len(ids)} tokens long, more than max_length={max_length}; "
            "raise data.max_length or shorten the answers"
        )
    out = {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.ones(len(ids), dtype=torch.long),
        "labels": torch.tensor(labels),
    }
    prefix = extra.pop("_mm_prefix", None)
    if prefix is not None:
        out["mm_token_type_ids"] = torch.tensor(prefix + [0] * (len(ids) - len(prefix)))
    for key, value in extra.items():
        out[key] = value[0] if key == "pixel_values" and value.dim() == 4 else value
    return out


def continuation_ids(tokenizer: Any, context: str, text: str) -> list[int]:
    """The tokens of ``text`` as they are in the tokenisation of ``context + text``.

    Tokenised on its own, a text can start differently: Llama's SentencePiece tokenizer
    prepends ``▁`` to it (" It" becomes ``▁ ▁It`` instead of ``▁It``). Where the tokens of
    ``context`` are not a prefix of those of the whole (a merge across the boundary), the text
    is tokenised on its own, with a warning.
    """
    before = tokenizer(context, add_special_tokens=False)["input_ids"]
    whole = tokenizer(context + text, add_special_tokens=False)["input_ids"]
    if whole[: len(before)] == before:
        return whole[len(before) :]
    log.warning(
        "the tokens of %r change when %r follows them; tokenising the second on its own",
        context[-40:],
        text[:40],
    )
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _encode_first(
    processor: Any, text: str, image: Any, cache: dict[str, Any] | None
) -> dict[str, Any]:
    """The processor's output for the prompt that carries the image (from ``cache`` if there)."""
    if cache is not None and text in cache:
        return cache[text]
    picture = image() if callable(image) else image
    enc = processor(text=[text], images=[picture], return_tensors="pt")
    if cache is not None:
        # The image's tensors do not depend on the prompt: one copy per image, however many
        # instructions it is asked with (12 prompts x 6,000 crops of pixels would be 14 GB).
        torch = require("torch", "training")
        seen = next(iter(cache.values()), {})
        for key in IMAGE_KEYS:
            if key in enc and key in seen and torch.equal(seen[key], enc[key]):
                enc[key] = seen[key]
        cache[text] = enc
    return enc


def collate(
    features: Sequence[dict[str, Any]], pad_token_id: int, padding_side: str = "right"
) -> dict[str, Any]:
    """Pad sequences (labels with -100) and join the image tensors of a batch."""
    torch = require("torch", "training")
    batch: dict[str, Any] = {}
    longest = max(len(f["input_ids"]) for f in features)
    pads = {"input_ids": pad_token_id, "labels": IGNORE_INDEX}
    for key in SEQUENCE_KEYS:
        if key not in features[0]:
            continue
        rows = []
        for f in features:
            seq = f[key]
            pad = torch.full((longest - len(seq),), pads.get(key, 0), dtype=seq.dtype)
            rows.append(torch.cat([seq, pad] if padding_side == "right" else [pad, seq]))
        batch[key] = torch.stack(rows)
    for key in features[0]:
        if key in batch:
            continue
        values = [f[key] for f in features]
        if key == "pixel_values" and values[0].dim() == 3:
            batch[key] = torch.stack(values)  # (B, C, H, W)
        else:
            batch[key] = torch.cat(values)  # patch sequences and grids are concatenated
    return batch
