"""
A Franka arm and hand on the sim node's robot interfaces, over libfranka (franky-control).

No franka_ros2 needed: ``joint_states``, the measured TCP pose (``current_pose``), the external
wrench (``external_wrench``, as franka_ros2's state broadcaster), a Cartesian impedance
controller that takes ``target_pose`` (franky's 1 kHz C++ loop tracks the latest target) and
the Franka Hand's ``franka_gripper/gripper_action`` (GripperCommand, position = width / 2:
a move when opening or without effort, else libfranka's grasp with the effort as force and
``epsilon_inner`` / ``epsilon_outer``; ``reached_goal`` and ``stalled`` are the grasp's result).
A target out of the arm's reach is refused: it is echoed on ``target_refused`` (PoseStamped),
the reason logged, and the arm keeps its last target. libfranka's errors are logged with
their text and published on ``robot_error``; ``~/recover`` (std_srvs/Trigger) runs
libfranka's automatic error recovery (``auto_recover`` does it by itself). The realtime mode
is the ``realtime`` parameter.
Frames follow the robot: ``fr3_link0`` / ``fr3_joint*`` (``robot:=fr3``) or ``panda_*``.
"""

import sys
import threading
import time

from geometry_msgs.msg import PoseStamped, WrenchStamped
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.robot.libfranka_arm import (
    ArmConfig,
    FrankaArm,
    FrankaError,
    FrankaHand,
    HAND_TCP,
    REALTIME_MODES,
    UnreachableTargetError,
)
from rt_grasp_ros.robot.settle import SettleConfig
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.interfaces import gripper_command_action
from rt_grasp_ros.ros.params import above, at_least, declare, one_of, run_node
from rt_grasp_ros.ros.qos import COMMAND
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

GripperCommand = gripper_command_action()


class FrankaNode(Node):
    """Serves a Franka over libfranka on the robot interfaces the executor uses."""

    def __init__(self):
        super().__init__('franka')
        address = declare(self, 'robot_ip', '', "the robot's (FCI) address",
                          lambda v: bool(v.strip()), 'an address')
        robot = declare(self, 'robot', 'fr3', 'fr3 or panda: joint names, frames, limits',
                        one_of('fr3', 'panda'), "'fr3' or 'panda'")
        self.base_frame = declare(self, 'base_frame', f'{robot}_link0', 'robot base frame')
        realtime = declare(self, 'realtime', 'enforce', "libfranka's realtime mode: enforce "
                           '(a PREEMPT_RT kernel) or ignore', one_of(*REALTIME_MODES),
                           ' or '.join(REALTIME_MODES))
        tcp = declare(self, 'tcp_in_flange', list(HAND_TCP), 'TCP in the flange frame, x y z '
                      'qx qy qz qw (default: the Franka Hand TCP)', lambda v: len(v) == 7,
                      '7 numbers')
        rate = declare(self, 'state_rate', 100.0, 'joint_states / current_pose rate (Hz)',
                       above(0.0, 1000.0))
        self.auto_recover = declare(self, 'auto_recover', False, 'run libfranka automatic '
                                    'error recovery after an error by itself')
        self.gripper_timeout = declare(self, 'gripper_timeout', 5.0, 'wall-clock s a gripper '
                                       'command may take', above(0.0, 60.0))
        config = ArmConfig(
            address=address, realtime=realtime, robot=robot, tcp_in_flange=tuple(tcp),
            translational_stiffness=declare(self, 'translational_stiffness', 1000.0,
                                            'N/m', above(0.0, 3000.0)),
            rotational_stiffness=declare(self, 'rotational_stiffness', 80.0, 'Nm/rad',
                                         above(0.0, 300.0)),
            check_reach=declare(self, 'check_reach', True, 'refuse targets out of reach'),
            friction_coulomb=tuple(declare(
                self, 'friction_coulomb', [0.0] * 7, 'per-joint Coulomb friction feedforward '
                '(Nm) of the impedance controller; zeros = off', lambda v: len(v) == 7,
                '7 numbers')),
            settle=SettleConfig(
                gain=declare(self, 'settle_gain', 0.0, 'integral gain (1/s) that shifts the '
                             'impedance reference until the TCP rests on its target; 0 = off',
                             at_least(0.0, 50.0)),
                limit=declare(self, 'settle_limit', 0.005, 'largest reference shift (m)',
                              above(0.0, 0.02))))
        self.joint_names = [f'{robot}_joint{k}' for k in range(1, 8)]
        self.finger_names = [f'{robot}_finger_joint1', f'{robot}_finger_joint2']
        use_hand = declare(self, 'gripper', True, 'serve the Franka Hand')
        try:
            self.arm = FrankaArm(config)
            self.hand = FrankaHand(
                address, declare(self, 'gripper_speed', 0.1, 'm/s', above(0.0, 0.2)),
                declare(self, 'epsilon_inner', 0.005, 'grasp tolerance below the width (m)',
                        above(0.0, 0.08)),
                declare(self, 'epsilon_outer', 0.005, 'grasp tolerance above the width (m)',
                        above(0.0, 0.08))) if use_hand else None
        except FrankaError as exc:
            raise ConfigError(f'robot_ip={address!r}: {exc}') from None
        if abs(self.arm.model_offset[:3, 3]).max() > 1e-3:
            self.get_logger().warn(
                "the robot's flange differs from Franka's kinematics by "
                f'{self.arm.model_offset[:3, 3].round(4).tolist()} m (a simulator?): the '
                'reach check accounts for it')
        self.width = self.hand.width() if self.hand else 0.0
        self.error = None
        self._refused = None
        self.pub_joints = self.create_publisher(JointState, 'joint_states', COMMAND)
        self.pub_pose = self.create_publisher(PoseStamped, 'current_pose', COMMAND)
        self.pub_wrench = self.create_publisher(WrenchStamped, 'external_wrench', COMMAND)
        self.pub_refused = self.create_publisher(PoseStamped, 'target_refused', COMMAND)
        self.pub_error = self.create_publisher(String, 'robot_error', COMMAND)
        group = ReentrantCallbackGroup()
        self._target_lock = threading.Lock()
        self._target_ready = threading.Event()
        self._next_target = None
        self._running = True
        self._target_thread = threading.Thread(target=self.run_targets, daemon=True)
        self._target_thread.start()
        self.create_subscription(PoseStamped, 'target_pose', self.on_target, COMMAND,
                                 callback_group=MutuallyExclusiveCallbackGroup())
        self.create_service(Trigger, '~/recover', self.on_recover, callback_group=group)
        self._gripper_busy = threading.Lock()
        if self.hand is not None:
            ActionServer(self, GripperCommand, 'franka_gripper/gripper_action', self.on_gripper,
                         goal_callback=self.on_gripper_goal,
                         cancel_callback=self.on_gripper_cancel, callback_group=group)
        self.create_timer(1.0 / rate, self.publish_state,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self.arm.hold()
        self.get_logger().info(f'ready: {robot} at {address}, realtime {realtime}, base frame '
                               f'{self.base_frame}')

    # -- state -------------------------------------------------------------------------------

    def publish_state(self):
        """Publish joint states, the TCP pose and the external wrench; watch for errors."""
        error = self.arm.poll()
        if error is not None:
            self.on_error(error)
        try:
            state = self.arm.state()
        except FrankaError as exc:
            self.on_error(str(exc))
            return
        self.arm.settle(state)
        stamp = self.get_clock().now().to_msg()
        joints = JointState(name=self.joint_names + self.finger_names)
        joints.position = [float(v) for v in state.q] + [self.width / 2] * 2
        joints.velocity = [float(v) for v in state.dq] + [0.0, 0.0]
        joints.effort = [float(v) for v in state.tau] + [0.0, 0.0]
        joints.header.stamp = stamp
        self.pub_joints.publish(joints)
        self.pub_pose.publish(conv.pose_stamped_to_msg(state.tcp, self.base_frame, stamp))
        self.pub_wrench.publish(conv.wrench_to_msg(state.wrench, self.base_frame, stamp))

    def on_error(self, text):
        """Log and publish a libfranka error; recover by itself with auto_recover."""
        self.error = text
        self.get_logger().error(f'libfranka: {text}', throttle_duration_sec=1.0)
        self.pub_error.publish(String(data=text))
        if self.auto_recover:
            self.recover()

    def recover(self):
        """Run libfranka's automatic error recovery; return (success, message)."""
        try:
            ok = self.arm.recover()
        except FrankaError as exc:
            return False, str(exc)
        if ok:
            self.error = None
            self.arm.hold()
        return ok, 'recovered' if ok else 'libfranka automatic error recovery returned false'

    def on_recover(self, request, response):
        response.success, response.message = self.recover()
        self.get_logger().info(f'recover: {response.message}')
        return response

    # -- arm ---------------------------------------------------------------------------------

    def on_target(self, msg):
        """Keep only the latest target: the controller tracks the newest, checks never queue."""
        with self._target_lock:
            pending, self._next_target = self._next_target, msg
        if pending is None:
            self._target_ready.set()

    def run_targets(self):
        """Hand each latest target to the controller (a thread: the reach check takes ms)."""
        while self._running:
            if not self._target_ready.wait(0.1):
                continue
            self._target_ready.clear()
            with self._target_lock:
                msg, self._next_target = self._next_target, None
            if msg is not None:
                self.apply_target(msg)

    def apply_target(self, msg):
        if msg.header.frame_id and msg.header.frame_id != self.base_frame:
            self.get_logger().error(
                f'target_pose in frame {msg.header.frame_id!r} ignored: expected '
                f'{self.base_frame!r}', throttle_duration_sec=1.0)
            return
        try:
            self.arm.set_target(conv.pose_from_msg(msg.pose))
        except UnreachableTargetError as exc:
            self.pub_refused.publish(msg)  # the refused target, stamp and all
            self.get_logger().error(f'target refused: {exc}', throttle_duration_sec=1.0)
        except (conv.ConversionError, FrankaError) as exc:
            self.get_logger().error(f'target_pose ignored: {exc}', throttle_duration_sec=1.0)

    # -- gripper -----------------------------------------------------------------------------

    def on_gripper_goal(self, goal):
        position = goal.command.position
        if not (0.0 <= 2 * position <= self.hand.max_width + 1e-6):
            self.get_logger().warn(f'gripper goal rejected: width {2 * position:g} m is not '
                                   f'in [0, {self.hand.max_width:g}]')
            return GoalResponse.REJECT
        if not self._gripper_busy.acquire(blocking=False):
            self.get_logger().warn('gripper goal rejected: another one is running')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def on_gripper_cancel(self, goal_handle):
        self.hand.stop()
        return CancelResponse.ACCEPT

    def on_gripper(self, goal_handle):
        try:
            return self._gripper(goal_handle)
        finally:
            self._gripper_busy.release()

    def _gripper(self, goal_handle):
        command = goal_handle.request.command
        width, force = 2 * command.position, command.max_effort
        result = GripperCommand.Result()
        t0 = time.monotonic()
        try:
            if force <= 0.0 or width >= self.width:
                ok = self.hand.move(width, self.gripper_timeout)
                held = False
            else:
                ok = held = self.hand.grasp(width, force, self.gripper_timeout)
            self.width = self.hand.width()
        except FrankaError as exc:
            self.get_logger().error(str(exc))
            goal_handle.abort()
            return result
        result.position, result.effort = self.width / 2, float(force if held else 0.0)
        result.stalled, result.reached_goal = held, ok
        outcome = 'held' if held else ('done' if ok else 'missed')
        self.get_logger().info(f'gripper to {width:.4f} m ({force:g} N): {outcome} at '
                               f'{self.width:.4f} m in {time.monotonic() - t0:.2f} s')
        if goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.succeed()
        return result

    def destroy_node(self):
        """Stop the controller (bounded), then destroy the node."""
        self._running = False
        self._target_thread.join(timeout=1.0)
        self.arm.stop()
        super().destroy_node()


def main(args=None):
    """Run the node until Ctrl-C; 2 for a bad parameter or a robot it cannot connect to."""
    return run_node(FrankaNode, args, threads=4)


if __name__ == '__main__':
    sys.exit(main())
