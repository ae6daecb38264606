"""Articulated object categories, generated procedurally from a seed, and their split.

Fifteen categories, prismatic and revolute, each with randomised sizes, placement, hinge side,
handles, colours and textures (:mod:`rt_grasp_ros.sim.furniture`,
:mod:`rt_grasp_ros.sim.appliances`). As in ManipLLM, a fixed split keeps some categories out of
training: the test categories are new objects whose mechanisms resemble trained ones (an oven
door and a dishwasher door) or are new (a flap hinged at its top).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim import appliances, furniture
from rt_grasp_ros.sim.mechanism import ArticulatedSpec

__all__ = [
    "ARTICULATED",
    "CATEGORIES",
    "TEST_CATEGORIES",
    "TRAIN_CATEGORIES",
    "ArticulatedCategory",
    "ArticulatedSpec",
    "make_articulated",
]


@dataclass(frozen=True)
class ArticulatedCategory:
    """A category: its generator, split, joint type and a readable name."""

    name: str
    make: Callable[[np.random.Generator], ArticulatedSpec]
    split: str
    joint_type: str
    display: str

    @property
    def part_type(self) -> str:
        """``prismatic`` or ``revolute``."""
        return "prismatic" if self.joint_type == "slide" else "revolute"


def _category(
    name: str, make: Callable, split: str, joint: str, display: str
) -> ArticulatedCategory:
    return ArticulatedCategory(name, make, split, joint, display)


CATEGORIES: dict[str, ArticulatedCategory] = {
    c.name: c
    for c in (
        _category("drawer", furniture.make_drawer, "train", "slide", "cabinet drawer"),
        _category("door", furniture.make_door, "train", "hinge", "cabinet door"),
        _category("lid", furniture.make_lid, "train", "hinge", "box lid"),
        _category("microwave", appliances.make_microwave, "train", "hinge", "microwave"),
        _category("oven", appliances.make_oven, "train", "hinge", "oven"),
        _category("refrigerator", appliances.make_refrigerator, "train", "hinge", "refrigerator"),
        _category("laptop", appliances.make_laptop, "train", "hinge", "laptop"),
        _category("trash_can", furniture.make_trash_can, "train", "hinge", "trash can"),
        _category("sliding_door", furniture.make_sliding_door, "train", "slide", "sliding door"),
        _category("faucet", appliances.make_faucet, "train", "hinge", "faucet"),
        _category("dishwasher", appliances.make_dishwasher, "test", "hinge", "dishwasher"),
        _category("safe", furniture.make_safe, "test", "hinge", "safe"),
        _category("toilet", furniture.make_toilet, "test", "hinge", "toilet"),
        _category("storage_flap", furniture.make_storage_flap, "test", "hinge", "storage box"),
        _category(
            "sliding_window", furniture.make_sliding_window, "test", "slide", "sliding window"
        ),
    )
}
ARTICULATED = tuple(CATEGORIES)
TRAIN_CATEGORIES = tuple(c for c, v in CATEGORIES.items() if v.split == "train")
TEST_CATEGORIES = tuple(c for c, v in CATEGORIES.items() if v.split == "test")


def make_articulated(kind: str, rng: np.random.Generator) -> ArticulatedSpec:
    """Draw an articulated object of ``kind`` with random size, placement and materials."""
    if kind not in CATEGORIES:
        raise ConfigError(f"unknown articulated object {kind!r}; known: {', '.join(CATEGORIES)}")
    return CATEGORIES[kind].make(rng)
