"""Conversations in the LLaVA layout that built datasets store, and how they are drawn.

A human turn marks where the image goes with :data:`IMAGE_PLACEHOLDER` (``<image>``), as the
LLaVA training files do. That marker belongs to the file layout, not to a model: each model
family's processor inserts its own image token(s) when the chat template renders an image part
(``<image>`` for LLaVA, ``<|vision_start|><|image_pad|><|vision_end|>`` for Qwen2-VL).

A sample's conversation is an instruction and an answer (a reasoning text for the object's
category, then the grasp). :class:`PromptTemplates` holds the texts they are drawn from; a
built dataset stores them in its manifest so that training can draw them anew each time a
sample is used, and nothing but the image tells the samples of one category apart.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts.formats import DEFAULT_DECIMALS, AnswerFormat
from rt_grasp_ros.prompts.spec import GraspPoseSpec
from rt_grasp_ros.prompts.templates import TemplateLibrary

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


def reasoning_key(category: str | None) -> str:
    """The key of a record's category in :attr:`PromptTemplates.reasoning` (``""``: none)."""
    return category or ""


def prompt_rng(seed: int, sample_id: str, use: int) -> random.Random:
    """The random choices of one use of a sample (``use``: the training epoch)."""
    return random.Random(f"{seed}:{sample_id}:use{use}")


@dataclass(frozen=True)
class PromptTemplates:
    """The texts a sample's conversation is drawn from.

    Attributes:
        answer_format: how answers are written.
        decimals: decimals of the numbers in answers.
        instructions: the instructions, one drawn per conversation.
        reasoning: :func:`reasoning_key` of a category -> its reasoning texts (empty for
            formats without reasoning).
    """

    answer_format: AnswerFormat
    decimals: int
    instructions: tuple[str, ...]
    reasoning: dict[str, tuple[str, ...]]

    @classmethod
    def from_library(
        cls,
        library: TemplateLibrary,
        categories: Iterable[str | None],
        answer_format: AnswerFormat | str,
        decimals: int = DEFAULT_DECIMALS,
    ) -> PromptTemplates:
        """The texts of ``library`` that conversations about ``categories`` can use."""
        answer_format = AnswerFormat.parse(answer_format)
        reasoning = (
            {
                reasoning_key(c): library.reasoning_options(c)
                for c in sorted(set(categories), key=str)
            }
            if answer_format.has_reasoning
            else {}
        )
        return cls(answer_format, decimals, tuple(library.instructions), reasoning)

    def to_manifest(self) -> dict[str, Any]:
        """The manifest entries that :meth:`from_manifest` reads back."""
        return {
            "instructions": list(self.instructions),
            "reasoning": {k: list(v) for k, v in self.reasoning.items()},
        }

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], where: str) -> PromptTemplates | None:
        """The templates stored in a built dataset's manifest; None if it predates them."""
        if "reasoning" not in manifest:
            return None
        try:
            return cls(
                AnswerFormat.parse(manifest["format"]),
                int(manifest.get("decimals", DEFAULT_DECIMALS)),
                tuple(str(t) for t in manifest["instructions"]),
                {str(k): tuple(str(t) for t in v) for k, v in manifest["reasoning"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DatasetError(f"{where}: malformed prompt templates ({exc})") from exc

    def conversation(
        self, category: str | None, pose: GraspPose, rng: random.Random
    ) -> list[dict[str, str]]:
        """A human turn (image and instruction) and the answer for ``pose``, drawn by ``rng``.

        Raises:
            DatasetError: the category has no reasoning texts.
        """
        reasoning = None
        if self.answer_format.has_reasoning:
            texts = self.reasoning.get(reasoning_key(category))
            if not texts:
                raise DatasetError(f"no reasoning texts for category {category!r}")
            reasoning = rng.choice(texts)
        answer = GraspPoseSpec(self.answer_format, self.decimals).render(pose, reasoning)
        return [human_turn(rng.choice(self.instructions)), gpt_turn(answer)]
