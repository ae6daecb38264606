"""
The Motion protocol over ROS: the executor's view of any robot that speaks the interfaces.

Targets go to the Cartesian impedance controller (``target_pose``), the measured TCP pose comes
from ``current_pose``, the gripper is a GripperCommand action and the vacuum the Vacuum action.
Time is the node's clock (simulated time under ``use_sim_time``), so a slow simulator slows the
skill down instead of making it fail.
"""

import threading
import time

from geometry_msgs.msg import PoseStamped
import numpy as np
from rclpy.action import ActionClient
from rclpy.duration import Duration
from rt_grasp.action import Vacuum
from rt_grasp.msg import VacuumState
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.interfaces import gripper_command_action
from rt_grasp_ros.ros.qos import COMMAND, STATE_READER
from rt_grasp_ros.skills.motion import GripperStatus, Tolerance
from rt_grasp_ros.transforms import Pose
from sensor_msgs.msg import JointState

MIN_GRASP_WIDTH = 0.002  # fingers closer than this hold nothing


class RosMotion:
    """Implements :class:`~rt_grasp_ros.skills.motion.Motion` with topics and actions."""

    def __init__(self, node, gripper_kind, base_frame, rate, gripper_action, vacuum_action,
                 finger_joints, callback_group=None):
        self.node, self.gripper_kind, self.base_frame = node, gripper_kind, base_frame
        self.period = 1.0 / rate
        self.finger_joints = tuple(finger_joints)
        self._lock = threading.Lock()
        self._pose = self._prev = None
        self._speed = 0.0
        self._target = None
        self._width = 0.0
        self._closed = False
        self._vacuum = VacuumState()
        self.pub_target = node.create_publisher(PoseStamped, 'target_pose', COMMAND)
        node.create_subscription(PoseStamped, 'current_pose', self._on_pose, STATE_READER,
                                 callback_group=callback_group)
        node.create_subscription(JointState, 'joint_states', self._on_joints, STATE_READER,
                                 callback_group=callback_group)
        node.create_subscription(VacuumState, 'vacuum_gripper/state', self._on_vacuum,
                                 STATE_READER, callback_group=callback_group)
        self.gripper_type = gripper_command_action()
        self.gripper = ActionClient(node, self.gripper_type, gripper_action,
                                    callback_group=callback_group)
        self.vacuum = ActionClient(node, Vacuum, vacuum_action, callback_group=callback_group)

    # -- state from topics ------------------------------------------------------------------

    def _on_pose(self, msg):
        pose = conv.pose_from_msg(msg.pose)
        t = conv.stamp_to_sec(msg.header.stamp)
        with self._lock:
            if self._prev is not None and t > self._prev[0]:
                self._speed = float(np.linalg.norm(pose.position - self._prev[1].position)
                                    / (t - self._prev[0]))
            self._prev, self._pose = (t, pose), pose
            if self._target is None:
                self._target = pose

    def _on_joints(self, msg):
        pairs = zip(msg.name, msg.position, strict=True)
        width = sum(p for n, p in pairs if n in self.finger_joints)
        with self._lock:
            self._width = float(width)

    def _on_vacuum(self, msg):
        with self._lock:
            self._vacuum = msg

    def ready(self) -> bool:
        """Whether a measured TCP pose arrived."""
        with self._lock:
            return self._pose is not None

    def sync(self, timeout: float = 5.0) -> bool:
        """
        Start from where the robot is: the next measured pose becomes the target.

        Call before a new task: the robot may have been moved or reset since the last one.
        Returns False if no new pose came within ``timeout`` wall-clock seconds.
        """
        with self._lock:
            last = self._prev[0] if self._prev else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._prev is not None and self._prev[0] != last:
                    self._target = self._pose
                    return True
            time.sleep(0.01)
        return False

    # -- Motion -----------------------------------------------------------------------------

    @property
    def control_period(self):
        """Seconds between streamed targets."""
        return self.period

    def now(self):
        """Return the node's clock (s)."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def wait(self, seconds):
        """Sleep on the node's clock (simulated time under use_sim_time)."""
        self.node.get_clock().sleep_for(Duration(nanoseconds=int(seconds * 1e9)))

    def tcp_pose(self) -> Pose:
        """Return the last measured TCP pose."""
        with self._lock:
            return self._pose

    def target_pose(self) -> Pose:
        """Return the last target sent (the measured pose before any)."""
        with self._lock:
            return self._target

    def wrench(self):
        """Return zeros: this client does not read the external wrench yet."""
        return np.zeros(6)

    def check_target(self, pose):
        """No IK over ROS: the controller clamps what it cannot reach; nothing to check."""

    def set_target(self, pose):
        """Publish a new target pose."""
        with self._lock:
            self._target = pose
        self.pub_target.publish(conv.pose_stamped_to_msg(pose, self.base_frame))

    def reached(self, tolerance: Tolerance) -> bool:
        """Within ``tolerance`` of the target, and the TCP slower than tolerance.speed m/s."""
        with self._lock:
            if self._pose is None or self._target is None:
                return False
            pos_err, rot_err = self._pose.distance_to(self._target)
            return (pos_err < tolerance.position and rot_err < tolerance.rotation
                    and self._speed < tolerance.speed)

    def open_gripper(self):
        """Open fully, or drop the part off."""
        with self._lock:
            self._closed = False
        if self.gripper_kind is GripperKind.SUCTION:
            self._send_vacuum(Vacuum.Goal.DROP_OFF)
        else:
            self._send_gripper(0.04, 0.0)  # position is half the width (franka_gripper)

    def close_gripper(self, width, force):
        """Grasp with ``force`` towards ``width``, or build up the vacuum."""
        with self._lock:
            self._closed = True
        if self.gripper_kind is GripperKind.SUCTION:
            self._send_vacuum(Vacuum.Goal.VACUUM)
        else:
            self._send_gripper(width / 2, force)

    def gripper_status(self) -> GripperStatus:
        """Width from the finger joints; grasped = closed on something (or part present)."""
        with self._lock:
            if self.gripper_kind is GripperKind.SUCTION:
                return GripperStatus(0.0, bool(self._vacuum.part_present),
                                     self._vacuum.actual_power > 0)
            return GripperStatus(self._width, self._closed and self._width > MIN_GRASP_WIDTH)

    def _send_gripper(self, position, effort):
        goal = self.gripper_type.Goal()
        goal.command.position, goal.command.max_effort = float(position), float(effort)
        self.gripper.send_goal_async(goal)

    def _send_vacuum(self, command):
        self.vacuum.send_goal_async(Vacuum.Goal(command=command, timeout=1.0))
