"""rt_grasp's msg/srv/action: importable with nothing sourced, as documented, and over real DDS."""

import math
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from geometry_msgs.msg import PoseStamped  # noqa: E402
from rclpy.action import ActionClient, ActionServer  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rt_grasp.action import ExecuteGrasp, GripperCommand, Vacuum  # noqa: E402
from rt_grasp.msg import (  # noqa: E402
    ContactPose,
    Grasp,
    ImageGrasp,
    Timings,
    VacuumState,
)
from rt_grasp.msg import GripperCommand as GripperCommandMsg  # noqa: E402
from rt_grasp.srv import AdaptContact, GetPartState, GetSceneGrasps, PlanGrasp, ResetScene  # noqa: E402

from rt_grasp_ros.ros import qos  # noqa: E402

pytestmark = pytest.mark.ros

ROOT = Path(__file__).resolve().parents[2]


def interface_names():
    """Every interface the package defines, as (python module, type name): msg/Foo.msg -> ..."""
    names = []
    for kind, ext in (("msg", ".msg"), ("srv", ".srv"), ("action", ".action")):
        names += [(f"rt_grasp.{kind}", p.stem) for p in sorted((ROOT / kind).glob(f"*{ext}"))]
    return names


def test_every_interface_is_listed_in_cmakelists():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    for module, name in interface_names():
        kind = module.split(".")[1]
        assert f'"{kind}/{name}.{kind}"' in cmake, f"{kind}/{name}.{kind} not generated"
    assert len(interface_names()) >= 13


def test_interfaces_import_with_nothing_sourced():
    """From the venv with a clean environment: the wheels' bootstrapper finds the libraries."""
    if not (Path(sys.prefix) / "share" / "rclpy").exists():
        pytest.skip("ROS 2 is not in this venv (a sourced system ROS): nothing-sourced N/A")
    imports = "; ".join(f"from {m} import {n}" for m, n in interface_names())
    code = (
        "import rclpy, rt_grasp, rt_grasp_ros; " + imports + "; "
        "print(rt_grasp.__file__); print(rt_grasp_ros.__file__); "
        "from rt_grasp.srv import PlanGrasp; print(PlanGrasp.Request.MODE_CONTACT); "
        "from rclpy.utilities import get_rmw_implementation_identifier as rmw; print(rmw())"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "python"), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rt_grasp_file, rt_grasp_ros_file, mode, rmw = result.stdout.split()
    assert Path(rt_grasp_file).is_relative_to(Path(sys.prefix).resolve()) or Path(
        rt_grasp_file
    ).is_relative_to(Path(sys.prefix))
    # the editable install of rt_grasp_ros is not shadowed by a copy in the venv
    assert Path(rt_grasp_ros_file).resolve() == (ROOT / "rt_grasp_ros" / "__init__.py").resolve()
    assert mode == "1"
    assert rmw == "rmw_fastrtps_cpp"


def test_constants_and_defaults_are_as_documented():
    assert (Grasp.PARALLEL, Grasp.SUCTION) == (0, 1)
    grasp = Grasp()
    assert grasp.gripper == Grasp.PARALLEL and grasp.width == 0.0
    assert grasp.spread_xy == 0.0 and grasp.spread_theta == 0.0
    assert isinstance(grasp.pose, PoseStamped) and isinstance(grasp.pose_camera, PoseStamped)
    assert isinstance(grasp.image, ImageGrasp)

    req = PlanGrasp.Request()
    assert (PlanGrasp.Request.MODE_GRASP, PlanGrasp.Request.MODE_CONTACT) == (0, 1)
    assert req.mode == PlanGrasp.Request.MODE_GRASP
    assert (req.samples, req.temperature, req.top_p) == (1, 0.0, 0.0)
    assert req.decoding == PlanGrasp.Request.DECODING_DEFAULT == 0
    assert req.instruction == req.session_id == req.follow_up == ""
    assert req.image.width == 0  # empty image = use the latest crop
    resp = PlanGrasp.Response()
    assert resp.success is False and isinstance(resp.grasp, Grasp)
    assert isinstance(resp.contact, ContactPose) and isinstance(resp.timings, Timings)

    goal = ExecuteGrasp.Goal()
    assert (goal.lift_height, goal.hold_time, goal.release) == (0.0, 0.0, False)
    assert ExecuteGrasp.Result().failure == ""

    assert (Vacuum.Goal.VACUUM, Vacuum.Goal.DROP_OFF) == (0, 1)
    profiles = [getattr(Vacuum.Goal, f"PROFILE_P{i}") for i in range(4)]
    assert profiles == [0, 1, 2, 3]
    vgoal = Vacuum.Goal()
    assert (vgoal.command, vgoal.vacuum, vgoal.profile, vgoal.timeout) == (0, 0, 0, 0.0)
    status = [VacuumState.DEVICE_GREEN, VacuumState.DEVICE_YELLOW]
    status += [VacuumState.DEVICE_ORANGE, VacuumState.DEVICE_RED]
    assert status == [0, 1, 2, 3]

    assert ResetScene.Request().n_objects == 1
    assert ResetScene.Request().categories == []
    assert GetSceneGrasps.Response().grasps == []
    assert GetPartState.Response().joint_type == ""


def test_field_layouts():
    """The wire layout is an API: a change here must be deliberate."""
    assert ImageGrasp.get_fields_and_field_types() == {
        "x": "double",
        "y": "double",
        "theta": "double",
        "u": "double",
        "v": "double",
        "depth": "double",
        "width_px": "double",
    }
    assert Timings.get_fields_and_field_types() == dict.fromkeys(
        ["preprocess", "prefill", "decode", "parse", "total"], "double"
    )
    assert Grasp.get_fields_and_field_types() == {
        "pose": "geometry_msgs/PoseStamped",
        "pose_camera": "geometry_msgs/PoseStamped",
        "width": "double",
        "gripper": "uint8",
        "image": "rt_grasp/ImageGrasp",
        "reasoning": "string",
        "answer": "string",
        "spread_xy": "double",
        "spread_theta": "double",
    }
    assert ContactPose.get_fields_and_field_types() == {
        "pose": "geometry_msgs/PoseStamped",
        "pose_camera": "geometry_msgs/PoseStamped",
        "up": "geometry_msgs/Vector3",
        "forward": "geometry_msgs/Vector3",
        "u": "double",
        "v": "double",
        "depth": "double",
        "category": "string",
        "reasoning": "string",
        "chain": "sequence<string>",
        "answer": "string",
        "session_id": "string",
    }
    assert AdaptContact.Request.get_fields_and_field_types() == {
        "session_id": "string",
        "moved": "boolean",
    }
    assert AdaptContact.Response.get_fields_and_field_types() == {
        "success": "boolean",
        "message": "string",
        "trials": "uint32",
        "loss_before": "double",
        "loss_after": "double",
    }
    assert PlanGrasp.Request.get_fields_and_field_types() == {
        "mode": "uint8",
        "instruction": "string",
        "session_id": "string",
        "follow_up": "string",
        "image": "sensor_msgs/Image",
        "depth": "sensor_msgs/Image",
        "camera_info": "sensor_msgs/CameraInfo",
        "decoding": "uint8",
        "samples": "uint32",
        "temperature": "float",
        "top_p": "float",
    }
    assert PlanGrasp.Response.get_fields_and_field_types() == {
        "success": "boolean",
        "message": "string",
        "session_id": "string",
        "grasp": "rt_grasp/Grasp",
        "contact": "rt_grasp/ContactPose",
        "timings": "rt_grasp/Timings",
    }
    assert ExecuteGrasp.Feedback.get_fields_and_field_types() == {
        "stage": "string",
        "tcp_pose": "geometry_msgs/PoseStamped",
    }
    assert VacuumState.get_fields_and_field_types() == {
        "header": "std_msgs/Header",
        "in_control_range": "boolean",
        "part_detached": "boolean",
        "part_present": "boolean",
        "device_status": "uint8",
        "actual_power": "uint16",
        "vacuum": "uint16",
    }
    assert ResetScene.Request.get_fields_and_field_types() == {
        "seed": "int64",
        "categories": "sequence<string>",
        "n_objects": "uint32",
        "view": "int32",
        "gripper": "string",
        "articulated": "string",
    }
    assert ResetScene.Request().view == -1
    assert ResetScene.Response.get_fields_and_field_types()["stamp"] == "builtin_interfaces/Time"
    assert GetSceneGrasps.Response.get_fields_and_field_types()["grasps"] == (
        "sequence<rt_grasp/Grasp>"
    )


def test_gripper_command_has_control_msgs_fields():
    """Same field names and types as control_msgs' GripperCommand msg and action."""
    assert GripperCommandMsg.get_fields_and_field_types() == {
        "position": "double",
        "max_effort": "double",
    }
    assert GripperCommand.Goal.get_fields_and_field_types() == {
        "command": "rt_grasp/GripperCommand"
    }
    four = {"position": "double", "effort": "double", "stalled": "boolean"}
    four["reached_goal"] = "boolean"
    assert GripperCommand.Result.get_fields_and_field_types() == four
    assert GripperCommand.Feedback.get_fields_and_field_types() == four


def test_the_action_documents_exactly_the_failure_kinds_and_stages_the_skill_produces():
    # Each kind is produced by a behaviour test: test/skills/test_grasp_skill.py (invalid,
    # outside_workspace, unreachable, collision, no_contact, not_grasped, slipped, dropped,
    # cancelled, timeout, gripper_error) and test/ros/test_executor_faults.py (over ROS).
    from rt_grasp_ros.skills.grasp import GraspFailure, Stage

    text = (ROOT / "action" / "ExecuteGrasp.action").read_text()
    documented = set(re.findall(r"^#   ([a-z_]+) ", text, flags=re.MULTILINE))
    assert documented == {f.value for f in GraspFailure}
    feedback = text.split("---")[2]  # the stage listed in the feedback's comment
    stage_line = next(line for line in feedback.splitlines() if line.startswith("string stage"))
    listed = set(re.findall(r"[a-z_]+", stage_line.split("#", 1)[1])) - {"or"}
    assert listed == {s.value for s in Stage}


def filled_grasp(stamp):
    grasp = Grasp(gripper=Grasp.PARALLEL, width=0.042, reasoning="the handle is free")
    grasp.pose.header.frame_id = "fr3_link0"
    grasp.pose.header.stamp = stamp
    grasp.pose.pose.position.x, grasp.pose.pose.position.y = 0.45, -0.125
    grasp.pose.pose.position.z = 0.031
    o = grasp.pose.pose.orientation
    o.x, o.y, o.z, o.w = 1.0, 0.0, 0.0, 0.0  # z down: a top-down grasp
    grasp.pose_camera.header.frame_id = "camera_color_optical_frame"
    grasp.pose_camera.pose.position.z = 0.62
    grasp.image = ImageGrasp(
        x=0.25, y=0.75, theta=-math.pi / 2, u=320.5, v=240.25, depth=math.nan, width_px=37.5
    )
    grasp.answer = "Grasp at [0.25, 0.75], angle -90 degrees. ü"
    grasp.spread_xy, grasp.spread_theta = 0.01, 0.05
    return grasp


def assert_same_grasp(got, sent):
    assert got.pose.header.frame_id == "fr3_link0"
    assert got.pose.header.stamp == sent.pose.header.stamp
    assert got.pose.pose == sent.pose.pose
    assert got.pose_camera == sent.pose_camera
    assert got.width == 0.042 and got.gripper == Grasp.PARALLEL
    for name in ("x", "y", "theta", "u", "v", "width_px"):
        assert getattr(got.image, name) == getattr(sent.image, name)
    assert math.isnan(got.image.depth)
    assert got.reasoning == sent.reasoning and got.answer == sent.answer
    assert (got.spread_xy, got.spread_theta) == (0.01, 0.05)


def test_plan_grasp_service_round_trip(ros_node, spin_until):
    server_node = rclpy.create_node("fake_grasp_planner")
    requests = []

    def plan(request, response):
        requests.append(request)
        response.success = True
        response.session_id = "s-1"
        response.grasp = filled_grasp(server_node.get_clock().now().to_msg())
        response.contact.up.z = 1.0
        response.contact.category = "drawer"
        response.timings.total = 1.5
        return response

    server_node.create_service(PlanGrasp, "plan_grasp", plan)
    executor = SingleThreadedExecutor()
    executor.add_node(server_node)
    executor.add_node(ros_node)
    try:
        client = ros_node.create_client(PlanGrasp, "plan_grasp")
        assert spin_until(executor, client.service_is_ready, 20), "service never appeared"
        req = PlanGrasp.Request(mode=PlanGrasp.Request.MODE_GRASP, instruction="pick the mug")
        req.samples, req.temperature = 5, 0.7
        req.decoding = PlanGrasp.Request.DECODING_CONSTRAINED
        req.image.height, req.image.width, req.image.encoding = 2, 3, "rgb8"
        req.image.step = 9
        req.image.data = bytes(range(18))
        req.camera_info.k = [600.0, 0.0, 320.0, 0.0, 600.0, 240.0, 0.0, 0.0, 1.0]
        future = client.call_async(req)
        assert spin_until(executor, future.done, 20), "no response"
        resp = future.result()
    finally:
        executor.shutdown()
        server_node.destroy_node()

    got = requests[0]
    assert got.instruction == "pick the mug" and got.samples == 5
    assert got.decoding == PlanGrasp.Request.DECODING_CONSTRAINED
    assert got.temperature == pytest.approx(0.7)
    assert bytes(got.image.data) == bytes(range(18)) and got.image.encoding == "rgb8"
    assert list(got.camera_info.k) == [600.0, 0.0, 320.0, 0.0, 600.0, 240.0, 0.0, 0.0, 1.0]
    assert resp.success and resp.session_id == "s-1"
    assert_same_grasp(resp.grasp, filled_grasp(resp.grasp.pose.header.stamp))
    assert resp.grasp.pose.header.stamp.sec > 0
    assert resp.contact.up.z == 1.0 and resp.contact.category == "drawer"
    assert resp.timings.total == 1.5


def test_execute_grasp_action_with_feedback(ros_node, spin_until):
    """The executor as a real server: its own executor thread, feedback while the goal runs."""
    server_node = rclpy.create_node("fake_grasp_executor")
    stages = ["open", "pre_grasp", "approach", "close", "lift", "hold"]
    goals = []
    feedback = []
    all_feedback_seen = threading.Event()

    def on_feedback(msg):
        feedback.append(msg)
        if len(feedback) == len(stages):
            all_feedback_seen.set()

    def execute(goal_handle):
        goals.append(goal_handle.request)
        for i, stage in enumerate(stages):
            msg = ExecuteGrasp.Feedback(stage=stage)
            msg.tcp_pose.header.frame_id = "fr3_link0"
            msg.tcp_pose.pose.position.z = 0.5 - 0.05 * i
            goal_handle.publish_feedback(msg)
            time.sleep(0.02)
        # rclpy's ActionClient drops feedback that arrives after the result: let it all arrive
        all_feedback_seen.wait(10)
        goal_handle.succeed()
        return ExecuteGrasp.Result(success=True, message="held for 1.0 s")

    server = ActionServer(server_node, ExecuteGrasp, "execute_grasp", execute)
    server_executor = SingleThreadedExecutor()
    server_executor.add_node(server_node)
    server_thread = threading.Thread(target=server_executor.spin, daemon=True)
    server_thread.start()
    client = ActionClient(ros_node, ExecuteGrasp, "execute_grasp")
    try:
        assert spin_until(ros_node, client.server_is_ready, 20), "action server never appeared"
        # feedback is volatile: wait until the feedback topic's endpoints have found each other
        topic = "/execute_grasp/_action/feedback"
        matched = lambda: ros_node.count_publishers(topic) and server_node.count_subscribers(topic)  # noqa: E731
        assert spin_until(ros_node, matched, 20), "feedback topic never matched"
        sent = filled_grasp(ros_node.get_clock().now().to_msg())
        goal = ExecuteGrasp.Goal(grasp=sent, lift_height=0.12, hold_time=2.0, release=True)
        send = client.send_goal_async(goal, feedback_callback=on_feedback)
        assert spin_until(ros_node, send.done, 20), "goal not answered"
        handle = send.result()
        assert handle.accepted
        result_future = handle.get_result_async()
        assert spin_until(ros_node, result_future.done, 20), "no result"
        result = result_future.result()
    finally:
        client.destroy()
        server_executor.shutdown()
        server_thread.join(10)
        server.destroy()
        server_node.destroy_node()

    assert_same_grasp(goals[0].grasp, sent)
    assert (goals[0].lift_height, goals[0].hold_time, goals[0].release) == (0.12, 2.0, True)
    assert [m.feedback.stage for m in feedback] == stages
    assert [m.feedback.tcp_pose.pose.position.z for m in feedback] == pytest.approx(
        [0.5 - 0.05 * i for i in range(len(stages))]
    )
    assert feedback[0].feedback.tcp_pose.header.frame_id == "fr3_link0"
    assert result.result.success and result.result.failure == ""
    assert result.result.message == "held for 1.0 s"


def test_latched_grasp_reaches_a_late_subscriber(ros_node, spin_until):
    """LATCHED (transient local, depth 1): the last planned grasp is there for late joiners."""
    pub_node = rclpy.create_node("latched_publisher")
    executor = SingleThreadedExecutor()
    executor.add_node(pub_node)
    executor.add_node(ros_node)
    try:
        publisher = pub_node.create_publisher(Grasp, "last_grasp", qos.LATCHED)
        old = filled_grasp(pub_node.get_clock().now().to_msg())
        old.reasoning = "an older grasp"
        publisher.publish(old)
        sent = filled_grasp(pub_node.get_clock().now().to_msg())
        publisher.publish(sent)  # depth 1: only this one is kept for late subscribers
        executor.spin_once(timeout_sec=0.2)
        received = []
        ros_node.create_subscription(Grasp, "last_grasp", received.append, qos.LATCHED)
        assert spin_until(executor, lambda: received, 20), "the latched grasp never arrived"
        executor.spin_once(timeout_sec=0.3)  # nothing else may come
    finally:
        executor.shutdown()
        pub_node.destroy_node()
    assert len(received) == 1
    assert_same_grasp(received[0], sent)


def test_qos_profiles():
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    assert qos.LATCHED.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert qos.LATCHED.reliability == ReliabilityPolicy.RELIABLE and qos.LATCHED.depth == 1
    assert qos.SENSOR_DATA.reliability == ReliabilityPolicy.BEST_EFFORT
    assert qos.STATE_READER.reliability == ReliabilityPolicy.BEST_EFFORT
    assert qos.COMMAND.reliability == ReliabilityPolicy.RELIABLE
