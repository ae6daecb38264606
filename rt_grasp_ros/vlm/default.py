"""The default embedded model: a tiny LLaVA trained on simulator crops, shipped in the package.

``rt-grasp predict``, ``rt-grasp sim trials --source model``, ``make demo`` and the ROS planner
use it when no model is named; the name ``default`` selects it anywhere a checkpoint path is
accepted. ``rt-grasp model reproduce`` rebuilds it from scratch (data, training, evaluation).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from rt_grasp_ros.errors import RtGraspError

DEFAULT_MODEL = "default"
DEFAULT_CONFIG = "sim-default"  # rt_grasp_ros/vlm/configs/sim-default.yaml
SHIPPED_DIR = "models/sim-default"


def default_model_dir() -> Path:
    """The shipped checkpoint's folder inside the installed package."""
    return Path(str(files("rt_grasp_ros").joinpath(SHIPPED_DIR)))


def resolve_model(model: str | Path) -> str:
    """A checkpoint path or hub id; ``default`` becomes the shipped checkpoint.

    Raises:
        RtGraspError: ``default`` was asked for but the package holds no checkpoint.
    """
    if str(model) != DEFAULT_MODEL:
        return str(model)
    path = default_model_dir()
    if not (path / "rt_grasp_checkpoint.json").exists():
        raise RtGraspError(
            f"the default model is missing from the package ({path}); rebuild it with "
            "`rt-grasp model reproduce --out runs/default-model --install`"
        )
    return str(path)
