"""Conversations in the LLaVA layout that built datasets store.

A human turn marks where the image goes with :data:`IMAGE_PLACEHOLDER` (``<image>``), as the
LLaVA training files do. That marker belongs to the file layout, not to a model: each model
family's processor inserts its own image token(s) when the chat template renders an image part
(``<image>`` for LLaVA, ``<|vision_start|><|image_pad|><|vision_end|>`` for Qwen2-VL).
"""

from __future__ import annotations

IMAGE_PLACEHOLDER = "<image>"


def human_turn(instruction: str, with_image: bool = True) -> dict[str, str]:
    """A human turn of the layout (the first one carries the image placeholder)."""
    text = f"{IMAGE_PLACEHOLDER}\n{instruction}" if with_image else instruction
    return {"from": "human", "value": text}


def gpt_turn(answer: str) -> dict[str, str]:
    """An assistant turn of the layout."""
    return {"from": "gpt", "value": answer}


def split_image_placeholder(text: str) -> tuple[str, bool]:
    """A human turn's text without the placeholder, and whether it had one."""
    return text.replace(IMAGE_PLACEHOLDER, "").strip(), IMAGE_PLACEHOLDER in text
