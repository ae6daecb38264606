"""
launch/grasp.launch.py with ROS 2's launch: its arguments, and the stack it brings up.

launch, launch_ros and launch_pytest are not on PyPI: with ROS 2 from PyPI (`make setup`) this
module skips with the reason; with a full ROS 2 install (/opt/ros/<distro> sourced) it runs.

- test_declared_arguments_are_the_stacks: needs only launch and launch_ros (no ROS graph).
- test_robot_state_publisher_and_rviz_only_where_installed: the same, with rt_grasp installed.
- test_grasp_launch_brings_up_the_stack (+ its shutdown stage): launch_pytest launches
  grasp.launch.py sim:=true rviz:=false without a model (so no planner), checks the graph and
  two topics, then shuts launch down and checks every node exited with status 0 on SIGINT.
  Needs rt_grasp built and installed into an ament prefix (lib/rt_grasp/<node> launchers).
"""

import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

LAUNCH_MISSING = (
    "{} is not importable: launch, launch_ros and launch_pytest are not on PyPI; they come "
    "with a full ROS 2 install (source /opt/ros/<distro>/setup.bash)"
)


def _require(name):
    module = pytest.importorskip(name, reason=LAUNCH_MISSING.format(name))
    # With the repository root on sys.path, its launch/ folder (no __init__.py) imports as an
    # empty namespace package called launch: that is not ROS 2's launch.
    if getattr(module, "__file__", None) is None:
        pytest.skip(LAUNCH_MISSING.format(name), allow_module_level=True)
    return module


launch = _require("launch")
_require("launch_ros")

from ament_index_python.packages import PackageNotFoundError, get_package_prefix  # noqa: E402
from launch.actions import (  # noqa: E402
    IncludeLaunchDescription,
    LogInfo,
    RegisterEventHandler,
)
from launch.event_handlers import OnProcessExit  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch.utilities import perform_substitutions  # noqa: E402

from rt_grasp_ros.ros.stack import ARGUMENTS, PACKAGE, nodes  # noqa: E402

try:
    import launch_pytest
except ImportError:  # tested below: the live launch test skips with the reason
    launch_pytest = None

pytestmark = pytest.mark.ros

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "grasp.launch.py"
STACK = ("sim", "camera", "grasp_executor")  # sim:=true, no model: no grasp_planner


def load_launch_module():
    """grasp.launch.py imported as a module, as launch imports a Python launch file."""
    spec = importlib.util.spec_from_file_location("grasp_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_declared_arguments_are_the_stacks():
    description = load_launch_module().generate_launch_description()
    context = launch.LaunchContext()
    declared = {
        arg.name: (perform_substitutions(context, arg.default_value), arg.description)
        for arg in description.get_launch_arguments()
    }
    assert declared == ARGUMENTS
    assert list(declared) == list(ARGUMENTS)  # --show-args order


@contextlib.contextmanager
def rt_grasp_installed():
    """
    AMENT_PREFIX_PATH with rt_grasp's prefix and PATH with this Python first; skip without it.

    With ROS from PyPI the venv is the prefix and nothing needs sourcing, so it may be missing
    from AMENT_PREFIX_PATH. The launchers in lib/rt_grasp start with `#!/usr/bin/env python3`:
    this interpreter's folder first on PATH makes them run with the Python that has rclpy.
    """
    env = {}
    try:
        prefix = Path(get_package_prefix(PACKAGE))
    except (PackageNotFoundError, OSError):  # OSError: AMENT_PREFIX_PATH unset
        marker = Path(sys.prefix) / "share" / "ament_index" / "resource_index" / "packages"
        if not (marker / PACKAGE).exists():
            pytest.skip(f"{PACKAGE} is not installed in an ament prefix: `make setup` builds it")
        prefix = Path(sys.prefix)
        env["AMENT_PREFIX_PATH"] = os.pathsep.join(
            filter(None, [str(prefix), os.environ.get("AMENT_PREFIX_PATH")])
        )
    missing = [n for n in STACK if not (prefix / "lib" / PACKAGE / n).is_file()]
    if missing:
        pytest.skip(f"no launcher {missing} in {prefix / 'lib' / PACKAGE}: `make setup` again")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield prefix


@pytest.mark.parametrize("installed", [True, False])
def test_robot_state_publisher_and_rviz_only_where_installed(installed):
    with rt_grasp_installed():
        module = load_launch_module()
        module._installed = lambda package: installed  # a fresh module: nothing to restore
        context = launch.LaunchContext()
        values = {name: default for name, (default, _) in ARGUMENTS.items()}
        context.launch_configurations.update(values, sim="true", rviz="true")
        actions = module._nodes(context)
    packages = [getattr(a, "node_package", None) for a in actions]
    ours = len(nodes(values | {"sim": "true", "rviz": "true"}))  # the stack's own nodes
    assert packages[:ours] == [PACKAGE] * ours
    extras = ["robot_state_publisher", "rviz2", "rqt_gui"]  # rqt_gui: the refinement panel
    if installed:
        assert packages[ours:] == extras
    else:
        logs = [a for a in actions if isinstance(a, LogInfo)]
        text = " ".join(perform_substitutions(context, a.msg) for a in logs)
        assert len(logs) == 3 and all(name in text for name in extras)


if launch_pytest is None:

    def test_grasp_launch_brings_up_the_stack():
        pytest.skip(LAUNCH_MISSING.format("launch_pytest"))

else:

    @pytest.fixture(scope="module")
    def stack_environment(request, ros_domain):
        """Skip without what the nodes need; the environment the launched nodes inherit."""
        if not request.config.pluginmanager.has_plugin("launch_pytest"):
            pytest.skip("the launch_pytest plugin is not loaded (-p no:launch_pytest?)")
        pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
        pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built")
        pytest.importorskip("mujoco")  # the sim node
        with rt_grasp_installed() as prefix:
            yield prefix

    @launch_pytest.fixture(scope="module")
    def grasp_launch(stack_environment):
        """grasp.launch.py sim:=true rviz:=false, no model; the exit status of each process."""
        exits = {}

        def record(event, context):
            exits[event.action.name] = event.returncode

        arguments = {"sim": "true", "rviz": "false", "model": ""}
        return launch.LaunchDescription(
            [
                RegisterEventHandler(OnProcessExit(on_exit=record)),
                IncludeLaunchDescription(
                    PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                    launch_arguments=arguments.items(),
                ),
                launch_pytest.actions.ReadyToTest(),
            ]
        ), exits

    # launch_pytest before jazzy 3.4.12 reads pytest's private _pytestfixturefunction, which
    # pytest 8.4 replaced by _fixture_function_marker (ros2/launch#947): alias it.
    if not hasattr(grasp_launch, "_pytestfixturefunction"):
        grasp_launch._pytestfixturefunction = grasp_launch._fixture_function_marker

    @pytest.mark.launch(fixture=grasp_launch)
    def test_grasp_launch_brings_up_the_stack(grasp_launch, ros_node, spin_until):
        from geometry_msgs.msg import PoseStamped
        from sensor_msgs.msg import CameraInfo

        from rt_grasp_ros.ros import qos

        exits = grasp_launch[1]
        names = set()

        def stack_up():
            names.update(n for n, _ in ros_node.get_node_names_and_namespaces())
            return set(STACK) <= names

        assert spin_until(ros_node, stack_up, 90.0), f"nodes {sorted(names)}; exits {exits}"
        assert "grasp_planner" not in names  # no model
        poses, infos = [], []
        ros_node.create_subscription(PoseStamped, "/current_pose", poses.append, qos.COMMAND)
        ros_node.create_subscription(
            CameraInfo, "/crop/camera_info", infos.append, qos.SENSOR_DATA
        )
        assert spin_until(ros_node, lambda: poses and infos, 60.0), (
            f"{len(poses)} poses, {len(infos)} crop infos"
        )
        assert poses[0].header.frame_id == "panda_link0"
        assert infos[0].width == infos[0].height <= 400  # the object-centred crop
        assert not exits, f"processes exited while the stack should run: {exits}"

    @pytest.mark.launch(fixture=grasp_launch, shutdown=True)
    def test_grasp_launch_stops_cleanly(grasp_launch):
        exits = grasp_launch[1]
        assert sorted(name.rsplit("-", 1)[0] for name in exits) == sorted(STACK), exits
        assert set(exits.values()) == {0}, f"exit status on SIGINT: {exits}"
