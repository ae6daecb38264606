"""
The Franka Cobot Pump on ROS 2: the Vacuum action and VacuumState, over libfranka's VacuumGripper.

franka_ros2 has no vacuum support (its issue #141): this node fills that gap. It serves
``vacuum_gripper/vacuum`` (rt_grasp/action/Vacuum: VACUUM with setpoint, profile and timeout,
or DROP_OFF) one goal at a time, and publishes ``vacuum_gripper/state`` (rt_grasp/msg/
VacuumState) at ``state_rate``. panda-python's ``libfranka.VacuumGripper`` does the talking,
in a worker process (:mod:`rt_grasp_ros.robot.cobot_pump`): it holds the GIL while it waits,
and libfranka 0.9.2 must not share a process with the arm driver's libfranka 0.21. Every
wait is bounded (the goal's timeout plus ``call_margin``); a cancel stops the running command.
"""

import sys
import threading

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.action import Vacuum
from rt_grasp.msg import VacuumState
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.robot.cobot_pump import check_command, CobotPump, PumpError
from rt_grasp_ros.ros.goal_slot import GoalSlot
from rt_grasp_ros.ros.params import above, between, declare, run_node
from rt_grasp_ros.ros.qos import COMMAND


def state_to_msg(state, stamp) -> VacuumState:
    """Convert a PumpState to a VacuumState stamped ``stamp``."""
    msg = VacuumState(in_control_range=state.in_control_range,
                      part_detached=state.part_detached, part_present=state.part_present,
                      device_status=state.device_status,
                      actual_power=max(0, min(65535, state.actual_power)),
                      vacuum=max(0, min(65535, state.vacuum)))
    msg.header.stamp = stamp
    return msg


class VacuumGripperNode(Node):
    """Serves the Cobot Pump: the Vacuum action and the pump's state."""

    def __init__(self):
        super().__init__('vacuum_gripper')
        address = declare(self, 'robot_ip', '', "the robot's (FCI) address; the pump answers "
                          'on its port 1339', lambda v: bool(v.strip()), 'an address')
        self.setpoint = declare(self, 'vacuum_setpoint', 75, 'default vacuum setpoint '
                                '(10 mbar units: 75 = 750 mbar)', between(1, 255))
        self.timeout = declare(self, 'timeout', 1.0, 'default command timeout (s)',
                               above(0.0, 60.0))
        rate = declare(self, 'state_rate', 20.0, 'VacuumState rate (Hz)', above(0.0, 200.0))
        margin = declare(self, 'call_margin', 2.0, 'wall-clock s a command may take beyond '
                         'its timeout before it counts as unanswered', above(0.0, 60.0))
        connect = declare(self, 'connect_timeout', 10.0, 'wall-clock s to connect',
                          above(0.0, 120.0))
        self.pump = CobotPump(address, margin=margin, connect_timeout=connect)
        try:
            version = self.pump.connect()
        except PumpError as exc:
            self.pump.close()
            raise ConfigError(f'robot_ip={address!r}: {exc}') from None
        self.pub_state = self.create_publisher(VacuumState, 'vacuum_gripper/state', COMMAND)
        self.slot = GoalSlot()
        self._last_error = None
        ActionServer(self, Vacuum, 'vacuum_gripper/vacuum', self.on_execute,
                     goal_callback=self.on_goal, cancel_callback=self.on_cancel,
                     callback_group=ReentrantCallbackGroup())
        self.create_timer(1.0 / rate, self.publish_state,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(f'ready: Cobot Pump at {address}, protocol version {version}')

    def publish_state(self):
        """Publish the pump's state; skipped while a command holds the connection."""
        if self.slot.busy:
            return
        try:
            state = self.pump.state()
        except PumpError as exc:
            if str(exc) != self._last_error:
                self.get_logger().error(f'reading the Cobot Pump state failed: {exc}')
            self._last_error = str(exc)
            return
        self._last_error = None
        self.pub_state.publish(state_to_msg(state, self.get_clock().now().to_msg()))

    def on_goal(self, goal):
        """Accept a valid goal when none runs; reject (and log why) otherwise."""
        why = check_command(goal.command, goal.vacuum, goal.profile, goal.timeout)
        if why is not None:
            self.get_logger().warn(f'goal rejected: {why}')
            return GoalResponse.REJECT
        if not self.slot.take(goal):
            self.get_logger().warn('goal rejected: another vacuum command is running')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def on_cancel(self, goal_handle):
        """Stop the running command (VacuumGripper::stop)."""
        self.get_logger().info('cancel requested: stopping the Cobot Pump')
        threading.Thread(target=self._stop, daemon=True).start()
        return CancelResponse.ACCEPT

    def _stop(self):
        try:
            self.pump.cancel()
        except PumpError as exc:
            self.get_logger().error(f'stopping the Cobot Pump failed: {exc}')

    def on_execute(self, goal_handle):
        """Run one command; the goal slot is freed whatever happens."""
        try:
            return self.execute(goal_handle)
        finally:
            self.slot.release()

    def execute(self, goal_handle):
        """Run VACUUM or DROP_OFF and report libfranka's answer."""
        goal = goal_handle.request
        timeout = goal.timeout or self.timeout
        result = Vacuum.Result()
        try:
            if goal.command == Vacuum.Goal.VACUUM:
                outcome = self.pump.vacuum(goal.vacuum or self.setpoint, goal.profile, timeout)
            else:
                outcome = self.pump.drop_off(timeout)
        except PumpError as exc:
            result.message = str(exc)
            if goal_handle.is_cancel_requested:
                goal_handle.canceled()
            else:
                self.get_logger().error(f'vacuum command failed: {exc}')
                goal_handle.abort()
            return result
        stamp = self.get_clock().now().to_msg()
        result.state = state_to_msg(outcome.state, stamp)
        self.pub_state.publish(result.state)
        result.success = outcome.success
        if not outcome.success:
            result.message = ('no vacuum within the timeout (no part at the cup?)'
                              if goal.command == Vacuum.Goal.VACUUM
                              else 'the part was not released within the timeout')
        goal_handle.succeed()
        return result

    def destroy_node(self):
        """Close the pump's worker, then destroy the node."""
        self.pump.close()
        super().destroy_node()


def main(args=None):
    """Run the node until Ctrl-C; 2 for a bad parameter or an unreachable pump."""
    return run_node(VacuumGripperNode, args, threads=3)


if __name__ == '__main__':
    sys.exit(main())
