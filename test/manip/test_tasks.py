from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.contact import ContactPose, parse_contact
from rt_grasp_ros.manip.tasks import (
    TaskSample,
    _packaged,
    affordance_question,
    build_conversations,
    chain_of_thought,
    load_task_formats,
    sample_affordance_points,
)
from rt_grasp_ros.prompts.conversation import IMAGE_PLACEHOLDER
from rt_grasp_ros.sim.articulated import ARTICULATED


def maps(h=60, w=80):
    """A door: affordance rising across the part (mask 2), a static body around it (1)."""
    mask = np.zeros((h, w), np.uint8)
    mask[10:50, 10:70] = 1
    mask[15:45, 20:60] = 2
    aff = np.zeros((h, w))
    aff[mask == 2] = np.tile(np.linspace(0, 1, 40), (30, 1)).ravel()
    return aff, mask


def sample(n=20):
    formats = load_task_formats()
    aff, mask = maps()
    pos, neg = sample_affordance_points(aff, mask, formats.affordance, np.random.default_rng(0))
    contact = ContactPose(55.0, 30.0, (0.1, 0.2, 0.97), (1.0, 0.0, 0.0))
    return formats, TaskSample("00000007", "samples/00000007/rgb.png", "door", contact, pos, neg)


def test_every_category_has_prompt_names():
    formats = load_task_formats()
    for name in ARTICULATED:
        assert set(formats.names_for(name)) == {"category", "object", "part", "action", "where"}
    with pytest.raises(ConfigError, match="no entry"):
        formats.names_for("spaceship")


def test_affordance_points_follow_the_thresholds():
    formats = load_task_formats()
    aff, mask = maps()
    pos, neg = sample_affordance_points(aff, mask, formats.affordance, np.random.default_rng(0))
    assert len(pos) == len(neg) == 20
    assert all(mask[y, x] == 2 and aff[y, x] > 0.8 for x, y in pos)  # (x, y) = (column, row)
    low_part = [(x, y) for x, y in neg if mask[y, x] == 2]
    assert all(aff[y, x] < 0.2 for x, y in low_part)
    assert len(low_part) == 10 and sum(mask[y, x] == 1 for x, y in neg) == 10


def test_the_four_tasks_in_llava_layout():
    formats, s = sample()
    records = build_conversations(s, formats, np.random.default_rng(0), chain=False)
    assert [r["task"] for r in records] == ["category", "affordance", "mask", "pose"]
    for r in records:
        human, gpt = r["conversations"]
        assert human["from"] == "human" and human["value"].startswith(IMAGE_PLACEHOLDER + "\n")
        assert gpt["from"] == "gpt" and r["image"] == s.image
    cat, aff, mask, pose = records
    assert cat["conversations"][1]["value"] == "The image features a cabinet sitting on a table."
    points = re.findall(r"\((\d+), (\d+)\)", aff["conversations"][0]["value"])
    answers = aff["conversations"][1]["value"].split(", ")
    assert len(points) == 40 and answers.count("yes") == 20 and answers.count("no") == 20
    truth = {(int(x), int(y)) for x, y in s.positives}
    assert all(
        (a == "yes") == ((int(x), int(y)) in truth)
        for (x, y), a in zip(points, answers, strict=True)
    )
    assert "[MASK]" in mask["conversations"][0]["value"]
    assert mask["conversations"][1]["value"] == pose["conversations"][1]["value"]
    back = parse_contact(pose["conversations"][1]["value"])
    assert (back.x, back.y) == (55, 30)
    assert np.dot(back.up, s.contact.up) > 0.999


def test_the_chain_of_thought_conversation_is_inference_with_its_answers():
    formats, s = sample()
    records = build_conversations(s, formats, np.random.default_rng(0), points=3)
    points = records[5:]
    records = records[:5]
    assert [r["task"] for r in records] == ["category", "affordance", "mask", "pose", "chain"]
    # One-point affordance questions: the first positives, then negatives, in the task's words.
    assert [r["conversations"][1]["value"] for r in points] == ["yes", "yes", "no"]
    x, y = s.positives[0]
    assert points[0]["conversations"][0]["value"] == (
        IMAGE_PLACEHOLDER + "\n" + formats.affordance.questions[0].format(points=f"({x}, {y})")
    )
    assert [r["task"] for r in points] == ["point"] * 3 and points[2]["id"].endswith("-point2")
    cat, *_, pose, chain = records
    turns = chain["conversations"]
    assert [t["from"] for t in turns] == ["human", "gpt"] * 3
    # The prompts inference asks, in its order; only the first turn carries the image.
    assert [t["value"] for t in turns[::2]] == [
        IMAGE_PLACEHOLDER + "\n" + chain_of_thought(formats, s.category)[0],
        *chain_of_thought(formats, s.category)[1:],
    ]
    assert turns[1]["value"] == cat["conversations"][1]["value"]
    door = formats.names_for("door")
    reasoning = f"The door of the cabinet can be opened by pulling {door['where']}."
    assert turns[3]["value"] == reasoning
    assert turns[5]["value"] == pose["conversations"][1]["value"]
    assert chain["image"] == s.image and chain["id"].endswith("-chain")


def test_chain_of_thought_prompts():
    formats = load_task_formats()
    steps = chain_of_thought(formats, "oven")
    assert steps[0] == "What is the category of the object in the image?"
    assert "open the door of the oven" in steps[1]
    assert steps[2].startswith("Specify the contact point")


def _broken(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(_packaged("tasks.yaml").read_text())
    edit(data)
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "entry"),
    [
        (lambda d: d["pose"].update(answer="at {x}, {y}, {tilt}"), "pose.answer"),
        (lambda d: d["affordance"].update(n=0), "affordance.n"),
        (lambda d: d["affordance"].update(low=0.9), "affordance.low"),
        (lambda d: d["mask"].pop("token"), "mask"),
        (lambda d: d.update(extra=1), "top level"),
        (lambda d: d["category"].update(questions=[]), "category.questions"),
    ],
)
def test_invalid_formats_name_file_and_entry(tmp_path, edit, entry):
    path = _broken(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        load_task_formats(path)
    assert str(path) in str(err.value) and f": {entry}" in str(err.value)


def test_invalid_category_names_are_reported(tmp_path):
    data = yaml.safe_load(_packaged("categories.yaml").read_text())
    del data["categories"]["oven"]["part"]
    path = tmp_path / "categories.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError, match=r"categories.yaml: categories.oven: .*missing keys \['part'\]"
    ):
        load_task_formats(categories_path=path)


def test_an_affordance_question_without_a_category_asks_unless_it_names_one():
    from dataclasses import replace

    formats = load_task_formats()
    asked = affordance_question(formats, "", [(3.4, 5.6)])
    assert asked == affordance_question(formats, "drawer", [(3.4, 5.6)])  # names no category
    assert asked.endswith("(3, 5)")
    question = ("Can {part} move at {points}?",)
    named = replace(formats, affordance=replace(formats.affordance, questions=question))
    assert affordance_question(named, "drawer", [(1, 2)]) == "Can drawer move at (1, 2)?"
    with pytest.raises(ConfigError, match=r"uses the category's name \{part\}"):
        affordance_question(named, "", [(1, 2)])
