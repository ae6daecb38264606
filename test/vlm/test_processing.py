from __future__ import annotations

import numpy as np
import torch

from rt_grasp_ros.prompts.conversation import IMAGE_PLACEHOLDER
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.dataset import record_image, record_messages
from rt_grasp_ros.vlm.processing import (
    IGNORE_INDEX,
    assistant_message,
    collate,
    encode_training,
    prepare_image,
    render,
    user_message,
)


def test_loss_covers_exactly_the_answer_tokens(tiny_base, tiny_data):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    record = tiny_data.records(0, "train")[0]
    image = prepare_image(
        record_image(record, tiny_data.image_folder), backbone.family, backbone.processor
    )
    example = encode_training(backbone.processor, record_messages(record), image, 1024)
    ids, labels = example["input_ids"], example["labels"]
    tokenizer = backbone.processor.tokenizer
    answer = record["conversations"][1]["value"]
    target = labels != IGNORE_INDEX
    # The labelled tokens decode to the answer (and the end-of-turn marker), nothing else.
    assert tokenizer.decode(ids[target], skip_special_tokens=True).strip() == answer
    assert ids[target][-1].item() == tokenizer.eos_token_id
    # Image tokens and the instruction are masked; the target is one contiguous span.
    image_token = (
        backbone.model.config.image_token_id
        if hasattr(backbone.model.config, "image_token_id")
        else None
    )
    image_token = (
        image_token if image_token is not None else backbone.model.config.image_token_index
    )
    assert (ids == image_token).sum() > 0 and not target[ids == image_token].any()
    first, last = int(target.nonzero()[0]), int(target.nonzero()[-1])
    assert (
        target[first : last + 1].all()
        and not target[:first].any()
        and not target[last + 1 :].any()
    )
    assert torch.equal(labels[target], ids[target])


def test_every_assistant_turn_is_a_target_in_a_refinement_conversation(tiny_base, tiny_data):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    record = tiny_data.records(0, "train")[1]
    image = prepare_image(
        record_image(record, tiny_data.image_folder), backbone.family, backbone.processor
    )
    messages = [
        user_message("Where should I grasp the pen?", True),
        assistant_message("Across the middle. [0.500, 0.470], 0.469"),
        user_message("Rotate the gripper by 90 degrees.", False),
        assistant_message("Rotated. [0.500, 0.470], -1.102"),
    ]
    example = encode_training(backbone.processor, messages, image, 1024)
    tokenizer = backbone.processor.tokenizer
    target = example["labels"] != IGNORE_INDEX
    text = tokenizer.decode(example["input_ids"][target], skip_special_tokens=True)
    assert "[0.500, 0.470], 0.469" in text and "[0.500, 0.470], -1.102" in text
    assert "Rotate the gripper" not in text and "Where should" not in text
    # Two separate answer spans.
    edges = np.flatnonzero(np.diff(target.int().numpy()))
    assert len(edges) >= 3


def test_collate_pads_right_with_ignored_labels(tiny_base, tiny_data):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    examples = []
    for record in tiny_data.records(0, "train")[:3]:
        image = prepare_image(
            record_image(record, tiny_data.image_folder), backbone.family, backbone.processor
        )
        examples.append(encode_training(backbone.processor, record_messages(record), image, 1024))
    pad = backbone.processor.tokenizer.pad_token_id
    batch = collate(examples, pad)
    longest = max(len(e["input_ids"]) for e in examples)
    assert batch["input_ids"].shape == (3, longest)
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        assert (batch["input_ids"][row, n:] == pad).all() and (
            batch["labels"][row, n:] == IGNORE_INDEX
        ).all()
        assert (batch["attention_mask"][row, :n] == 1).all() and (
            batch["attention_mask"][row, n:] == 0
        ).all()
    out = backbone.model(**batch)
    assert torch.isfinite(out.loss)


def test_images_are_padded_to_squares_where_the_family_crops(tiny_base):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    image = np.zeros((48, 64, 3), np.uint8)
    prepared = prepare_image(image, backbone.family, backbone.processor)
    assert prepared.size == ((64, 64) if backbone.family.square_images else (64, 48))


def test_the_family_processor_writes_its_own_image_token(tiny_base, tiny_data):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    record = tiny_data.records(0, "train")[0]
    assert record["conversations"][0]["value"].startswith(IMAGE_PLACEHOLDER)
    messages = record_messages(record)
    assert [c["type"] for c in messages[0]["content"]] == ["image", "text"]
    assert IMAGE_PLACEHOLDER not in messages[0]["content"][1]["text"]
    text = render(backbone.processor, messages, add_generation_prompt=False)
    token = backbone.processor.image_token
    assert text.count(token) == 1
    if token != IMAGE_PLACEHOLDER:  # Qwen2-VL: the layout's placeholder never reaches the model
        assert IMAGE_PLACEHOLDER not in text


def test_training_tokens_are_those_of_the_whole_conversation(tiny_base, tiny_data):
    # On its own, Llama's SentencePiece tokenizer prepends "▁" to a text: answers tokenised
    # apart started with an extra "▁" token that the whole string (what inference sees) lacks.
    backbone = load_backbone(tiny_base, "float32", "cpu")
    processor = backbone.processor
    image = prepare_image(np.zeros((64, 64, 3), np.uint8), backbone.family, processor)
    messages = [
        user_message("Where should I grasp the pen?", True),
        assistant_message("It is a pen. [0.500, 0.470], 0.469"),
        user_message("Rotate the gripper by 90 degrees.", False),
        assistant_message("Rotated. [0.500, 0.470], -1.102"),
    ]
    example = encode_training(processor, messages, image, 1024)
    full = render(processor, messages, add_generation_prompt=False)
    whole = processor(text=[full], images=[image], return_tensors="pt")["input_ids"][0]
    assert example["input_ids"].tolist() == whole.tolist()
    # The first answer starts as a model continues the prompt at inference.
    prompt = processor(
        text=[render(processor, messages[:1], add_generation_prompt=True)],
        images=[image],
        return_tensors="pt",
    )["input_ids"][0]
    target = (example["labels"] != IGNORE_INDEX).nonzero()[0].item()
    assert target == len(prompt)
    assert example["input_ids"][: len(prompt)].tolist() == prompt.tolist()
