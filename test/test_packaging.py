"""The repository is one ROS 2 package and one pip package; checked with the real tools."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_package_xml_is_valid_format_3_ament_cmake():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    pkg = catkin_pkg.parse_package(ROOT / "package.xml")
    pkg.validate()
    assert pkg.name == "rt_grasp" and pkg.package_format == 3
    assert [e.content for e in pkg.exports if e.tagname == "build_type"] == ["ament_cmake"]
    assert {d.name for d in pkg.buildtool_depends} >= {
        "ament_cmake",
        "ament_cmake_python",
        "rosidl_default_generators",
    }
    depends = {d.name for d in pkg.build_depends} & {d.name for d in pkg.exec_depends}
    assert depends >= {"geometry_msgs", "sensor_msgs", "std_msgs", "builtin_interfaces"}
    assert "rosidl_default_runtime" in {d.name for d in pkg.exec_depends}
    assert "rosidl_interface_packages" in {g.name for g in pkg.member_of_groups}
    assert pkg.licenses and pkg.maintainers


def test_package_xml_passes_ament_xmllint():
    exe = shutil.which("ament_xmllint")
    if exe is None:
        pytest.skip("ament_xmllint is installed by `make` (apt ament-lint)")
    result = subprocess.run([exe, str(ROOT / "package.xml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyproject_declares_the_cli_and_pins_torch():
    from packaging.requirements import Requirement

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["rt-grasp"] == "rt_grasp_ros.cli.main:main"
    # The vlm extra takes a range (a CUDA or NGC torch stays); the Makefile pins the CPU wheel.
    (torch,) = [
        Requirement(d) for d in meta["optional-dependencies"]["vlm"] if d.startswith("torch")
    ]
    assert torch.specifier.contains("2.13.0") and torch.specifier.contains("2.8.0a0", True)
    assert not torch.specifier.contains("3.0.0")  # an untested major version
    assert (
        "pip install -q --disable-pip-version-check torch==2.13.0"
        in (ROOT / "Makefile").read_text()
    )
    assert any(d.startswith("mujoco==4.0") for d in meta["optional-dependencies"]["sim"])


def venv_ros_prefix() -> Path:
    """This venv as the ROS prefix `make setup` installed rt_grasp into (ROS from PyPI)."""
    prefix = Path(sys.prefix)
    if not (prefix / "share" / "ament_cmake" / "cmake").exists():
        pytest.skip("ROS 2 from PyPI is not in this venv: `make setup` installs it")
    if not (prefix / "share" / "rt_grasp" / "package.xml").exists():
        pytest.skip("rt_grasp is not installed into this venv: run `make setup`")
    return prefix


def test_make_setup_installed_the_package_into_the_venv_prefix():
    prefix = venv_ros_prefix()
    site = next(prefix.glob("lib/python3*/site-packages"))
    assert (prefix / "share" / "ament_index" / "resource_index" / "packages" / "rt_grasp").exists()
    assert (site / "rt_grasp" / "msg" / "__init__.py").exists()  # the generated interfaces
    for kind, ext in (("msg", "msg"), ("srv", "srv"), ("action", "action")):
        for source in (ROOT / kind).glob(f"*.{ext}"):
            assert (prefix / "share" / "rt_grasp" / kind / source.name).exists(), source.name
    # RT_GRASP_INSTALL_PYTHON_PACKAGE=OFF: pip's editable rt_grasp_ros is the only one, and no
    # egg-info named like pip's distribution rt-grasp is left for pip to uninstall
    assert not (site / "rt_grasp_ros").exists()
    assert not list(site.glob("rt_grasp-*.egg-info"))
    import rt_grasp_ros

    assert Path(rt_grasp_ros.__file__).resolve() == (ROOT / "rt_grasp_ros" / "__init__.py")


def node_names() -> list[str]:
    cmake = (ROOT / "CMakeLists.txt").read_text()
    block = re.search(r"set\(RT_GRASP_NODES\s+([^)]*)\)", cmake)
    assert block, "CMakeLists.txt lists the nodes in RT_GRASP_NODES"
    return block.group(1).split()


def test_node_launchers_are_installed_for_ros2_run():
    prefix = venv_ros_prefix()
    names = node_names()
    assert set(names) >= {"sim", "camera", "grasp_planner", "grasp_executor"}
    for name in names:
        launcher = prefix / "lib" / "rt_grasp" / name
        assert launcher.exists() and os.access(launcher, os.X_OK), launcher
        text = launcher.read_text()
        assert text.startswith("#!/usr/bin/env python3\n")  # ROS convention (see the Makefile)
        assert f"from rt_grasp_ros.ros.{name} import main" in text
        compile(text, str(launcher), "exec")


@pytest.mark.slow
def test_cmake_configure_with_the_python_package_option_on(tmp_path):
    """A ROS install (colcon, RT_GRASP_INSTALL_PYTHON_PACKAGE=ON) installs rt_grasp_ros too."""
    prefix = venv_ros_prefix()
    python = prefix / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "_ROS_WHEELS_BOOTSTRAP_COMPLETE"}
    env.update(
        PATH=f"{prefix / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        AMENT_PREFIX_PATH=str(prefix),
        CMAKE_PREFIX_PATH=str(prefix),
    )
    build = tmp_path / "build"
    # Configure only (the Makefile builds the same CMakeLists.txt). The prefix is the venv: a
    # venv inside the source tree may not be named by exported include dirs otherwise.
    configure = subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT),
            "-B",
            str(build),
            f"-DCMAKE_INSTALL_PREFIX={prefix}",
            f"-DPython3_EXECUTABLE={python}",
            "-DBUILD_TESTING=OFF",
            "-DRT_GRASP_INSTALL_PYTHON_PACKAGE=ON",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    rules = (build / "cmake_install.cmake").read_text()
    assert "site-packages/rt_grasp_ros" in rules
    assert "_rt_grasp_egg_glob" not in rules
    for name in node_names():
        assert (build / "node_launchers" / name).exists()
    for folder in ("launch", "config", "urdf", "rviz"):
        has_files = (ROOT / folder).exists() and any(
            p.is_file() for p in (ROOT / folder).rglob("*")
        )
        installed = f'TYPE DIRECTORY FILES "{ROOT / folder}")' in rules
        assert installed == has_files, folder


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
        "rt_grasp",  # the generated interfaces
        "launch",
        "launch_ros",
        "moveit",
        "interactive_markers",
        "rosidl_runtime_py",
        "ament_index_python",
        "builtin_interfaces",
        "std_msgs",
        "std_srvs",
        "geometry_msgs",
        "sensor_msgs",
        "visualization_msgs",
        "action_msgs",
    }
    offenders = []
    for path in (ROOT / "rt_grasp_ros").rglob("*.py"):
        if "ros" in path.relative_to(ROOT / "rt_grasp_ros").parts[:1]:
            continue
        bad = imported_modules(path) & ros_only
        if bad:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_missing_optional_dependency_says_what_to_install(monkeypatch):
    from rt_grasp_ros.errors import MissingDependencyError
    from rt_grasp_ros.optional import require

    monkeypatch.setitem(sys.modules, "rclpy", None)  # as if ROS 2 were missing
    with pytest.raises(MissingDependencyError) as info:
        require("rclpy", "the grasp service node")
    message = str(info.value)
    assert "the grasp service node" in message and "ROS 2" in message and "setup.bash" in message
    assert "make setup" in message
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
from rt_grasp_ros.vlm.default import DEFAULT_CONFIG as CONFIG, default_model_dir
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
    "default_model_dir": str(default_model_dir()),
}, sys.stdout)
"""


@pytest.mark.slow
def test_wheel_ships_training_configs_and_templates(tmp_path):
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
    configs = target / "rt_grasp_ros" / "vlm" / "configs"
    assert Path(found["config"]) == configs / "sim-default.yaml"
    shipped = ROOT / "rt_grasp_ros" / "models" / "sim-default"
    installed = Path(found["default_model_dir"])
    assert installed == target / "rt_grasp_ros" / "models" / "sim-default"
    # Every file of the shipped default model travels in the wheel (none while it is not built).
    expected = sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
    got = sorted(p.relative_to(installed) for p in installed.rglob("*") if p.is_file())
    assert got == expected
    assert found["tiny_family"] == "llava" and found["instructions"] >= 10
