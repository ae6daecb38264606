"""Built-dataset records as model inputs (images rendered on the fly, answer-only labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rt_grasp_ros.data.augment import Augmentation, warp_image
from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.conversation import split_image_placeholder
from rt_grasp_ros.vlm.families import Family
from rt_grasp_ros.vlm.processing import (
    assistant_message,
    encode_training,
    prepare_image,
    user_message,
)

ROLES = {"human": "user", "gpt": "assistant"}


def record_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A LLaVA-layout record's conversation as chat messages.

    The layout's ``<image>`` placeholder becomes an image part of the user message; the
    processor's chat template then writes the model family's own image token(s) there.
    """
    messages = []
    for k, turn in enumerate(record.get("conversations", [])):
        role = ROLES.get(turn.get("from"))
        if role is None:
            raise DatasetError(
                f"record {record.get('id')!r}: turn {k} has unknown 'from' {turn.get('from')!r}"
            )
        text = str(turn.get("value", ""))
        if role == "user":
            messages.append(user_message(*split_image_placeholder(text)))
        else:
            messages.append(assistant_message(text))
    if not messages or messages[0]["role"] != "user":
        raise DatasetError(
            f"record {record.get('id')!r}: a conversation must start with a human turn"
        )
    return messages


def record_image(record: dict[str, Any], image_folder: Path) -> Any:
    """The RGB image of a record, with its augmentation applied."""
    image = read_rgb(image_folder / record["image"])
    aug = record.get("augmentation")
    return warp_image(image, Augmentation.from_dict(aug)) if aug else image


def _torch_dataset_base() -> type:
    return require("torch", "training").utils.data.Dataset


class ConversationDataset(_torch_dataset_base()):
    """Training examples: (image, conversation) -> input ids, answer-only labels, pixels."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        image_folder: Path,
        processor: Any,
        family: Family,
        max_length: int,
        cache: bool = False,
    ) -> None:
        self.records = records
        self.image_folder = Path(image_folder)
        self.processor = processor
        self.family = family
        self.max_length = max_length
        self._cache: dict[int, dict[str, Any]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        record = self.records[index]
        image = prepare_image(record_image(record, self.image_folder), self.family, self.processor)
        example = encode_training(self.processor, record_messages(record), image, self.max_length)
        if self._cache is not None:
            self._cache[index] = example
        return example
