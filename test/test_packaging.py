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
    monkeypatch.setitem(sys.modules, "pyrealsense2", None)  # as if it were not installed
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
    # Every file of the shipped models travels in the wheel (none while one is not built).
    for name in ("sim-default", "manip-default"):
        shipped, installed = ROOT / "rt_grasp_ros" / "models" / name, installed.parent / name
        expected = sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
        got = sorted(p.relative_to(installed) for p in installed.rglob("*") if p.is_file())
        assert got == expected, name
    assert found["tiny_family"] == "llava" and found["instructions"] >= 10


# --- package.xml declares what the code imports ---------------------------------------------

# Every third-party module that rt_grasp_ros/** and launch/** import (statements, require() and
# importlib.import_module() of a literal name) -> its rosdep key, which package.xml must declare
# (exec_depend or depend) so that `rosdep install --from-paths src` installs it on the colcon
# path. Keys checked against ros/rosdistro (rosdep/python.yaml; jazzy/distribution.yaml).
ROSDEP_KEYS = {
    # ROS packages (the Python module is the package's name, except tf2_ros: tf2_ros_py)
    "rclpy": "rclpy",
    "rcl_interfaces": "rcl_interfaces",
    "rosgraph_msgs": "rosgraph_msgs",
    "trajectory_msgs": "trajectory_msgs",
    "builtin_interfaces": "builtin_interfaces",
    "std_msgs": "std_msgs",
    "std_srvs": "std_srvs",
    "geometry_msgs": "geometry_msgs",
    "sensor_msgs": "sensor_msgs",
    "visualization_msgs": "visualization_msgs",
    "action_msgs": "action_msgs",
    "ament_index_python": "ament_index_python",
    "launch": "launch",
    "launch_ros": "launch_ros",
    "tf2_ros": "tf2_ros_py",
    "control_msgs": "control_msgs",
    # the refinement panel's rqt plugin (rt_grasp_ros/panel/rqt_plugin.py, panel/qt.py)
    "rqt_gui_py": "rqt_gui_py",
    "python_qt_binding": "python_qt_binding",
    "interactive_markers": "interactive_markers",  # grasp_refinement, where installed
    "shape_msgs": "shape_msgs",  # the MoveIt backend's collision boxes (common_interfaces)
    # the core's third-party imports
    "numpy": "python3-numpy",
    "scipy": "python3-scipy",
    "cv2": "python3-opencv",
    "shapely": "python3-shapely",
    "yaml": "python3-yaml",
    "PIL": "python3-pil",
    "tqdm": "python3-tqdm",
    "rich": "python3-rich",
    "matplotlib": "python3-matplotlib",
}
# Modules that come from pip instead (module -> pyproject extra that pins them; None: the user
# installs it for an optional camera source, and require() says how).
PIP_ONLY = {
    "torch": "vlm",
    "sentencepiece": "vlm",
    "transformers": "vlm",
    "peft": "vlm",
    "accelerate": "vlm",
    "tokenizers": "vlm",
    "safetensors": "vlm",
    "regex": "vlm",
    "mujoco": "sim",
    "PySide6": "panel",  # standalone panel; inside rqt it uses python_qt_binding
    "pyrealsense2": "realsense",
    "pyk4a": None,
    "franky": "franka",  # the franka driver node (franky-control)
    "panda_py": "franka",  # the vacuum_gripper node (panda-python's libfranka.VacuumGripper)
}
# ROS packages imported only where installed, by the moveit backend (executor backend:=moveit
# checks first and names what to install) and by grasp.launch.py with executor:=moveit: not
# exec_depends, so a robot without MoveIt does not get it.
OPTIONAL_ROS = {"moveit", "moveit_msgs", "moveit_configs_utils"}
PIP_DISTRIBUTIONS = {
    "PIL": "pillow",
    "cv2": "opencv-python-headless",
    "yaml": "pyyaml",
    "PySide6": "PySide6-Essentials",
    "franky": "franky-control",
    "panda_py": "panda-python",
}
OWN_MODULES = {"rt_grasp_ros", "rt_grasp"}  # rt_grasp: this package's generated interfaces


def literal_imports(path: Path) -> set[str]:
    """Top-level modules `path` imports: import statements, require("x"), import_module("x")."""
    names = imported_modules(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("require", "import_module") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value.split(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in [*(ROOT / "rt_grasp_ros").rglob("*.py"), *(ROOT / "launch").rglob("*.py")]:
        for name in literal_imports(path):
            if name not in sys.stdlib_module_names and name not in OWN_MODULES:
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_import_scan_sees_every_kind_of_import(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "import os\nimport numpy.linalg\nfrom scipy import ndimage\nfrom . import sibling\n"
        "def f():\n    require('torch.nn', 'x')\n"
        "    importlib.import_module('control_msgs.action')\n"
    )
    assert literal_imports(source) == {"os", "numpy", "scipy", "torch", "control_msgs"}


def test_package_xml_declares_every_imported_ros_package_and_rosdep_key():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    pkg = catkin_pkg.parse_package(ROOT / "package.xml")
    declared = {d.name for d in pkg.exec_depends} | {d.name for d in pkg.build_export_depends}
    imports = third_party_imports()
    known = ROSDEP_KEYS | PIP_ONLY | dict.fromkeys(OPTIONAL_ROS)
    unmapped = {m: sorted(f) for m, f in imports.items() if m not in known}
    assert not unmapped, f"map these imports to a rosdep key (or PIP_ONLY): {unmapped}"
    missing = {
        ROSDEP_KEYS[m]: sorted(f)[:3]
        for m, f in imports.items()
        if m in ROSDEP_KEYS and ROSDEP_KEYS[m] not in declared
    }
    assert not missing, f"package.xml lacks <exec_depend> for: {missing}"
    # the map holds no stale entries, so it stays a true audit
    assert set(ROSDEP_KEYS) | set(PIP_ONLY) - {"pyk4a", "pyrealsense2"} <= set(imports) | {
        "std_srvs",
        "action_msgs",  # declared for the interfaces' users (rclpy.action, Trigger)
    }


def test_pip_only_imports_are_in_a_pyproject_extra():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]

    def names(requirements):
        return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}

    core = names(meta["dependencies"])
    for module, extra in PIP_ONLY.items():
        if extra is not None:
            distribution = PIP_DISTRIBUTIONS.get(module, module)
            assert distribution.lower() in names(extras[extra]), (module, extra)
    for module in ROSDEP_KEYS:
        if ROSDEP_KEYS[module].startswith("python3-"):
            assert PIP_DISTRIBUTIONS.get(module, module).lower() in core, module


# --- config headers, parameter names, interface comments -------------------------------------


def declared_parameters(path: Path) -> set[str]:
    """Names passed to declare(node, 'name', ...) / node.declare_parameter('name', ...)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        index = {"declare": 1, "declare_parameter": 0}.get(called)
        if index is not None and len(node.args) > index:
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
    if "LIMIT_FIELDS" in path.read_text():  # the planner declares its request bounds from it
        from rt_grasp_ros.planning.limits import LIMIT_FIELDS

        names |= set(LIMIT_FIELDS)
    return names


CONFIGS = sorted((ROOT / "config").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_header_names_files_that_exist_and_parameters_the_node_declares(config):
    import yaml

    text = config.read_text()
    header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    paths = re.findall(r"[\w./-]+\.(?:py|yaml|srv|action|msg|urdf|rviz)\b", header)
    assert paths, f"{config.name}: the header names the node's file"
    for name in paths:
        assert (ROOT / name).is_file(), f"{config.name} names {name}, which does not exist"
    ((node_name, body),) = yaml.safe_load(text).items()
    node_file = ROOT / "rt_grasp_ros" / "ros" / f"{node_name}.py"
    assert str(node_file.relative_to(ROOT)) in paths, (config.name, paths)
    unknown = set(body["ros__parameters"]) - declared_parameters(node_file) - {"use_sim_time"}
    assert not unknown, f"{config.name}: {sorted(unknown)} are not parameters of {node_name}"


def served_names() -> dict[str, set[str]]:
    """Interface type -> names the nodes serve it as (create_service / ActionServer)."""
    served: dict[str, set[str]] = {}
    for path in (ROOT / "rt_grasp_ros" / "ros").glob("*.py"):
        node_name = path.stem  # the nodes are named after their files
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = node.args[1:] if called == "ActionServer" else node.args
            if called in ("create_service", "ActionServer") and len(args) >= 2:
                kind, name = args[0], args[1]
                if isinstance(kind, ast.Name) and isinstance(name, ast.Constant):
                    # a private name (~/adapt) is the node's: grasp_planner/adapt
                    value = name.value
                    if value.startswith("~/"):
                        value = f"{node_name}/{value[2:]}"
                    served.setdefault(kind.id, set()).add(value.removeprefix("/"))
    return served


# Comments that name a name no node serves; the interfaces' owner fixes them (issue 16): the
# strict xfail then fails until the mark goes.
WRONG_INTERFACE_COMMENTS: set[str] = set()  # a file here is expected to fail (strict xfail)
INTERFACES = sorted([*(ROOT / "srv").glob("*.srv"), *(ROOT / "action").glob("*.action")])


@pytest.mark.parametrize(
    "interface",
    [
        pytest.param(
            p,
            id=p.name,
            marks=[
                pytest.mark.xfail(
                    strict=True, reason="the comment does not name what the code serves"
                )
            ]
            if p.name in WRONG_INTERFACE_COMMENTS
            else [],
        )
        for p in INTERFACES
    ],
)
def test_interface_comment_names_the_name_the_code_serves(interface):
    served = served_names().get(interface.stem, set())
    header = " ".join(
        line.lstrip("# ").strip()
        for line in interface.read_text().splitlines()
        if line.startswith("#")
    )
    # "served by <node> as <name>" / "served by the sim node as <name>"
    claimed = set(re.findall(r"[Ss]erved by [\w ]+? as (~?/?[\w/]+\w)", header))
    for name in claimed:
        bare = name.removeprefix("~/").removeprefix("/")
        assert bare in served, f"{interface.name} says {name!r}; the code serves {sorted(served)}"
    if served and interface.stem != "GripperCommand":  # served under the standard type's name
        assert claimed, f"{interface.name}: say where it is served ({sorted(served)})"


# --- the launch arguments reach the nodes ------------------------------------------------


def test_the_executor_argument_sets_the_executor_backend(monkeypatch):
    from rt_grasp_ros.errors import ConfigError
    from rt_grasp_ros.ros import stack

    monkeypatch.setattr(stack, "sim_camera_extrinsic", lambda: [0.0] * 6 + [1.0])
    specs = {s.name: s for s in stack.nodes({"executor": "cartesian", "model": ""})}
    assert specs["grasp_executor"].parameters["backend"] == "cartesian"
    specs = {s.name: s for s in stack.nodes({"executor": "moveit", "model": ""})}
    assert specs["grasp_executor"].parameters["backend"] == "moveit"
    with pytest.raises(ConfigError, match="executor:=pilz must be one of"):
        stack.nodes({"executor": "pilz"})
    # the executor node accepts what the argument may say (its backend parameter: BACKENDS)
    from rt_grasp_ros.skills.moveit_goals import BACKENDS

    executor = (ROOT / "rt_grasp_ros" / "ros" / "grasp_executor.py").read_text()
    assert "one_of(*BACKENDS)" in executor.split("'backend'", 1)[1].split("\n", 3)[1]
    assert set(stack.CHOICES["executor"]) == set(BACKENDS)


# --- the Makefile without ROS (Ubuntu 24.04's Python 3.12, nothing sourced) ------------------


def fake_python(tmp_path: Path, tag: str) -> Path:
    """A SYSTEM_PYTHON that reports itself as `tag` (implementation-version-machine-platform)."""
    shim = tmp_path / f"python-{tag}"
    shim.write_text(f"#!/bin/sh\necho {tag}\n")
    shim.chmod(0o755)
    return shim


def make_dry_run(tmp_path: Path, target: str, *variables: str, ros_sourced: bool = False):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ROS_DISTRO", "AMENT_PREFIX_PATH", "ROS_FROM", "MAKEFLAGS", "MFLAGS")
    }
    if ros_sourced:  # a prefix that looks like /opt/ros/jazzy
        prefix = tmp_path / "opt_ros"
        (prefix / "share" / "rclpy").mkdir(parents=True)
        (prefix / "share" / "rclpy" / "package.xml").write_text("<package/>")
        env.update(ROS_DISTRO="jazzy", AMENT_PREFIX_PATH=str(prefix))
    result = subprocess.run(
        [make, "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}", *variables],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


PY312 = "cpython-3.12-x86_64-linux"


def test_make_demo_without_ros_on_python_3_12_runs_the_demo_in_process(tmp_path):
    out = make_dry_run(tmp_path, "demo", f"SYSTEM_PYTHON={fake_python(tmp_path, PY312)}")
    assert "ROS 2 from: none" in out and PY312 in out
    assert "rt-grasp demo --in-process --out runs/demo" in out
    assert "the demo runs in-process, without ROS 2" in out  # the reason, printed
    assert "-e '.[vlm,sim,rosbag,dev]'" in out
    # no ROS wheels, no interface build, no check that fails on 3.12
    assert "cmake" not in out and "fix_rosidl_exports" not in out
    assert "wheels need CPython 3.11 on x86_64 Linux" in out and "exit 1" not in out


def test_make_test_without_ros_runs_the_tests_that_need_no_ros(tmp_path):
    out = make_dry_run(tmp_path, "test", f"SYSTEM_PYTHON={fake_python(tmp_path, PY312)}")
    assert 'pytest -n 2 --dist loadgroup -m "not ros and not franka_sim"' in out
    assert "running the tests that need no ROS" in out
    assert "ruff check ." in out and "cmake" not in out
    assert "PATH=" not in out.split("ruff check .", 1)[1]  # no venv ament tools assumed


@pytest.mark.parametrize("tag", ["cpython-3.11-aarch64-linux", "pypy-3.11-x86_64-linux", ""])
def test_no_ros_is_chosen_for_any_python_the_wheels_do_not_fit(tmp_path, tag):
    python = fake_python(tmp_path, tag) if tag else tmp_path / "no-such-python"
    out = make_dry_run(tmp_path, "demo", f"SYSTEM_PYTHON={python}")
    assert "ROS 2 from: none" in out and "--in-process" in out
    assert (tag or "missing") in out


def test_make_still_picks_the_wheels_on_3_11_and_a_sourced_ros_first(tmp_path):
    pypi = make_dry_run(
        tmp_path, "demo", f"SYSTEM_PYTHON={fake_python(tmp_path, 'cpython-3.11-x86_64-linux')}"
    )
    assert "ROS 2 from: pypi" in pypi and "cmake -S ." in pypi and "--in-process" not in pypi
    system = make_dry_run(
        tmp_path, "demo", f"SYSTEM_PYTHON={fake_python(tmp_path, PY312)}", ros_sourced=True
    )
    assert "ROS 2 from: system" in system and "--in-process" not in system
    assert "-e '.[vlm,sim,rosbag,dev]'" in system and "cmake -S ." in system
    forced = make_dry_run(tmp_path, "pytest", "ROS_FROM=none")
    assert '-m "not ros and not franka_sim"' in forced and "ROS_FROM=none" in forced


WITHOUT_ROS = """
import sys
for name in ("rclpy", "rt_grasp", "rcl_interfaces", "launch", "launch_ros", "launch_pytest",
             "domain_coordinator", "ament_index_python"):
    sys.modules[name] = None  # as on a Python without ROS 2: importing them fails
import pytest
sys.exit(pytest.main(["-p", "no:cacheprovider", "-q", "-n", "0", "-rs", "-m", "not ros",
                      sys.argv[1]]))
"""


def test_ros_tests_skip_cleanly_without_ros_as_make_test_runs_them():
    """ROS_FROM=none: `pytest -m "not ros"` must not error on the ROS test modules."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_ROS, str(ROOT / "test" / "ros")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    output = result.stdout + result.stderr
    # 5: nothing left to run (every module skipped), not an error; the whole suite returns 0
    assert result.returncode in (0, 5), output[-3000:]
    assert "error" not in output.lower().split("short test summary")[-1], output[-3000:]
    assert "skipped" in output and "rclpy is missing" in output
