"""sim:=false driver:=franka_ros2: what grasp.launch.py includes, decided without launch.

franka_ros2, MoveIt, realsense2_camera and launch are not installed here: the decisions of
rt_grasp_ros/ros/franka_bringup.py run against fake share folders (a package.xml with the version,
the launch files a version has), and the launch file is checked statically (it calls them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.ros.bringup import node_commands
from rt_grasp_ros.ros.franka_bringup import (
    franka_ros2_launch,
    franka_ros2_nodes,
    gripper_namespace,
    package_version,
)
from rt_grasp_ros.ros.stack import ARGUMENTS, nodes, resolve

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "grasp.launch.py"
EXTRINSIC = "0.5 0 0.75 0.7071 -0.7071 0 0"
V3_FILES = {"franka_fr3_moveit_config": ["launch/move_group.launch.py", "launch/moveit.launch.py"]}
V2_FILES = {"franka_fr3_moveit_config": ["launch/moveit.launch.py"]}


def fake_install(tmp_path, version, packages, files=None):
    """Share folders for ``packages`` with ``version`` in package.xml; returns share()."""
    for name in packages:
        share = tmp_path / name
        share.mkdir(parents=True, exist_ok=True)
        (share / "package.xml").write_text(
            f'<?xml version="1.0"?>\n<package format="3"><name>{name}</name>'
            f"<version>{version}</version></package>\n"
        )
        for f in (files or {}).get(name, []):
            (share / f).parent.mkdir(parents=True, exist_ok=True)
            (share / f).write_text("# launch\n")
    return lambda name: (tmp_path / name) if (tmp_path / name).is_dir() else None


def args(**given):
    return resolve(
        {
            "sim": "false",
            "robot_ip": "172.16.0.2",
            "camera_extrinsic": EXTRINSIC,
            "model": "",
            **given,
        }
    )


FRANKA = ["franka_bringup", "franka_gripper", "franka_example_controllers"]


def test_v3_takes_robot_type_and_v2_took_arm_id(tmp_path):
    v3 = franka_ros2_launch(args(), fake_install(tmp_path / "3", "3.1.0", FRANKA))
    v2 = franka_ros2_launch(args(), fake_install(tmp_path / "2", "2.0.4", FRANKA))
    (robot3,), (robot2,) = v3.includes, v2.includes
    assert (robot3.package, robot3.path) == ("franka_bringup", "launch/franka.launch.py")
    assert robot3.arguments == {
        "robot_type": "fr3",
        "robot_ip": "172.16.0.2",
        "load_gripper": "true",
    }
    assert robot2.arguments["arm_id"] == "fr3" and "robot_type" not in robot2.arguments
    assert [s.controller for s in v3.spawners] == ["cartesian_impedance_example_controller"]
    assert package_version(tmp_path / "3" / "franka_bringup") == (3, 1, 0)
    assert package_version(None) is None


def test_moveit_includes_move_group_next_to_franka_bringup_or_moveit_launch_alone(tmp_path):
    pkgs = [*FRANKA, "franka_fr3_moveit_config"]
    v3 = franka_ros2_launch(
        args(executor="moveit"), fake_install(tmp_path / "3", "3.4.0", pkgs, V3_FILES)
    )
    assert [(i.package, i.path) for i in v3.includes] == [
        ("franka_bringup", "launch/franka.launch.py"),
        ("franka_fr3_moveit_config", "launch/move_group.launch.py"),
    ]
    assert [s.controller for s in v3.spawners] == ["fr3_arm_controller"]
    v2 = franka_ros2_launch(
        args(executor="moveit"), fake_install(tmp_path / "2", "2.1.0", pkgs, V2_FILES)
    )
    assert [(i.package, i.path) for i in v2.includes] == [
        ("franka_fr3_moveit_config", "launch/moveit.launch.py")
    ]


def test_a_missing_package_is_named(tmp_path):
    with pytest.raises(ConfigError, match="franka_bringup"):
        franka_ros2_launch(args(), fake_install(tmp_path, "3.0.0", []))
    with pytest.raises(ConfigError, match="franka_fr3_moveit_config"):
        franka_ros2_launch(args(executor="moveit"), fake_install(tmp_path, "3.0.0", FRANKA))
    with pytest.raises(ConfigError, match="crisp_controllers"):
        franka_ros2_launch(args(controller="crisp"), fake_install(tmp_path, "3.0.0", FRANKA))
    with pytest.raises(ConfigError, match="robot_ip"):
        franka_ros2_launch(args(robot_ip=""), fake_install(tmp_path, "3.0.0", FRANKA))


def test_the_camera_driver_where_installed_else_the_sdk_else_an_error(tmp_path):
    share = fake_install(tmp_path, "3.0.0", [*FRANKA, "realsense2_camera"])
    real = franka_ros2_launch(args(camera="realsense"), share, lambda m: False)
    rs = real.includes[-1]
    assert rs.package == "realsense2_camera" and rs.arguments["align_depth.enable"] == "true"
    assert franka_ros2_nodes(args(camera="realsense"), share, lambda m: False).camera_source == (
        "topics"
    )
    bare = fake_install(tmp_path / "bare", "3.0.0", FRANKA)
    assert (
        franka_ros2_nodes(
            args(camera="realsense"), bare, lambda m: m == "pyrealsense2"
        ).camera_source
        == "realsense"
    )
    with pytest.raises(ConfigError, match=r"realsense2_camera.*pyrealsense2"):
        franka_ros2_nodes(args(camera="realsense"), bare, lambda m: False)
    with pytest.raises(ConfigError, match=r"azure_kinect_ros_driver.*pyk4a"):
        franka_ros2_launch(args(camera="kinect"), bare, lambda m: False)
    k4a = fake_install(tmp_path / "k4a", "3.0.0", [*FRANKA, "azure_kinect_ros_driver"])
    kinect = franka_ros2_nodes(args(camera="kinect"), k4a, lambda m: False)
    assert dict(kinect.camera_remaps)["camera/color/image_raw"] == "rgb/image_raw"


def test_the_executor_targets_the_impedance_controller_or_crisp(tmp_path):
    share = fake_install(tmp_path, "3.0.0", FRANKA)
    franka = franka_ros2_nodes(args(), share)
    assert dict(franka.executor_remaps) == {
        "target_pose": "cartesian_impedance_example_controller/equilibrium_pose",
        "current_pose": "franka_robot_state_broadcaster/current_pose",
    }
    assert franka.executor["gripper_action"] == "franka_gripper/gripper_action"
    assert franka.executor["base_frame"] == "fr3_link0"
    crisp = franka_ros2_nodes(args(controller="crisp"), share)
    assert dict(crisp.executor_remaps) == {
        "target_pose": "target_pose",
        "current_pose": "current_pose",
    }
    moveit = franka_ros2_nodes(args(executor="moveit"), share)
    assert "target_pose" not in dict(moveit.executor_remaps)
    assert gripper_namespace((2, 1, 0)) == "fr3_gripper"
    assert gripper_namespace((3, 0, 0)) == gripper_namespace(None) == "franka_gripper"


def test_suction_adds_the_vacuum_node_and_ros_up_passes_the_remaps():
    specs = {s.name: s for s in nodes(args(gripper="suction"))}
    assert specs["vacuum_gripper"].executable == "vacuum_gripper"
    assert specs["vacuum_gripper"].parameters["robot_ip"] == "172.16.0.2"
    commands = dict(node_commands(args()))
    argv = commands["grasp_executor"]
    i = argv.index("-r", argv.index("__node:=grasp_executor"))
    assert argv[i + 1] == "target_pose:=cartesian_impedance_example_controller/equilibrium_pose"
    for name in ("driver", "robot_ip", "controller"):
        assert name in ARGUMENTS
    with pytest.raises(ConfigError, match="executor"):
        resolve({"executor": "pilz"})


def test_the_sim_stack_is_unchanged():
    specs = {s.name: s for s in nodes({"model": ""})}
    assert set(specs) == {"sim", "camera", "grasp_executor"}
    assert all(not s.remaps for s in specs.values())
    assert "base_frame" not in specs["grasp_executor"].parameters


def test_the_launch_file_consumes_the_decisions():
    tree = ast.parse(LAUNCH_FILE.read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert {"franka_ros2_launch", "IncludeLaunchDescription", "PythonLaunchDescriptionSource"} <= (
        names
    )
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Node"
    ]
    assert any(k.arg == "remappings" for c in calls for k in c.keywords)
