"""The repository is one ROS 2 package and one pip package; checked with the real tools."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"


def test_package_xml_is_valid_format_3_ament_cmake():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    pkg = catkin_pkg.parse_package(ROOT / "package.xml")
    pkg.validate()
    assert pkg.name == "rt_grasp" and pkg.package_format == 3
    assert [e.content for e in pkg.exports if e.tagname == "build_type"] == ["ament_cmake"]
    assert {d.name for d in pkg.buildtool_depends} >= {"ament_cmake", "ament_cmake_python"}
    assert pkg.licenses and pkg.maintainers


def test_package_xml_passes_ament_xmllint():
    exe = shutil.which("ament_xmllint")
    if exe is None:
        pytest.skip("ament_xmllint is installed by `make` (apt ament-lint)")
    result = subprocess.run([exe, str(ROOT / "package.xml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyproject_declares_the_cli_and_pins_torch():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["rt-grasp"] == "rt_grasp_ros.cli.main:main"
    assert "torch==2.13.0" in meta["optional-dependencies"]["vlm"]
    assert any(d.startswith("mujoco==4.0") for d in meta["optional-dependencies"]["sim"])


def test_ament_cmake_build_installs_the_python_package(tmp_path):
    if not Path("/usr/share/ament_cmake_python").exists() or shutil.which("cmake") is None:
        pytest.skip("ament_cmake_python is installed by `make` (apt ament-cmake-python)")
    build, prefix = tmp_path / "build", tmp_path / "install"
    configure = subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT),
            "-B",
            str(build),
            f"-DCMAKE_INSTALL_PREFIX={prefix}",
            "-DBUILD_TESTING=OFF",
            f"-DPython3_EXECUTABLE={SYSTEM_PYTHON}",
        ],
        capture_output=True,
        text=True,
    )
    assert configure.returncode == 0, configure.stdout[-2000:] + configure.stderr[-2000:]
    install = subprocess.run(
        ["cmake", "--build", str(build), "--target", "install"], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    site = next(prefix.glob("lib/python3*/*-packages"))
    assert (site / "rt_grasp_ros" / "grasp" / "metric.py").exists()
    assert (site / "rt_grasp_ros" / "prompts" / "data" / "reasoning_templates.yaml").exists()
    assert (site / "rt_grasp_ros" / "vlm" / "configs" / "tiny.yaml").exists()
    assert (prefix / "share" / "rt_grasp" / "package.xml").exists()
    assert (prefix / "share" / "ament_index" / "resource_index" / "packages" / "rt_grasp").exists()
    for folder in ("launch", "config", "urdf"):
        has_files = (
            any(p.is_file() for p in (ROOT / folder).rglob("*"))
            if (ROOT / folder).exists()
            else False
        )
        assert (prefix / "share" / "rt_grasp" / folder).exists() == has_files


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_ros_folder_imports_ros_modules():
    ros_only = {
        "rclpy",
        "launch",
        "launch_ros",
        "moveit",
        "interactive_markers",
        "rosidl_runtime_py",
    }
    offenders = []
    for path in (ROOT / "rt_grasp_ros").rglob("*.py"):
        if "ros" in path.relative_to(ROOT / "rt_grasp_ros").parts[:1]:
            continue
        bad = imported_modules(path) & ros_only
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_missing_optional_dependency_says_what_to_install():
    from rt_grasp_ros.errors import MissingDependencyError
    from rt_grasp_ros.optional import require

    with pytest.raises(MissingDependencyError) as info:
        require("rclpy", "the grasp service node")
    message = str(info.value)
    assert "the grasp service node" in message and "ROS 2" in message and "setup.bash" in message
    with pytest.raises(MissingDependencyError, match="pip install pyrealsense2"):
        require("pyrealsense2", "the RealSense camera")
    assert require("numpy", "tests").__name__ == "numpy"


PIP = (sys.executable, "-m", "pip", "-q", "--disable-pip-version-check")
IGNORED_IN_COPY = shutil.ignore_patterns(
    ".git", ".venv", "build", "install", "log", "runs", "*.egg-info", "__pycache__", ".*_cache"
)
INSTALLED_CHECK = """
import json, sys
from pathlib import Path
import rt_grasp_ros
from rt_grasp_ros.pipeline.demo import CONFIG
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.vlm.config import load_train_config, resolve_train_config
from importlib import resources
config = load_train_config(CONFIG)
templates = resources.files("rt_grasp_ros.prompts") / "data"
json.dump({
    "package": rt_grasp_ros.__file__,
    "config": str(resolve_train_config(CONFIG)),
    "tiny_family": config.model.tiny.family,
    "templates": [str(templates / n) for n in ("instruction_templates.yaml",
                                               "reasoning_templates.yaml")],
    "instructions": len(load_templates().instructions),
}, sys.stdout)
"""


@pytest.mark.slow
def test_wheel_ships_training_configs_and_templates(tmp_path):
    pytest.importorskip("mujoco")  # the demo module (whose config is checked) needs it
    source, wheels, target = tmp_path / "src", tmp_path / "wheels", tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=IGNORED_IN_COPY)
    build = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = wheels.glob("rt_grasp-*.whl")
    install = subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout)
    for key in ("package", "config", *found["templates"]):
        path = Path(found.get(key, key))
        assert path.is_file() and path.is_relative_to(target), (key, path)
    assert Path(found["config"]) == target / "rt_grasp_ros" / "vlm" / "configs" / "tiny.yaml"
    assert found["tiny_family"] == "llava" and found["instructions"] >= 10
