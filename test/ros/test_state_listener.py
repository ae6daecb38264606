"""The robot's control-rate state is read on a node and thread of its own, not the owner's."""

import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from geometry_msgs.msg import PoseStamped  # noqa: E402

from rt_grasp_ros.grasp.target import GripperKind  # noqa: E402
from rt_grasp_ros.ros import conversions as conv  # noqa: E402
from rt_grasp_ros.ros.motion_client import RosMotion  # noqa: E402
from rt_grasp_ros.ros.qos import COMMAND  # noqa: E402
from rt_grasp_ros.transforms import Pose  # noqa: E402

pytestmark = [pytest.mark.ros]


def test_state_at_1_khz_reaches_ros_motion_without_the_owner_node_being_spun(ros_node):
    owner = rclpy.create_node("owner_never_spun")
    motion = RosMotion(
        owner,
        GripperKind.PARALLEL,
        "panda_link0",
        100.0,
        "franka_gripper/gripper_action",
        "vacuum_gripper/vacuum",
        ["panda_finger_joint1", "panda_finger_joint2"],
    )
    pub = ros_node.create_publisher(PoseStamped, "current_pose", COMMAND)
    stop = threading.Event()

    def robot():  # a robot publishing its pose at 1 kHz
        while not stop.is_set():
            pub.publish(conv.pose_stamped_to_msg(Pose(), "panda_link0"))
            time.sleep(0.001)

    thread = threading.Thread(target=robot, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20.0
        while not motion.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert motion.ready(), "no current_pose reached RosMotion"
        # nothing on the owner's node wakes at the control rate
        topics = {s.topic_name for s in owner.subscriptions}
        assert not topics & {"/current_pose", "/joint_states", "/external_wrench"}, topics
    finally:
        stop.set()
        thread.join(1.0)
        started = time.monotonic()
        motion.close()
        assert time.monotonic() - started < 2.0  # the listener's thread ends at once
        assert not motion.state._thread.is_alive()
        owner.destroy_node()
