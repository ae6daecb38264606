"""The repository is one ROS 2 package and one pip package; checked with the real tools."""

from __future__ import annotations

import ast
import shutil
import subprocess
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
