"""task:=articulated: the stack's nodes; `rt-grasp ros up` and `rt-grasp ros manipulate --json`."""

import json
import subprocess
import sys

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.ros import stack

CLI = [sys.executable, "-m", "rt_grasp_ros.cli.main", "ros", "manipulate"]
ARTICULATED = {"task": "articulated", "category": "drawer", "seed": "1000000"}


def test_task_articulated_starts_sim_camera_and_the_impedance_adaptation_server():
    specs = {s.name: s for s in stack.nodes(ARTICULATED)}
    # no contact model: no planner (the oracle's contact) and no grasp executor
    assert list(specs) == ["sim", "camera", "impedance_adaptation"]
    assert specs["sim"].parameters == {
        "gripper": "suction",
        "seed": 1000000,
        "articulated": "drawer",
    }
    server = specs["impedance_adaptation"]
    assert server.parameters == {"use_sim_time": True, "target_mode": "trajectory"}
    assert server.param_files[0].endswith("config/impedance_adaptation.yaml")
    grasp = [s.name for s in stack.nodes({"model": ""})]
    assert "impedance_adaptation" not in grasp and "grasp_executor" in grasp


def test_task_articulated_with_a_contact_model_starts_the_planner_in_contact_mode():
    specs = {s.name: s for s in stack.nodes({**ARTICULATED, "contact_model": "/m/manip"})}
    assert list(specs) == ["sim", "camera", "grasp_planner", "impedance_adaptation"]
    planner = specs["grasp_planner"].parameters
    assert planner["task"] == "contact" and planner["model"] == "/m/manip"
    assert planner["gripper"] == "suction" and planner["use_sim_time"] is True
    # the scene's own camera pose, as the camera node's; the camera crops the whole image
    camera = specs["camera"].parameters
    assert planner["camera_extrinsic"] == camera["camera_extrinsic"]
    assert camera["crop_size"] == 336 and camera["object_crop"] is False
    grasp = {s.name: s for s in stack.nodes({"model": "/m/grasp"})}["grasp_planner"]
    assert grasp.parameters["task"] == "grasp"


def test_task_articulated_gives_the_camera_the_scenes_own_camera_pose():
    pytest.importorskip("mujoco")
    from rt_grasp_ros.sim.embedded import EmbeddedRobot, SceneRequest

    camera = {s.name: s for s in stack.nodes(ARTICULATED)}["camera"]
    robot = EmbeddedRobot(SceneRequest(seed=1000000, articulated="drawer"))
    try:
        assert stack.same_pose(robot.camera_pose(), camera.parameters["camera_extrinsic"])
        other = stack.nodes({**ARTICULATED, "seed": "1000001"})[1].parameters
        assert not stack.same_pose(robot.camera_pose(), other["camera_extrinsic"])
    finally:
        robot.close()


def test_an_unknown_category_or_task_names_itself():
    with pytest.raises(ConfigError, match="category:=sofa must be one of"):
        stack.nodes({**ARTICULATED, "category": "sofa"})
    with pytest.raises(ConfigError, match="task:=pour must be one of"):
        stack.nodes({"task": "pour"})


def test_manipulate_help_says_which_contact_source_is_the_default():
    out = subprocess.run(
        [*CLI, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--contact" in out and "oracle" in out and "sim/scene_contact" in out
    words = " ".join(out.split())
    assert "{model,oracle}" in words and "MODE_CONTACT" in words
    assert "default: model when a planner is running" in words


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.xdist_group("ros_stack")
def test_ros_up_and_manipulate_json_open_the_drawer(ros_domain):
    pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
    pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built")
    pytest.importorskip("mujoco")
    from rt_grasp_ros.ros.bringup import Stack

    # the sim as fast as physics allows, every node on its clock: a real-time sim that falls
    # behind on a loaded machine steps in 50 ms chunks, which coarsens the probes
    # (docs/manipllm.md, Over ROS)
    overrides = {"sim": {"realtime_factor": 0.0, "camera_rate": 0.0}}
    with Stack(ARTICULATED, overrides, log=lambda line: None) as up:
        cli = subprocess.run(
            [*CLI, "open the drawer", "--json", "--target-distance", "0.16", "--max-steps", "16"],
            capture_output=True,
            text=True,
            timeout=400,
        )
        up.check()
    assert cli.stdout.strip(), cli.stderr[-3000:]
    out = json.loads(cli.stdout.strip().splitlines()[-1])
    assert out["category"] == "drawer" and out["contact_source"] == "oracle"
    assert out["contact"]["frame_id"] == "panda_link0" and out["chain"] == []
    assert out["part"]["joint_type"] == "prismatic"
    assert out["part"]["position"] > 0.1, out["message"]
    assert out["distance"] > 0.1 and out["steps"] >= 1
    assert {"success", "distance", "steps", "category"} <= set(out)
    assert out["feedback"][0]["stage"] == "approach"
    print(f"rt-grasp ros manipulate: {out['part']['position']:.3f} m, {out['message']}")


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.xdist_group("ros_stack")
def test_ros_up_with_a_contact_model_and_manipulate_json_plan_with_the_planner(
    ros_domain, tiny_model
):
    """The planner's contact (an untrained model: the pull may well miss the part)."""
    pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
    pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built")
    pytest.importorskip("mujoco")
    import rclpy
    from sensor_msgs.msg import CameraInfo

    from rt_grasp_ros.ros import qos
    from rt_grasp_ros.ros.bringup import Stack

    overrides = {"sim": {"realtime_factor": 0.0, "camera_rate": 2.0}}
    arguments = {**ARTICULATED, "contact_model": str(tiny_model)}
    with Stack(arguments, overrides, log=lambda line: None) as up:
        rclpy.init()
        node = rclpy.create_node("pytest_crop_watch")
        crops = []
        node.create_subscription(CameraInfo, "crop/camera_info", crops.append, qos.SENSOR_DATA)
        try:
            for _ in range(600):  # the planner plans on the latest crop: wait for one
                if crops:
                    break
                rclpy.spin_once(node, timeout_sec=0.1)
        finally:
            node.destroy_node()
            rclpy.try_shutdown()
        assert crops, up.output()[-3000:]
        cli = subprocess.run(
            [*CLI, "open the drawer", "--json", "--target-distance", "0.05", "--max-steps", "4"],
            capture_output=True,
            text=True,
            timeout=400,
        )
        text = subprocess.run(
            [*CLI, "open the drawer", "--contact", "model", "--max-steps", "2"],
            capture_output=True,
            text=True,
            timeout=400,
        ).stdout
        # a refinement session in contact mode from the CLI: a follow-up re-asks the pose
        plan = [sys.executable, "-m", "rt_grasp_ros.cli.main", "ros", "plan", "--contact"]
        first = subprocess.run([*plan, "open it"], capture_output=True, text=True, timeout=200)
        session = first.stdout.split("session:   ")[-1].split(";")[0]
        follow = subprocess.run(
            [*plan, "--session", session, "--follow-up", "more to the left"],
            capture_output=True,
            text=True,
            timeout=200,
        )
        up.check()
    assert first.returncode == 0 and session.startswith("s"), first.stdout + first.stderr
    assert follow.returncode == 0, follow.stdout + follow.stderr
    assert "\n  follow-up pose: The contact point is (" in follow.stdout, follow.stdout
    assert f"session:   {session};" in follow.stdout
    for line in ("contact:   model (", "reasoning chain:\n  category: ", "\n  reasoning: "):
        assert line in text, text
    assert "\n  pose: The contact point is (" in text and "distance moved: " in text, text
    assert cli.stdout.strip(), cli.stderr[-3000:]
    out = json.loads(cli.stdout.strip().splitlines()[-1])
    assert out["contact_source"] == "model", out  # the default with a planner running
    assert out["contact"] is not None, out["plan"]
    assert out["contact"]["frame_id"] == "panda_link0"
    assert len(out["chain"]) == 3 and out["answer"] == out["chain"][2]
    assert out["reasoning"] == out["chain"][1] and out["category"]
    assert {"success", "failure", "message", "distance", "steps", "part", "feedback"} <= set(out)
    assert out["plan"]["session_id"] and out["plan"]["seconds"] > 0
    print(f"manipulate --contact model: {out['message']} ({out['distance']} m)")
