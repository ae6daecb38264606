"""Training samples are asked and answered in words drawn anew each epoch."""

from __future__ import annotations

from collections import defaultdict

import pytest

from rt_grasp_ros.prompts import parse_answer
from rt_grasp_ros.prompts.conversation import PromptTemplates, split_image_placeholder
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.dataset import ConversationDataset, record_messages
from rt_grasp_ros.vlm.processing import IGNORE_INDEX


@pytest.fixture
def backbone(tiny_base):
    return load_backbone(tiny_base, "float32", "cpu")


def training_set(tiny_data, backbone, seed=0, prompts=True, records=None):
    return ConversationDataset(
        records or tiny_data.records(0, "train"),
        tiny_data.image_folder,
        backbone.processor,
        backbone.family,
        512,
        cache=True,
        prompts=PromptTemplates.from_manifest(tiny_data.manifest, "m") if prompts else None,
        seed=seed,
    )


def draws(dataset, epochs):
    out = []
    for epoch in epochs:
        dataset.set_epoch(epoch)
        out.append([dataset.conversation(i) for i in range(len(dataset))])
    return out


def test_instruction_and_reasoning_are_drawn_anew_each_epoch(tiny_data, backbone):
    dataset = training_set(tiny_data, backbone)
    epochs = draws(dataset, range(12))
    samples_per_instruction = defaultdict(set)
    for k, record in enumerate(dataset.records):
        turns = [epoch[k] for epoch in epochs]
        instructions = {split_image_placeholder(t[0]["value"])[0] for t in turns}
        answers = [parse_answer(t[1]["value"]) for t in turns]
        assert len(instructions) >= 5, record["id"]
        assert len({a.reasoning for a in answers}) >= 2, record["id"]
        for a in answers:  # the answer is always this image's grasp
            assert [a.pose.x, a.pose.y, a.pose.theta] == pytest.approx(record["grasp"], abs=5e-4)
        for text in instructions:
            samples_per_instruction[text].add(record["id"])
    # No instruction singles out one image.
    assert all(len(ids) > 1 for ids in samples_per_instruction.values())


def test_draws_repeat_for_the_same_seed_and_epoch_only(tiny_data, backbone):
    first = draws(training_set(tiny_data, backbone), [0, 1])
    assert draws(training_set(tiny_data, backbone), [0, 1]) == first
    assert first[0] != first[1]
    assert draws(training_set(tiny_data, backbone, seed=1), [0, 1]) != first


def test_evaluation_and_old_layouts_keep_the_stored_conversation(tiny_data, backbone):
    records = tiny_data.records(0, "train")
    fixed = training_set(tiny_data, backbone, prompts=False)
    old_layout = training_set(
        tiny_data,
        backbone,
        records=[{k: v for k, v in r.items() if k != "grasp"} for r in records],
    )
    for dataset in (fixed, old_layout):
        for epoch in draws(dataset, [0, 5]):
            assert epoch == [r["conversations"] for r in records]
    # Validation and prediction ask with the record's stored instruction.
    assert (
        record_messages(records[0])[0]["content"][-1]["text"]
        == split_image_placeholder(records[0]["conversations"][0]["value"])[0]
    )


def test_the_labels_are_this_epochs_answer(tiny_data, backbone):
    dataset = training_set(tiny_data, backbone)
    tokenizer = backbone.processor.tokenizer
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        example = dataset[2]
        target = example["labels"] != IGNORE_INDEX
        answer = tokenizer.decode(example["input_ids"][target], skip_special_tokens=True)
        assert answer.strip() == dataset.conversation(2)[1]["value"]


def test_the_cache_keeps_one_copy_of_an_image_whatever_it_is_asked(tiny_data, backbone):
    dataset = training_set(tiny_data, backbone)
    pixels, instructions = [], set()
    for epoch in range(6):
        dataset.set_epoch(epoch)
        instructions.add(split_image_placeholder(dataset.conversation(0)[0]["value"])[0])
        pixels.append(dataset[0]["pixel_values"])
    assert len(instructions) > 1 and len(dataset._encoded[0]) == len(instructions)
    # Every prompt's example shares the first one's pixel storage.
    assert len({p.untyped_storage().data_ptr() for p in pixels}) == 1
