"""The ROS 2 stack for real: sim, camera, planner and executor nodes as processes over DDS."""

import math
import signal
import subprocess
import sys
import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("mujoco")
pytest.importorskip("transformers")

from rclpy.action import ActionClient  # noqa: E402
from rt_grasp.action import ExecuteGrasp  # noqa: E402
from rt_grasp.msg import Grasp  # noqa: E402
from rt_grasp.srv import GetPartState, GetSceneGrasps, PlanGrasp, ResetScene  # noqa: E402
from sensor_msgs.msg import CameraInfo  # noqa: E402

from rt_grasp_ros.ros import qos  # noqa: E402

pytestmark = [pytest.mark.xdist_group("ros_stack"), pytest.mark.ros, pytest.mark.slow]

SIM_TIME = ("-p", "use_sim_time:=true")


def call(node, client, request, spin_until, timeout=60.0):
    assert client.wait_for_service(timeout_sec=30.0), client.srv_name
    future = client.call_async(request)
    assert spin_until(node, future.done, timeout), f"{client.srv_name} did not answer"
    return future.result()


def run_goal(node, client, goal, spin_until, timeout=90.0):
    assert client.wait_for_server(timeout_sec=30.0)
    stages = []
    sent = client.send_goal_async(
        goal, feedback_callback=lambda f: stages.append(f.feedback.stage)
    )
    assert spin_until(node, sent.done, 20.0)
    handle = sent.result()
    assert handle.accepted
    result = handle.get_result_async()
    assert spin_until(node, result.done, timeout), f"no result; stages so far {stages}"
    return result.result().result, stages


@pytest.mark.parametrize("gripper", ["parallel", "suction"])
def test_a_ground_truth_grasp_through_execute_grasp_lifts_the_object(
    gripper, start_node, ros_node, spin_until
):
    start_node("sim", "-p", f"gripper:={gripper}", "-p", "seed:=3", "-p", "camera_rate:=0.0")
    start_node("grasp_executor", "-p", f"gripper:={gripper}", *SIM_TIME)
    truth = ros_node.create_client(GetSceneGrasps, "sim/scene_grasps")
    response = call(ros_node, truth, GetSceneGrasps.Request(object="obj0"), spin_until)
    assert response.success and response.grasps, response.message
    grasp = response.grasps[0]
    assert grasp.pose.header.frame_id == "panda_link0"
    assert grasp.gripper == (Grasp.PARALLEL if gripper == "parallel" else Grasp.SUCTION)
    client = ActionClient(ros_node, ExecuteGrasp, "execute_grasp")
    result, stages = run_goal(ros_node, client, ExecuteGrasp.Goal(grasp=grasp), spin_until)
    assert result.success, f"{result.failure}: {result.message}"
    assert stages[:3] == ["open", "pre_grasp", "approach"] and stages[-1] == "hold"


def test_bad_goals_are_rejected_and_never_move(start_node, ros_node, spin_until):
    sim = start_node("sim", "-p", "camera_rate:=0.0")
    executor = start_node("grasp_executor", *SIM_TIME)
    client = ActionClient(ros_node, ExecuteGrasp, "execute_grasp")
    assert client.wait_for_server(timeout_sec=30.0)
    far = Grasp(gripper=Grasp.PARALLEL, width=0.04)
    far.pose.header.frame_id = "panda_link0"
    far.pose.pose.position.x, far.pose.pose.orientation.w = 1.5, 1.0
    wrong = Grasp(gripper=Grasp.PARALLEL)
    wrong.pose.header.frame_id = "camera_color_optical_frame"
    wrong.pose.pose.orientation.w = 1.0
    for grasp, why in ((far, "outside_workspace"), (wrong, "frame")):
        sent = client.send_goal_async(ExecuteGrasp.Goal(grasp=grasp))
        assert spin_until(ros_node, sent.done, 20.0)
        assert not sent.result().accepted
        assert executor.wait_for_output(why, timeout=5.0), executor.output()
    assert sim.running()
    part = ros_node.create_client(GetPartState, "sim/part_state")
    state = call(ros_node, part, GetPartState.Request(), spin_until)
    assert not state.success and "articulated" in state.message
    reset = ros_node.create_client(ResetScene, "sim/reset")
    bad = call(ros_node, reset, ResetScene.Request(categories=["teapot"]), spin_until)
    assert not bad.success and "teapot" in bad.message


def test_plan_grasp_answers_from_the_sim_camera_crop(tiny_model, start_node, ros_node, spin_until):
    from rt_grasp_ros.ros.stack import sim_camera_extrinsic

    extrinsic = "[" + ",".join(str(v) for v in sim_camera_extrinsic()) + "]"
    start_node("sim", "-p", "seed:=4", "-p", "camera_rate:=5.0")
    start_node("camera", "-p", f"camera_extrinsic:={extrinsic}", *SIM_TIME)
    info = []
    ros_node.create_subscription(CameraInfo, "crop/camera_info", info.append, qos.SENSOR_DATA)
    assert spin_until(ros_node, lambda: bool(info), 30.0), "no crop arrived"
    # The object-centred square inside the 400x400 workspace at (120, 40).
    side, x0, y0 = info[0].width, info[0].roi.x_offset, info[0].roi.y_offset
    assert info[0].height == side and 120 <= side <= 400
    assert (info[0].roi.width, info[0].roi.height) == (side, side)
    assert 120 <= x0 <= 520 - side and 40 <= y0 <= 440 - side
    assert info[0].k[2] == pytest.approx(320.0 - 0.5 - x0)  # pixel centres at integers
    start_node(
        "grasp_planner",
        "-p",
        f"model:={tiny_model}",
        "-p",
        f"camera_extrinsic:={extrinsic}",
        *SIM_TIME,
    )
    client = ros_node.create_client(PlanGrasp, "plan_grasp")
    # /plan_grasp is advertised once the model has loaded: wait_for_service, then one call
    # with only an instruction (DECODING_DEFAULT: the node's constrained decoding)
    assert client.wait_for_service(timeout_sec=90.0), "/plan_grasp never appeared"
    request = PlanGrasp.Request(instruction="pick up the object")
    response = call(ros_node, client, request, spin_until, timeout=90.0)
    assert response.success, response.message
    g = response.grasp
    assert g.answer and g.pose.header.frame_id == "panda_link0"
    assert g.pose_camera.header.frame_id == "camera_color_optical_frame"
    assert 120 <= g.image.u <= 520 and 40 <= g.image.v <= 440  # full-image pixel of the crop
    assert 0.0 <= g.pose.pose.position.z < 0.3  # on the table, below the camera
    # The camera-frame pose is the same pose: base_from_camera @ pose_camera == pose.
    from rt_grasp_ros.ros.conversions import pose_from_msg
    from rt_grasp_ros.transforms import Pose

    mount = Pose.from_position_quat(sim_camera_extrinsic()[:3], sim_camera_extrinsic()[3:])
    in_base = mount @ pose_from_msg(g.pose_camera.pose)
    assert in_base.position == pytest.approx(pose_from_msg(g.pose.pose).position, abs=1e-6)
    q = g.pose.pose.orientation
    assert math.isclose(q.x**2 + q.y**2 + q.z**2 + q.w**2, 1.0, rel_tol=1e-6)
    assert response.timings.total > 0 and response.session_id
    follow = PlanGrasp.Request(
        session_id=response.session_id,
        follow_up="a bit to the left",
        decoding=PlanGrasp.Request.DECODING_CONSTRAINED,
    )
    refined = call(ros_node, client, follow, spin_until, timeout=90.0)
    assert refined.session_id == response.session_id and refined.grasp.answer
    unknown = call(
        ros_node, client, PlanGrasp.Request(session_id="nope", follow_up="left"), spin_until
    )
    assert not unknown.success and "unknown" in unknown.message


def test_plan_grasp_without_a_crop_or_model_says_why(start_node, ros_node, spin_until, tmp_path):
    from rt_grasp_ros.ros.stack import sim_camera_extrinsic

    extrinsic = "[" + ",".join(str(v) for v in sim_camera_extrinsic()) + "]"
    start_node(
        "grasp_planner",
        "-p",
        f"camera_extrinsic:={extrinsic}",
        "-p",
        f"model:={tmp_path / 'missing'}",
    )
    client = ros_node.create_client(PlanGrasp, "plan_grasp")
    response = call(ros_node, client, PlanGrasp.Request(instruction="pick"), spin_until)
    assert not response.success and "failed to load" in response.message
    assert "missing" in response.message  # the cause names the folder


def test_rt_grasp_ros_up_starts_the_stack_and_stops_it_on_ctrl_c(ros_domain, ros_node, tmp_path):
    log = open(tmp_path / "up.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "rt_grasp_ros.cli.main", "ros", "up", "sim:=true"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60.0
        wanted = {"sim", "camera", "grasp_executor"}
        names = set()
        while time.monotonic() < deadline and not wanted <= names:
            names = {n for n, _ in ros_node.get_node_names_and_namespaces()}
            time.sleep(0.5)
        assert wanted <= names, (tmp_path / "up.log").read_text()[-3000:]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        log.close()
    text = (tmp_path / "up.log").read_text()
    assert code == 0, text[-3000:]
    assert "all nodes stopped" in text


def test_a_bad_camera_parameter_names_itself_and_exits_2(start_node):
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("camera", "-p", "object_min_height:=0.5", timeout=30)
    message = str(info.value)
    assert "object_min_height=0.5" in message and "exit status 2" in message
