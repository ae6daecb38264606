"""Training ManipLLM's tasks: the loss over every answer of a conversation, task selection,
``rt-grasp train`` on a collection folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.dataset import read_tasks
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.config import load_train_config
from rt_grasp_ros.vlm.dataset import ConversationDataset
from rt_grasp_ros.vlm.processing import IGNORE_INDEX
from rt_grasp_ros.vlm.train import open_training_data


def test_the_loss_covers_each_answer_of_the_chain_and_nothing_else(tiny_base, manip_folder):
    backbone = load_backbone(tiny_base, "float32", "cpu")
    tokenizer = backbone.processor.tokenizer
    (record, *_) = read_tasks(manip_folder, ("chain",))
    data = ConversationDataset([record], manip_folder, backbone.processor, backbone.family, 1024)
    example = data[0]
    ids, target = example["input_ids"], (example["labels"] != IGNORE_INDEX).numpy()
    # The labelled tokens are three runs, one per assistant turn, each its answer and the
    # end of its turn; the three questions (and the image) are never targets.
    edges = np.flatnonzero(np.diff(target.astype(int))) + 1
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=False)]
    if target[-1]:
        runs.append((edges[-1], len(target)))
    answers = [t["value"] for t in record["conversations"][1::2]]
    assert len(runs) == len(answers) == 3
    for (a, b), answer in zip(runs, answers, strict=True):
        assert tokenizer.decode(ids[a:b], skip_special_tokens=True).strip() == answer
        assert ids[b - 1].item() == tokenizer.eos_token_id
    prompts = tokenizer.decode(ids[~target], skip_special_tokens=True)
    for question in record["conversations"][0::2]:
        assert question["value"].split("\n")[-1] in prompts


def test_tasks_select_the_conversations_that_train(manip_folder, tiny_data):
    every = open_training_data(load_train_config("manip-tiny"), manip_folder)
    ft = open_training_data(load_train_config("manip-tiny-ft"), manip_folder)
    assert len(every.records) == 8 * (5 + 4) and len(ft.records) == 8
    assert {r["task"] for r in ft.records} == {"pose"} and ft.description["tasks"] == ["pose"]
    assert every.answer_format == "manipllm" and every.built is None
    assert every.default_instruction.startswith("Specify the contact point")
    # The tokenizer of a tiny model learns every task's words, whichever train.
    assert ft.corpus == every.corpus
    with pytest.raises(ConfigError, match=r"data\.tasks: selects ManipLLM tasks"):
        open_training_data(load_train_config("manip-tiny"), tiny_data.root)


@pytest.mark.parametrize("config", ["manip-tiny", "manip-tiny-qwen2vl"])
def test_rt_grasp_train_on_a_collection_folder(manip_folder, tmp_path, config):
    out = tmp_path / "ckpt"
    args = ["train", "--config", config, "--data", str(manip_folder), "--output", str(out)]
    sets = ["optim.max_steps=4", "optim.batch_size=4", "optim.micro_batch_size=4"]
    sets.append("logging_steps=2")
    overrides = [word for s in sets for word in ("--set", s)]
    assert main([*args, *overrides, "--no-progress"]) == 0
    meta = json.loads((out / "rt_grasp_checkpoint.json").read_text())
    assert meta["answer_format"] == "manipllm" and meta["strategy"] == "full"
    assert meta["trainable"] == ["projector", "language_model", "vision_tower"]
    assert meta["dataset"]["tasks"] == ["affordance", "category", "chain", "mask", "point", "pose"]
    assert meta["validation"] == []  # no rectangle metric for contact poses
    log = json.loads((out / "train_log.json").read_text())
    assert [h["step"] for h in log if "loss" in h]
