"""The shipped contact model ``manip-default``: found by name, small, and it answers a contact
pose through the chain of thought on a scene it never saw."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rt_grasp_ros.vlm.default import MANIP_DEFAULT_MODEL, default_model_dir, resolve_model

SHIPPED = default_model_dir(MANIP_DEFAULT_MODEL)
needs_shipped = pytest.mark.skipif(
    not (SHIPPED / "rt_grasp_checkpoint.json").exists(),
    reason="manip-default is not in the package (rt-grasp manip reproduce --install)",
)


@needs_shipped
def test_the_shipped_contact_model_is_small_and_says_how_it_was_made():
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size <= 20 * 2**20, f"{size / 2**20:.1f} MB"
    recipe = json.loads((SHIPPED / "recipe.json").read_text())
    assert recipe["model"] == MANIP_DEFAULT_MODEL and recipe["steps"] >= 1
    assert recipe["recipe"]["seed"] + recipe["recipe"]["attempts"] <= 1_000_000
    assert resolve_model(MANIP_DEFAULT_MODEL) == str(SHIPPED)


@needs_shipped
@pytest.mark.slow
def test_the_shipped_contact_model_answers_a_contact_on_an_unseen_scene():
    pytest.importorskip("mujoco")
    pytest.importorskip("torch")
    from rt_grasp_ros.manip.policies import ModelPolicy, make_policy
    from rt_grasp_ros.manip.scene import manip_scene
    from rt_grasp_ros.manip.tasks import load_task_formats
    from rt_grasp_ros.sim.world import World

    question = load_task_formats().pose.questions[0]
    with World(manip_scene(3_000_000, "microwave")) as world:  # far from every seed used
        frame = world.render(segmentation=True)
        policy = make_policy("default")(world, np.random.default_rng(0))
        assert isinstance(policy, ModelPolicy)
        contact = policy(frame, question)
    h, w = frame.depth.shape
    assert 0 <= contact.x <= w and 0 <= contact.y <= h
    assert abs(np.linalg.norm(contact.up) - 1) < 0.05
    answer = policy.last
    assert answer.cot and answer.category is not None  # the chain named a category
    assert [t.kind for t in answer.turns] == ["category", "reasoning", "pose"]
