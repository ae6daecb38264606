"""Built-dataset records as model inputs (images rendered on the fly, answer-only labels).

In training, a record that stores its ``grasp`` gets a conversation drawn anew each epoch
from the dataset's prompt templates (instruction and reasoning), deterministically from
(seed, sample id, epoch): no text but the image identifies the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rt_grasp_ros.data.augment import Augmentation, warp_image
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.conversation import PromptTemplates, prompt_rng, split_image_placeholder
from rt_grasp_ros.vlm.families import Family
from rt_grasp_ros.vlm.processing import (
    assistant_message,
    encode_training,
    prepare_image,
    user_message,
)

ROLES = {"human": "user", "gpt": "assistant"}


def record_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A LLaVA-layout record's stored conversation as chat messages."""
    return conversation_messages(record.get("conversations", []), record.get("id"))


def conversation_messages(turns: list[dict[str, Any]], sample_id: Any) -> list[dict[str, Any]]:
    """LLaVA-layout turns as chat messages.

    The layout's ``<image>`` placeholder becomes an image part of the user message; the
    processor's chat template then writes the model family's own image token(s) there.
    """
    messages = []
    for k, turn in enumerate(turns):
        role = ROLES.get(turn.get("from"))
        if role is None:
            raise DatasetError(
                f"record {sample_id!r}: turn {k} has unknown 'from' {turn.get('from')!r}"
            )
        text = str(turn.get("value", ""))
        if role == "user":
            messages.append(user_message(*split_image_placeholder(text)))
        else:
            messages.append(assistant_message(text))
    if not messages or messages[0]["role"] != "user":
        raise DatasetError(f"record {sample_id!r}: a conversation must start with a human turn")
    return messages


def record_image(record: dict[str, Any], image_folder: Path) -> Any:
    """The RGB image of a record, with its augmentation applied."""
    image = read_rgb(image_folder / record["image"])
    aug = record.get("augmentation")
    return warp_image(image, Augmentation.from_dict(aug)) if aug else image


def _torch_dataset_base() -> type:
    return require("torch", "training").utils.data.Dataset


class ConversationDataset(_torch_dataset_base()):
    """Training examples: (image, conversation) -> input ids, answer-only labels, pixels.

    With ``prompts``, a record that stores its ``grasp`` is asked and answered in words drawn
    anew for each epoch (:meth:`conversation`); other records keep their stored conversation.
    ``cache`` keeps each image's processed prompt (pixels and prompt tokens) in memory for
    the next use with the same instruction.
    """

    def __init__(
        self,
        records: list[dict[str, Any]],
        image_folder: Path,
        processor: Any,
        family: Family,
        max_length: int,
        cache: bool = False,
        prompts: PromptTemplates | None = None,
        seed: int = 0,
    ) -> None:
        self.records = records
        self.image_folder = Path(image_folder)
        self.processor = processor
        self.family = family
        self.max_length = max_length
        self.prompts = prompts
        self.seed = seed
        self.epoch = 0
        # index -> {first prompt text -> processor output}: each image is processed once per
        # distinct prompt (a few instructions), not once per use.
        self._encoded: dict[int, dict[str, Any]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.records)

    def set_epoch(self, epoch: int) -> None:
        """Draw the conversations of ``epoch`` from now on."""
        self.epoch = int(epoch)

    def conversation(self, index: int) -> list[dict[str, Any]]:
        """The LLaVA-layout turns of record ``index`` in the current epoch."""
        record = self.records[index]
        if self.prompts is None or "grasp" not in record:
            return record["conversations"]
        try:
            pose = GraspPose(*record["grasp"])
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"record {record.get('id')!r}: bad grasp {record['grasp']!r}: {exc}"
            ) from exc
        rng = prompt_rng(self.seed, str(record["id"]), self.epoch)
        return self.prompts.conversation(record.get("category"), pose, rng)

    def _image(self, index: int) -> Any:
        record = self.records[index]
        return prepare_image(record_image(record, self.image_folder), self.family, self.processor)

    def __getitem__(self, index: int) -> dict[str, Any]:
        messages = conversation_messages(self.conversation(index), self.records[index].get("id"))
        cache = None if self._encoded is None else self._encoded.setdefault(index, {})
        return encode_training(
            self.processor, messages, lambda: self._image(index), self.max_length, cache
        )
