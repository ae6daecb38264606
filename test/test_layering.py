"""Imports point one way: the grasp core and perception never reach for the simulator or ROS."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rt_grasp_ros"

# folder -> packages it must never import (at any level)
FORBIDDEN = {
    "grasp": (
        "rt_grasp_ros.sim",
        "rt_grasp_ros.perception",
        "rt_grasp_ros.planning",
        "rt_grasp_ros.skills",
        "rt_grasp_ros.vlm",
        "rt_grasp_ros.ros",
    ),
    "perception": (
        "rt_grasp_ros.sim",
        "rt_grasp_ros.planning",
        "rt_grasp_ros.skills",
        "rt_grasp_ros.vlm",
        "rt_grasp_ros.ros",
    ),
    "planning": ("rt_grasp_ros.sim", "rt_grasp_ros.skills", "rt_grasp_ros.ros"),
    "skills": (
        "rt_grasp_ros.sim",
        "rt_grasp_ros.planning",
        "rt_grasp_ros.vlm",
        "rt_grasp_ros.ros",
    ),
    "sim": ("rt_grasp_ros.vlm", "rt_grasp_ros.pipeline", "rt_grasp_ros.ros", "rt_grasp_ros.cli"),
}


def imports_of(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_imports_point_one_way(folder):
    bad = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for name in imports_of(path)
        if name.startswith(FORBIDDEN[folder])
    ]
    assert not bad, bad


def test_the_core_modules_import_without_heavy_dependencies():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import rt_grasp_ros.perception, rt_grasp_ros.planning.plan, rt_grasp_ros.skills.grasp\n"
        "heavy = [m for m in ('torch', 'transformers', 'mujoco', 'rclpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
