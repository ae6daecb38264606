"""The external wrench at the TCP: published by the sim as franka_ros2 does, read by RosMotion."""

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("mujoco")

from geometry_msgs.msg import PoseStamped, WrenchStamped  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from rt_grasp_ros.grasp.target import GripperKind  # noqa: E402
from rt_grasp_ros.ros import conversions as conv  # noqa: E402
from rt_grasp_ros.ros.motion_client import RosMotion  # noqa: E402
from rt_grasp_ros.ros.qos import COMMAND, STATE_READER  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_pressing_on_the_table_shows_in_the_sims_external_wrench(start_node, ros_node, spin_until):
    start_node("sim", "-p", "camera_rate:=0.0", "-p", "seed:=3")
    wrenches, poses = [], []
    ros_node.create_subscription(WrenchStamped, "external_wrench", wrenches.append, STATE_READER)
    ros_node.create_subscription(PoseStamped, "current_pose", poses.append, STATE_READER)
    assert spin_until(ros_node, lambda: poses and wrenches, 30.0), "no state from the sim"
    free = conv.wrench_from_msg(wrenches[-1])
    assert wrenches[-1].header.frame_id == "panda_link0"
    assert np.linalg.norm(free[:3]) < 5.0  # in free space nothing pushes on the hand
    # a target 3 cm under the table beside the object: the fingers press on the table
    here = conv.pose_from_msg(poses[-1].pose)
    down = here.translated([0.0, 0.25, -here.position[2] - 0.03])
    target = ros_node.create_publisher(PoseStamped, "target_pose", COMMAND)
    msg = conv.pose_stamped_to_msg(down, "panda_link0")

    def pressing():
        target.publish(msg)
        return conv.wrench_from_msg(wrenches[-1])[2] > 10.0

    assert spin_until(ros_node, pressing, 30.0), conv.wrench_from_msg(wrenches[-1])


def test_ros_motion_reads_the_external_wrench_in_the_base_frame(ros_node, spin_until):
    robot = rclpy.create_node("wrench_source")
    pub = robot.create_publisher(WrenchStamped, "external_wrench", COMMAND)
    motion = RosMotion(
        ros_node,
        GripperKind.PARALLEL,
        "panda_link0",
        100.0,
        "franka_gripper/gripper_action",
        "vacuum_gripper/vacuum",
        ["panda_finger_joint1", "panda_finger_joint2"],
    )
    executor = SingleThreadedExecutor()
    executor.add_node(ros_node)
    executor.add_node(robot)
    try:
        assert np.all(motion.wrench() == 0.0)  # nothing measured yet
        wrench = [1.0, -2.0, 12.5, 0.1, 0.2, -0.3]

        def arrived(frame="panda_link0"):
            pub.publish(conv.wrench_to_msg(wrench, frame))
            return np.allclose(motion.wrench(), wrench)

        assert spin_until(executor, arrived, 10.0)
        other = [9.0] * 6
        for _ in range(20):  # a wrench in another frame is refused, not mixed in
            pub.publish(conv.wrench_to_msg(other, "fr3_link0"))
            executor.spin_once(timeout_sec=0.05)
        assert np.allclose(motion.wrench(), wrench)
    finally:
        motion.close()
        executor.shutdown()
        robot.destroy_node()
