"""
The Motion protocol over ROS: the executor's view of any robot that speaks the interfaces.

Targets go to the Cartesian impedance controller (``target_pose``), the measured TCP pose comes
from ``current_pose``, the gripper is a GripperCommand action and the vacuum the Vacuum action.
Time is the node's clock (simulated time under ``use_sim_time``), so a slow simulator slows the
skill down instead of making it fail.

Every wait is bounded by the wall clock (:class:`MotionBounds`): a robot clock that stands
still, a robot that stops publishing its pose, a gripper or vacuum server that is missing or
does not answer each raise (RobotTimeoutError, GripperError), and a cancel request ends a wait
within a few milliseconds.

``target_mode`` says what the controller takes: ``stream`` (a pose, as franka_ros2's and
crisp_controllers' Cartesian impedance controllers) streams each target of a path at the
control rate; ``trajectory`` (the sim) hands the whole path over as one
``trajectory_msgs/MultiDOFJointTrajectory`` on ``target_trajectory`` and the controller
interpolates it, so the simulator can run faster than real time.
"""

from dataclasses import dataclass
import threading
import time

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped, WrenchStamped
import numpy as np
from rclpy.action import ActionClient
from rt_grasp.action import Vacuum
from rt_grasp.msg import VacuumState
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.interfaces import gripper_command_action
from rt_grasp_ros.ros.qos import COMMAND, STATE_READER
from rt_grasp_ros.ros.state_listener import StateListener
from rt_grasp_ros.skills.motion import (
    CancelledError,
    GripperError,
    GripperStatus,
    hold_here,
    RobotTimeoutError,
    stream,
    Tolerance,
    UnreachableError,
)
from rt_grasp_ros.transforms import Pose
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import MultiDOFJointTrajectory

MIN_GRASP_WIDTH = 0.002  # fingers closer than this hold nothing
TARGET_MODES = ('stream', 'trajectory')
POLL = 0.005  # s between checks while waiting on the robot clock (cancel latency <= this)


@dataclass(frozen=True)
class MotionBounds:
    """
    Wall-clock bounds on everything the executor waits for (s).

    ``clock_timeout``: the robot's clock may stand still this long during a wait;
    ``state_timeout``: the longest gap between two measured TCP poses during a wait;
    ``server_timeout``: how long a gripper or vacuum action server may take to appear;
    ``result_timeout``: how long a gripper or vacuum command may take to report its result.
    """

    clock_timeout: float = 5.0
    state_timeout: float = 5.0
    server_timeout: float = 2.0
    result_timeout: float = 10.0

    def __post_init__(self):
        for name in ('clock_timeout', 'state_timeout', 'server_timeout', 'result_timeout'):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ConfigError(f'MotionBounds.{name} must be a number > 0 s, got {value}')


class _ToolCommand:
    """One gripper or vacuum goal in flight: its handle, then its result."""

    def __init__(self, what, goal_future):
        self.what, self.goal_future, self.sent = what, goal_future, time.monotonic()
        self.result_future = None

    def check(self, timeout):
        """Raise GripperError if it was rejected, aborted or is overdue; return its result."""
        if self.result_future is None and self.goal_future.done():
            handle = self.goal_future.result()
            if handle is None or not handle.accepted:
                raise GripperError(f'the {self.what} server rejected the command')
            self.result_future = handle.get_result_async()
        if self.result_future is not None and self.result_future.done():
            response = self.result_future.result()
            if response.status == GoalStatus.STATUS_ABORTED:
                message = getattr(response.result, 'message', '')
                raise GripperError(f'the {self.what} command was aborted {message}'.strip())
            return response.result
        if time.monotonic() - self.sent > timeout:
            raise GripperError(f'the {self.what} command reported no result within {timeout} s')
        return None


class RosMotion:
    """Implements :class:`~rt_grasp_ros.skills.motion.Motion` with topics and actions."""

    def __init__(self, node, gripper_kind, base_frame, rate, gripper_action, vacuum_action,
                 finger_joints, target_mode='stream', bounds=None, callback_group=None):
        if target_mode not in TARGET_MODES:
            raise ConfigError(f'target_mode {target_mode!r} must be one of {TARGET_MODES}')
        self.node, self.gripper_kind, self.base_frame = node, gripper_kind, base_frame
        self.period = 1.0 / rate
        self.finger_joints = tuple(finger_joints)
        self.target_mode = target_mode
        self.bounds = bounds or MotionBounds()
        self.cancelled = None
        self._lock = threading.Lock()
        self._pose = self._prev = None
        self._pose_wall = 0.0
        self._speed = 0.0
        self._target = None
        self._width = 0.0
        self._closed = False
        self._tool = None
        self._vacuum = VacuumState()
        self._refused = None  # a target of this task the robot refused (target_refused)
        self._since = 0.0  # node clock at sync(): refusals of older targets are stale
        self.pub_target = node.create_publisher(PoseStamped, 'target_pose', COMMAND)
        self.pub_path = node.create_publisher(MultiDOFJointTrajectory, 'target_trajectory',
                                              COMMAND)
        # the control-rate state on a node and thread of its own (see state_listener)
        self.state = StateListener(node)
        self.state.subscribe(PoseStamped, 'current_pose', self._on_pose, STATE_READER)
        self.state.subscribe(JointState, 'joint_states', self._on_joints, STATE_READER)
        self._wrench = np.zeros(6)
        self.state.subscribe(WrenchStamped, 'external_wrench', self._on_wrench, STATE_READER)
        self.state.subscribe(VacuumState, 'vacuum_gripper/state', self._on_vacuum, STATE_READER)
        # A driver that checks reachability (the franka node) echoes a target it refused.
        node.create_subscription(PoseStamped, 'target_refused', self._on_refused, COMMAND,
                                 callback_group=callback_group)
        self.gripper_type = gripper_command_action()
        self.names = {'gripper': gripper_action, 'vacuum': vacuum_action}
        self.gripper = ActionClient(node, self.gripper_type, gripper_action,
                                    callback_group=callback_group)
        self.vacuum = ActionClient(node, Vacuum, vacuum_action, callback_group=callback_group)

    def close(self) -> None:
        """Stop the state listener's thread and destroy its node."""
        self.state.destroy()

    # -- state from topics ------------------------------------------------------------------

    def _on_pose(self, msg):
        pose = conv.pose_from_msg(msg.pose)
        t = conv.stamp_to_sec(msg.header.stamp)
        with self._lock:
            if self._prev is not None and t > self._prev[0]:
                self._speed = float(np.linalg.norm(pose.position - self._prev[1].position)
                                    / (t - self._prev[0]))
            self._prev, self._pose = (t, pose), pose
            self._pose_wall = time.monotonic()
            if self._target is None:
                self._target = pose

    def _on_joints(self, msg):
        pairs = zip(msg.name, msg.position, strict=True)
        width = sum(p for n, p in pairs if n in self.finger_joints)
        with self._lock:
            self._width = float(width)

    def _on_wrench(self, msg):
        if msg.header.frame_id and msg.header.frame_id != self.base_frame:
            self.node.get_logger().error(
                f'external_wrench in frame {msg.header.frame_id!r} ignored: expected '
                f'{self.base_frame!r}', throttle_duration_sec=5.0)
            return
        with self._lock:
            self._wrench = conv.wrench_from_msg(msg)

    def _on_vacuum(self, msg):
        with self._lock:
            self._vacuum = msg

    def _on_refused(self, msg):
        position = msg.pose.position
        with self._lock:
            if conv.stamp_to_sec(msg.header.stamp) >= self._since:
                self._refused = [round(position.x, 3), round(position.y, 3), round(position.z, 3)]

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
            self._tool = None
            self._refused = None
            self._since = self.now()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._prev is not None and self._prev[0] != last:
                    self._target = self._pose
                    return True
            time.sleep(0.01)
        return False

    # -- Motion: time -----------------------------------------------------------------------

    @property
    def control_period(self):
        """Seconds between streamed targets (and between a path's samples)."""
        return self.period

    def now(self):
        """Return the node's clock (s)."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def wait(self, seconds):
        """
        Let ``seconds`` pass on the node's clock (simulated time under use_sim_time).

        Raises CancelledError when the goal's cancel check (``self.cancelled``) becomes true,
        RobotTimeoutError when the clock stands still, or no TCP pose comes, for too long.
        """
        end = self.now() + seconds
        last, changed = self.now(), time.monotonic()
        while True:
            now = self.now()
            if now >= end:
                return
            if self.cancelled is not None and self.cancelled():
                raise CancelledError('the motion was cancelled')
            wall = time.monotonic()
            if now != last:
                last, changed = now, wall
            elif wall - changed > self.bounds.clock_timeout:
                raise RobotTimeoutError(
                    f"the robot's clock stood still for {self.bounds.clock_timeout} s "
                    '(a stalled /clock or a dead simulator)')
            with self._lock:
                silent = wall - self._pose_wall
                refused, self._refused = self._refused, None
            if refused:
                raise UnreachableError(f'the robot refused target {refused}: out of its reach '
                                       "(the driver's log says why)")
            if silent > self.bounds.state_timeout:
                raise RobotTimeoutError(
                    f'no current_pose from the robot for {silent:.1f} s '
                    f'(bound {self.bounds.state_timeout} s): is its driver running?')
            time.sleep(POLL)

    # -- Motion: arm ------------------------------------------------------------------------

    def tcp_pose(self) -> Pose:
        """Return the last measured TCP pose."""
        with self._lock:
            return self._pose

    def target_pose(self) -> Pose:
        """Return the last target sent (the measured pose before any)."""
        with self._lock:
            return self._target

    def wrench(self):
        """Return the last external wrench at the TCP (6,), base frame; zeros before any."""
        with self._lock:
            return self._wrench.copy()

    def check_target(self, pose):
        """No IK over ROS: the controller clamps what it cannot reach; nothing to check."""

    def set_target(self, pose):
        """Publish a new target pose (it replaces a path the controller is following)."""
        with self._lock:
            self._target = pose
        self.pub_target.publish(conv.pose_stamped_to_msg(
            pose, self.base_frame, self.node.get_clock().now().to_msg()))

    def follow(self, path, cancelled=None):
        """
        Stream the path's targets, or hand it to the controller whole and wait its end.

        ``cancelled()`` is checked every control period in both modes (a skill's guard, e.g.
        the AIA's force guard, stops a handed-over path too); when it becomes true the TCP is
        held where it is and CancelledError is raised.
        """
        if self.target_mode == 'stream':
            stream(self, path, cancelled)
            return
        self.pub_path.publish(conv.path_to_msg(path, self.base_frame))
        with self._lock:
            self._target = path.poses[-1]
        end = self.now() + path.duration
        while (left := end - self.now()) > 1e-9:
            if cancelled is not None and cancelled():
                hold_here(self)  # a new target replaces the path the controller follows
                raise CancelledError('the motion was cancelled')
            self.wait(min(self.period, left))

    def reached(self, tolerance: Tolerance) -> bool:
        """Within ``tolerance`` of the target, and the TCP slower than tolerance.speed m/s."""
        with self._lock:
            if self._pose is None or self._target is None:
                return False
            pos_err, rot_err = self._pose.distance_to(self._target)
            return (pos_err < tolerance.position and rot_err < tolerance.rotation
                    and self._speed < tolerance.speed)

    # -- Motion: tool -----------------------------------------------------------------------

    def open_gripper(self):
        """Open fully, or drop the part off."""
        with self._lock:
            self._closed = False
        if self.gripper_kind is GripperKind.SUCTION:
            self._send('vacuum', Vacuum.Goal(command=Vacuum.Goal.DROP_OFF, timeout=1.0))
        else:
            self._send_gripper(0.04, 0.0)  # position is half the width (franka_gripper)

    def close_gripper(self, width, force):
        """Grasp with ``force`` expecting an object ``width`` wide, or build up the vacuum."""
        self._check_tool()
        with self._lock:
            self._closed = True
        if self.gripper_kind is GripperKind.SUCTION:
            self._send('vacuum', Vacuum.Goal(command=Vacuum.Goal.VACUUM, timeout=1.0))
        else:
            self._send_gripper(width / 2, force)

    def gripper_status(self) -> GripperStatus:
        """
        Width from the finger joints; grasped = closed on something (or part present).

        Raises GripperError if the last command was rejected, aborted or gave no result in time.
        """
        self._check_tool()
        with self._lock:
            if self.gripper_kind is GripperKind.SUCTION:
                return GripperStatus(0.0, bool(self._vacuum.part_present),
                                     self._vacuum.actual_power > 0)
            return GripperStatus(self._width, self._closed and self._width > MIN_GRASP_WIDTH)

    def _check_tool(self):
        with self._lock:
            command = self._tool
        if command is not None:
            command.check(self.bounds.result_timeout)

    def _send_gripper(self, position, effort):
        goal = self.gripper_type.Goal()
        goal.command.position, goal.command.max_effort = float(position), float(effort)
        self._send('gripper', goal)

    def _send(self, what, goal):
        client = self.gripper if what == 'gripper' else self.vacuum
        timeout = self.bounds.server_timeout
        if not client.server_is_ready() and not client.wait_for_server(timeout_sec=timeout):
            raise GripperError(
                f'no {what} action server {self.names[what]!r} within {timeout} s')
        command = _ToolCommand(what, client.send_goal_async(goal))
        with self._lock:
            self._tool = command
