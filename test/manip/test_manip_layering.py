"""ManipLLM's core (contact pose, AIA, tasks, dataset) is ROS-free and simulator-free."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MANIP = Path(__file__).resolve().parents[2] / "rt_grasp_ros" / "manip"
CORE = ("contact", "aia", "tasks", "dataset")
FORBIDDEN = ("rt_grasp_ros.sim", "rt_grasp_ros.ros", "rt_grasp_ros.vlm", "mujoco", "rclpy")


@pytest.mark.parametrize("module", CORE)
def test_the_core_never_imports_the_simulator_or_ros(module):
    tree = ast.parse((MANIP / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    assert not [n for n in names if n.startswith(FORBIDDEN)]


def test_the_core_imports_without_mujoco():
    code = (
        "import sys\n"
        + "".join(f"import rt_grasp_ros.manip.{m}\n" for m in CORE)
        + "heavy = [m for m in ('mujoco', 'rclpy', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_prediction_types_and_answer_specs_import_without_torch():
    # The ROS conversions build messages from them on machines without the model's packages.
    modules = (
        "rt_grasp_ros.prompts.spec",
        "rt_grasp_ros.vlm.prediction",
        "rt_grasp_ros.manip.answers",
        "rt_grasp_ros.manip.prediction",
        "rt_grasp_ros.manip.predictor",
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "heavy = [m for m in ('torch', 'transformers', 'mujoco', 'rclpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
