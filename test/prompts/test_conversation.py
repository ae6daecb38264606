from __future__ import annotations

import random

import pytest

from rt_grasp_ros.errors import DatasetError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.prompts import parse_answer
from rt_grasp_ros.prompts.conversation import (
    IMAGE_PLACEHOLDER,
    PromptTemplates,
    prompt_rng,
    split_image_placeholder,
)
from rt_grasp_ros.prompts.templates import load_templates

POSE = GraspPose(0.25, 0.75, -0.5)


def templates(fmt="rt") -> PromptTemplates:
    return PromptTemplates.from_library(load_templates(), ["pen", None, "gizmo"], fmt)


def test_templates_cover_the_categories_and_survive_the_manifest():
    lib = load_templates()
    prompts = templates()
    assert prompts.instructions == lib.instructions
    assert prompts.reasoning["pen"] == lib.reasoning["pen"]
    assert all("gizmo" in t for t in prompts.reasoning["gizmo"])  # generic texts, named
    assert all("object" in t for t in prompts.reasoning[""])  # no category
    manifest = {"format": "rt", "decimals": 3, **prompts.to_manifest()}
    assert PromptTemplates.from_manifest(manifest, "m.json") == prompts
    assert templates("no-reasoning-a").reasoning == {}


def test_manifests_without_templates_and_malformed_ones():
    assert PromptTemplates.from_manifest({"format": "rt", "instructions": ["x"]}, "m") is None
    with pytest.raises(DatasetError, match=r"m\.json: malformed prompt templates"):
        PromptTemplates.from_manifest({"format": "rt", "reasoning": {"pen": ["a"]}}, "m.json")


@pytest.mark.parametrize("fmt", ["rt", "no-reasoning-a", "no-reasoning-b"])
def test_a_conversation_asks_with_the_image_and_answers_the_grasp(fmt):
    prompts = templates(fmt)
    human, gpt = prompts.conversation("pen", POSE, random.Random(0))
    instruction, has_image = split_image_placeholder(human["value"])
    assert human["from"] == "human" and has_image and human["value"].startswith(IMAGE_PLACEHOLDER)
    assert instruction in prompts.instructions
    parsed = parse_answer(gpt["value"])
    assert gpt["from"] == "gpt" and parsed.pose == GraspPose(0.25, 0.75, -0.5)
    if fmt == "rt":
        assert parsed.reasoning in prompts.reasoning["pen"]


def test_draws_are_deterministic_per_use_and_vary_between_uses():
    prompts = templates()

    def draw(seed, sample, use):
        return prompts.conversation("pen", POSE, prompt_rng(seed, sample, use))

    assert draw(0, "pcd0100", 3) == draw(0, "pcd0100", 3)
    uses = [draw(0, "pcd0100", k) for k in range(12)]
    assert len({c[0]["value"] for c in uses}) >= 5  # instructions
    assert len({c[1]["value"] for c in uses}) == 3  # every reasoning text of a pen
    assert [draw(1, "pcd0100", k) for k in range(12)] != uses
    assert [draw(0, "pcd0101", k) for k in range(12)] != uses


def test_a_category_without_texts_is_an_error():
    with pytest.raises(DatasetError, match="no reasoning texts for category 'mug'"):
        templates().conversation("mug", POSE, random.Random(0))
