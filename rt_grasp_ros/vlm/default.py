"""The shipped models: tiny LLaVAs trained on simulator data, shipped in the package.

Two names select them anywhere a checkpoint path is accepted:

- ``default``, the grasp model (``models/sim-default``): ``rt-grasp predict``, ``rt-grasp sim
  trials --source model``, ``make demo`` and the ROS planner use it when no model is named;
  ``rt-grasp model reproduce`` rebuilds it from scratch;
- ``manip-default``, ManipLLM's contact model (``models/manip-default``): ``rt-grasp manip
  evaluate --policy default`` uses it; ``rt-grasp manip reproduce`` rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from rt_grasp_ros.errors import RtGraspError


@dataclass(frozen=True)
class ShippedModel:
    """A model shipped in the package: its name, folder, training config and how to rebuild it."""

    name: str
    folder: str
    config: str
    reproduce: str


DEFAULT_MODEL = "default"
DEFAULT_CONFIG = "sim-default"  # rt_grasp_ros/vlm/configs/sim-default.yaml
SHIPPED_DIR = "models/sim-default"
MANIP_DEFAULT_MODEL = "manip-default"
MANIP_DEFAULT_CONFIG = "manip-default"  # rt_grasp_ros/vlm/configs/manip-default.yaml

SHIPPED_MODELS = {
    m.name: m
    for m in (
        ShippedModel(
            DEFAULT_MODEL,
            SHIPPED_DIR,
            DEFAULT_CONFIG,
            "rt-grasp model reproduce --out runs/default-model --install",
        ),
        ShippedModel(
            MANIP_DEFAULT_MODEL,
            "models/manip-default",
            MANIP_DEFAULT_CONFIG,
            "rt-grasp manip reproduce --out runs/manip-default --install",
        ),
    )
}


def default_model_dir(name: str = DEFAULT_MODEL) -> Path:
    """The folder of the shipped model ``name`` inside the installed package."""
    return Path(str(files("rt_grasp_ros").joinpath(SHIPPED_MODELS[name].folder)))


def resolve_model(model: str | Path) -> str:
    """A checkpoint path or hub id; a shipped model's name becomes its folder.

    Raises:
        RtGraspError: a shipped model was asked for but the package does not hold it.
    """
    name = str(model)
    if name not in SHIPPED_MODELS:
        return name
    path = default_model_dir(name)
    if not (path / "rt_grasp_checkpoint.json").exists():
        raise RtGraspError(
            f"the shipped model {name!r} is missing from the package ({path}); rebuild it "
            f"with `{SHIPPED_MODELS[name].reproduce}`"
        )
    return str(path)
