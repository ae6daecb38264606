"""The vacuum_gripper node over DDS, driving the Cobot Pump protocol server of the tests."""

import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("panda_py", reason="panda-python is missing: `make setup` installs it")

from rclpy.action import ActionClient  # noqa: E402
from robot import sim_servers  # noqa: E402
from rt_grasp.action import Vacuum  # noqa: E402
from rt_grasp.msg import VacuumState  # noqa: E402

from rt_grasp_ros.ros.qos import STATE_READER  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.xdist_group("cobot_pump")]


@pytest.fixture
def pump(tmp_path, start_node, ros_node):
    host = sim_servers.free_loopback()
    server = sim_servers.start_pump(host, tmp_path / "pump.log")
    for line in ("part 1", "lose none", "answer 1"):
        server.say(line)
    node = start_node("vacuum_gripper", "-p", f"robot_ip:={host}", timeout=60.0)
    client = ActionClient(ros_node, Vacuum, "vacuum_gripper/vacuum")
    assert client.wait_for_server(timeout_sec=30.0)
    yield server, node, client
    server.stop()


def run(ros_node, client, goal, spin_until, timeout=20.0):
    sent = client.send_goal_async(goal)
    assert spin_until(ros_node, sent.done, 10.0)
    handle = sent.result()
    if not handle.accepted:
        return None
    result = handle.get_result_async()
    assert spin_until(ros_node, result.done, timeout), "no result"
    return result.result().result


def test_vacuum_then_drop_off_through_the_action_and_the_state_topic(pump, ros_node, spin_until):
    server, _, client = pump
    states = []
    ros_node.create_subscription(VacuumState, "vacuum_gripper/state", states.append, STATE_READER)
    sealed = run(
        ros_node, client, Vacuum.Goal(command=Vacuum.Goal.VACUUM, timeout=0.5), spin_until
    )
    assert sealed.success and sealed.state.part_present, sealed.message
    assert spin_until(ros_node, lambda: states and states[-1].part_present, 10.0)
    dropped = run(
        ros_node, client, Vacuum.Goal(command=Vacuum.Goal.DROP_OFF, timeout=0.5), spin_until
    )
    assert dropped.success and not dropped.state.part_present, dropped.message
    server.say("part 0")
    missed = run(
        ros_node, client, Vacuum.Goal(command=Vacuum.Goal.VACUUM, timeout=0.3), spin_until
    )
    assert not missed.success and not missed.state.part_present


def test_bad_goals_are_rejected_and_a_silent_pump_is_bounded(pump, ros_node, spin_until):
    server, node, client = pump
    assert run(ros_node, client, Vacuum.Goal(command=7), spin_until) is None
    assert run(ros_node, client, Vacuum.Goal(command=0, timeout=-1.0), spin_until) is None
    assert node.wait_for_output("rejected", timeout=5.0), node.output()
    server.say("answer 0")  # the pump takes the command and never answers
    t0 = time.monotonic()
    result = run(
        ros_node,
        client,
        Vacuum.Goal(command=Vacuum.Goal.VACUUM, timeout=0.3),
        spin_until,
        timeout=15.0,
    )
    assert not result.success and result.message, "a silent pump must fail with a message"
    assert time.monotonic() - t0 < 0.3 + 2.0 + 3.0  # timeout + call_margin + CI's load
