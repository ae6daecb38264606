"""
The /execute_grasp action server: the core grasp skill over the ROS Motion client.

One goal at a time: a goal that arrives while another runs is rejected (a grasp in progress
holds the arm and maybe an object; preempting it mid-lift would drop it). Goals are validated
in the goal callback, so an invalid one is rejected (the reason is logged) instead of being
accepted and aborted. Every wait of the skill is bounded by the wall clock (MotionBounds) and
a cancel request ends it within milliseconds.
"""

import sys

from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.action import ExecuteGrasp
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.goal_slot import GoalSlot
from rt_grasp_ros.ros.motion_client import MotionBounds, RosMotion, TARGET_MODES
from rt_grasp_ros.ros.params import above, at_least, declare, one_of, positive, run_node
from rt_grasp_ros.skills.grasp import check_grasp, execute_grasp, GraspConfig, Workspace
from rt_grasp_ros.skills.motion import LinearMove, Tolerance
from rt_grasp_ros.skills.moveit_goals import BACKENDS, choose_backend


class GraspExecutorNode(Node):
    """Executes grasps: pre-grasp, approach, close or seal, lift, hold, maybe release."""

    def __init__(self):
        super().__init__('grasp_executor')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        gripper = declare(self, 'gripper', 'parallel', 'parallel or suction',
                          one_of('parallel', 'suction'), "'parallel' or 'suction'")
        backend = choose_backend(declare(
            self, 'backend', 'cartesian', 'cartesian (impedance targets) or moveit (moveit_py)',
            one_of(*BACKENDS), ' or '.join(BACKENDS)))
        lower = declare(self, 'workspace_min', [0.2, -0.5, -0.02], 'workspace box min (m)',
                        lambda v: len(v) == 3, '3 numbers')
        upper = declare(self, 'workspace_max', [0.8, 0.5, 0.6], 'workspace box max (m)',
                        lambda v: len(v) == 3, '3 numbers')
        self.config = GraspConfig(
            lift=declare(self, 'lift_height', 0.10, 'default lift (m)', above(0.0, 1.0)),
            hold=declare(self, 'hold_time', 1.0, 'default hold (s)', at_least(0.0, 60.0)),
            grasp_force=declare(self, 'grasp_force', 40.0, 'grasp force (N); the Franka Hand '
                                'holds 70 N continuously, 140 N at most', above(0.0, 140.0)),
            max_width=declare(self, 'max_width', 0.08, 'widest gripper opening (m)',
                              positive, '> 0'),
            slip_width=declare(self, 'slip_width', 0.005, 'fingers closing by more than this '
                               'while holding = slipped (m)', positive, '> 0'),
            workspace=Workspace(tuple(lower), tuple(upper)),
            move=LinearMove(
                settle=declare(self, 'settle_time', 1.0, 'robot-clock s a motion may '
                               'take to settle on its target', at_least(0.0, 60.0)),
                tolerance=Tolerance(
                    position=declare(self, 'arrival_tolerance', 0.004, 'a motion has arrived '
                                     'within this distance of its target (m)', above(0.0, 0.05)),
                    rotation=declare(self, 'arrival_rotation_tolerance', 0.03, 'and within '
                                     'this angle (rad)', above(0.0, 0.5)))),
            approach_settle=declare(self, 'approach_settle', 0.4, 'settle time of the approach '
                                    '(s)', at_least(0.0, 60.0)))
        self.start_timeout = declare(self, 'start_timeout', 15.0,
                                     'wall-clock s to wait for the robot state at a goal start',
                                     positive, '> 0')
        wall = above(0.0, 3600.0)
        bounds = MotionBounds(
            clock_timeout=declare(self, 'clock_timeout', 5.0, "wall-clock s the robot's clock "
                                  'may stand still during a wait', wall),
            state_timeout=declare(self, 'state_timeout', 5.0, 'wall-clock s without a '
                                  'current_pose during a wait', wall),
            server_timeout=declare(self, 'server_timeout', 2.0, 'wall-clock s for the gripper '
                                   'or vacuum action server to appear', wall),
            result_timeout=declare(self, 'result_timeout', 10.0, 'wall-clock s for a gripper '
                                   'or vacuum command result', wall))
        group = ReentrantCallbackGroup()
        self.motion = RosMotion(
            self, GripperKind(gripper), self.base_frame,
            declare(self, 'rate', 100.0, 'target stream rate (Hz)', above(0.0, 1000.0)),
            declare(self, 'gripper_action', 'franka_gripper/gripper_action', 'gripper action'),
            declare(self, 'vacuum_action', 'vacuum_gripper/vacuum', 'vacuum action'),
            declare(self, 'finger_joints', ['panda_finger_joint1', 'panda_finger_joint2'],
                    'finger joints in joint_states'),
            declare(self, 'target_mode', 'stream',
                    'stream (a pose controller: franka_ros2, crisp) or trajectory (the sim)',
                    one_of(*TARGET_MODES), ' or '.join(TARGET_MODES)),
            bounds, callback_group=group)
        self.ros_motion = self.motion
        if backend == 'moveit':  # only imported where moveit_py is (choose_backend checked)
            from rt_grasp_ros.ros.moveit_backend import make_moveit_motion

            self.motion = make_moveit_motion(self, self.motion, self.base_frame,
                                             self.config.workspace, declare)
        self.slot = GoalSlot()
        ActionServer(self, ExecuteGrasp, 'execute_grasp', self.on_execute,
                     goal_callback=self.on_goal, cancel_callback=self.on_cancel,
                     callback_group=group)
        self.get_logger().info(f'ready: {gripper} gripper, base frame {self.base_frame}')

    def destroy_node(self):
        """Stop the robot state listener, then destroy the node."""
        self.ros_motion.close()
        super().destroy_node()

    def validate(self, goal):
        """Return the goal's target and config; RtGraspError says what is wrong."""
        target, config = conv.grasp_goal_from_msg(goal, self.base_frame, self.config)
        refused = check_grasp(target, self.motion.gripper_kind, config)
        if refused is not None:
            raise RtGraspError(f'{refused.failure.value}: {refused.message}')
        return target, config

    def on_goal(self, goal):
        """Accept a valid goal when none runs; reject (and log why) otherwise."""
        return self.slot.admit(goal, self.validate, self.get_logger(), 'grasp')

    def on_cancel(self, goal_handle):
        """Accept every cancel request; the running skill stops at its next check."""
        self.get_logger().info('cancel requested')
        return CancelResponse.ACCEPT

    def on_execute(self, goal_handle):
        """Run the grasp; the goal slot is freed whatever happens."""
        try:
            return self.execute(goal_handle)
        finally:
            self.slot.release()
            self.motion.cancelled = None

    def execute(self, goal_handle):
        """Run the skill for an accepted goal and report its verdict."""
        target, config = self.validate(goal_handle.request)
        result = ExecuteGrasp.Result()
        self.motion.cancelled = lambda: goal_handle.is_cancel_requested
        if not self.motion.sync(timeout=self.start_timeout):
            result.failure, result.stage = 'timeout', 'open'
            result.message = f'no current_pose from the robot within {self.start_timeout} s'
            goal_handle.abort()
            return result

        def feedback(stage):
            getattr(self.motion, 'enter_stage', lambda s: None)(stage)  # moveit: its plans
            msg = ExecuteGrasp.Feedback(stage=stage.value)
            msg.tcp_pose = conv.pose_stamped_to_msg(self.motion.tcp_pose(), self.base_frame)
            goal_handle.publish_feedback(msg)

        outcome = execute_grasp(self.motion, target, config, feedback,
                                lambda: goal_handle.is_cancel_requested)
        result.success, result.message = outcome.success, outcome.message
        result.failure = outcome.failure.value if outcome.failure else ''
        result.stage = outcome.stage.value
        self.get_logger().info(f'goal ended in {result.stage}: {result.failure or "success"}')
        if result.failure == 'cancelled':
            goal_handle.canceled()
        elif outcome.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(GraspExecutorNode, args, threads=4)


if __name__ == '__main__':
    sys.exit(main())
