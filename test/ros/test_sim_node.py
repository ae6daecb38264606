"""The sim node's physics thread: a failure stops the node loudly; waits on physics are bounded.

The fault is real MuJoCo-side code failing inside the physics thread, injected through the
documented seam ``rt_grasp_ros.sim.embedded.physics_fault`` (no mock of rclpy): the node runs
as a process from a small script that sets the seam, then calls ``rt_grasp_ros.ros.sim.main``.
The fault arms when a file appears, so a test first sees the node work, then fail.
"""

import re
import sys
import textwrap
import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("mujoco")

from rt_grasp.srv import GetSceneGrasps, ResetScene  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.xdist_group("ros_stack")]

FAULTY_SIM = textwrap.dedent(
    """
    import os, sys, time
    from rt_grasp_ros.sim import embedded

    ARM, MODE = sys.argv[1], sys.argv[2]

    def fault(now):
        if os.path.exists(ARM):
            if MODE == "raise":
                raise FloatingPointError(f"injected: the physics diverged at t={now:.2f} s")
            time.sleep(3600)  # a renderer or a step that never returns

    embedded.physics_fault = fault
    from rt_grasp_ros.ros.sim import main
    sys.exit(main(sys.argv))
    """
)


def faulty_sim(start_node, tmp_path, mode, *ros_args):
    script = tmp_path / "faulty_sim.py"
    script.write_text(FAULTY_SIM)
    arm = tmp_path / "arm"
    cmd = [sys.executable, script, arm, mode, "--ros-args", "-p", "camera_rate:=2.0", *ros_args]
    return start_node("sim", cmd=cmd, timeout=60.0), arm


def call(node, client, request, spin_until, timeout=30.0):
    assert client.wait_for_service(timeout_sec=30.0), client.srv_name
    future = client.call_async(request)
    assert spin_until(node, future.done, timeout), f"{client.srv_name} did not answer"
    return future.result()


def wait_exit(proc, timeout):
    deadline = time.monotonic() + timeout
    while proc.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc.proc.poll(), time.time()


def fatal_time(output):
    """The ROS log time stamp (s, wall clock) of the node's 'physics failed' line."""
    found = re.search(r"\[FATAL\] \[(\d+\.\d+)\] \[sim\]: physics failed", output)
    assert found, output
    return float(found.group(1))


def test_an_exception_in_the_physics_thread_stops_the_node_with_status_1(
    start_node, ros_node, spin_until, tmp_path
):
    proc, arm = faulty_sim(start_node, tmp_path, "raise")
    truth = ros_node.create_client(GetSceneGrasps, "sim/scene_grasps")
    assert call(ros_node, truth, GetSceneGrasps.Request(object="obj0"), spin_until).success
    arm.touch()
    code, exited = wait_exit(proc, 20.0)
    output = proc.output()
    assert code == 1, f"exit status {code}\n{output}"
    assert "physics failed: FloatingPointError: injected: the physics diverged" in output
    assert "Traceback" in output and "in advance_to" in output  # the traceback's cause
    latency = exited - fatal_time(output)
    assert latency < 5.0, f"{latency:.2f} s from the failure to the exit"
    print(f"physics failure -> exit: {latency:.2f} s")


def test_a_stuck_physics_thread_bounds_the_calls_and_stops_the_node(
    start_node, ros_node, spin_until, tmp_path
):
    proc, arm = faulty_sim(start_node, tmp_path, "hang", "-p", "physics_timeout:=3.0")
    reset = ros_node.create_client(ResetScene, "sim/reset")
    ok = call(ros_node, reset, ResetScene.Request(seed=2, n_objects=1), spin_until)
    assert ok.success, ok.message  # the node works before the fault
    arm.touch()
    time.sleep(0.3)  # the thread is stuck in its step, holding the scene
    sent = time.monotonic()
    response = call(ros_node, reset, ResetScene.Request(seed=3, n_objects=1), spin_until)
    waited = time.monotonic() - sent
    assert not response.success
    # the call's own bound or the watchdog's verdict, whichever comes first: both name it
    assert "physics_timeout=3 s" in response.message, response.message
    assert waited < 3.0 + 2.0, f"the reset answered after {waited:.1f} s"
    code, _ = wait_exit(proc, 15.0)
    output = proc.output()
    assert code == 1, f"exit status {code}\n{output}"
    assert "made no step for" in output
    print(f"stuck physics: reset answered after {waited:.2f} s")


def test_a_bad_physics_timeout_names_itself_and_exits_2(start_node):
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("sim", "-p", "physics_timeout:=0.0", timeout=60)
    message = str(info.value)
    assert "physics_timeout=0.0" in message and "exit status 2" in message


def test_ctrl_c_ends_a_goal_waiting_on_physics_and_the_node_exits_0(
    start_node, ros_node, spin_until
):
    from rclpy.action import ActionClient
    from rt_grasp.action import Vacuum

    proc = start_node("sim", "-p", "gripper:=suction", "-p", "camera_rate:=0.0", timeout=60.0)
    client = ActionClient(ros_node, Vacuum, "vacuum_gripper/vacuum")
    assert client.wait_for_server(timeout_sec=30.0)
    # nothing under the cup: the goal waits its 600 sim-s for a part that never seals
    future = client.send_goal_async(Vacuum.Goal(command=Vacuum.Goal.VACUUM, timeout=600.0))
    assert spin_until(ros_node, future.done, 30.0) and future.result().accepted
    result = future.result().get_result_async()
    spin_until(ros_node, lambda: False, 0.5)
    assert not result.done()
    start = time.monotonic()
    status = proc.stop(timeout=10.0)
    took = time.monotonic() - start
    output = proc.output()
    assert status == 0 and not proc.killed, f"exit status {status}\n{output}"
    assert took < 5.0, f"the sim took {took:.1f} s to stop\n{output}"
    print(f"Ctrl-C with a goal waiting on physics -> exit: {took:.2f} s")
