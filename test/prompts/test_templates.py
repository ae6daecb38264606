from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.prompts.templates import load_templates

SIM_AND_ARTICULATED = [
    "box",
    "can",
    "ball",
    "mug",
    "bottle",
    "bowl",
    "banana",
    "screwdriver",
    "pen",
    "toy block",
    "scissors",
    "plate",
    "drawer",
    "door",
    "lid",
]


def test_shipped_templates_cover_enough_categories():
    lib = load_templates()
    assert len(lib.reasoning) >= 74
    assert all(len(t) >= 3 for t in lib.reasoning.values())
    assert len(set(lib.instructions)) >= 10
    for name in SIM_AND_ARTICULATED:
        assert lib.canonical(name) == name


def test_templates_are_distinct_and_mention_a_strategy():
    lib = load_templates()
    texts = [t for ts in lib.reasoning.values() for t in ts]
    assert len(texts) == len(set(texts))
    for category, ts in lib.reasoning.items():
        for t in ts:
            assert t.count(".") >= 2, f"{category}: {t!r} should describe the shape and a strategy"
            assert any(
                w in t.lower() for w in ("grasp", "gripper", "fingers", "hold", "contact", "pinch")
            )


def test_aliases_and_normalisation():
    lib = load_templates()
    assert lib.canonical("Cell_Phone ") == "mobile phone"
    assert lib.canonical("unknown thing") is None


def test_unknown_category_uses_generic_template_and_logs_once(caplog):
    lib = load_templates()
    rng = random.Random(0)
    with caplog.at_level(logging.WARNING, logger="rt_grasp_ros.prompts.templates"):
        first = lib.reasoning_for("gizmo-x", rng)
        second = lib.reasoning_for("Gizmo_X", rng)
    assert "gizmo-x" in first and "gizmo x" in second
    assert first in [t.format(category="gizmo-x") for t in lib.generic]
    assert sum("gizmo-x" in r.getMessage() for r in caplog.records) == 1


def test_each_library_warns_on_its_own(caplog):
    # Whatever used the shipped templates before (another test, another build), a new
    # library still says once that a category has no templates.
    load_templates().reasoning_for("gizmo-y", random.Random(0))
    lib = load_templates()
    assert lib is not load_templates()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rt_grasp_ros.prompts.templates"):
        lib.reasoning_for("gizmo-y", random.Random(0))
        lib.reasoning_for("gizmo-y", random.Random(1))
    assert sum("gizmo-y" in r.getMessage() for r in caplog.records) == 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "version: 1\ngeneric: [a]\ncategories:\n  mug:\n    templates: [ok, '']\n",
            "categories.mug.templates[1]",
        ),
        ("version: 1\ngeneric: [a]\ncategories:\n  Mug:\n    templates: [ok]\n", "categories.Mug"),
        (
            "version: 1\ngeneric: ['{name} x']\ncategories:\n  mug:\n    templates: [ok]\n",
            "generic[0]",
        ),
        ("version: 2\ngeneric: [a]\ncategories: {}\n", "version"),
        ("version: 1\ngeneric: [a]\ncategories:\n  mug:\n    templats: [ok]\n", "categories.mug"),
        (
            "version: 1\ngeneric: [a]\ncategories:\n  mug:\n"
            "    templates: [ok]\n    aliases: [mug]\n",
            "aliases",
        ),
    ],
)
def test_malformed_template_file_names_the_entry(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_templates(reasoning_path=path)
    assert str(path) in str(info.value) and where in str(info.value)
