"""The /execute_grasp action server: the core grasp skill over the ROS Motion client."""

import math
import sys

from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.action import ExecuteGrasp
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.motion_client import RosMotion
from rt_grasp_ros.ros.params import above, at_least, declare, one_of, run_node
from rt_grasp_ros.skills.grasp import check_grasp, execute_grasp, GraspConfig, Workspace


class GraspExecutorNode(Node):
    """Executes grasps: pre-grasp, approach, close or seal, lift, hold."""

    def __init__(self):
        super().__init__('grasp_executor')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        gripper = declare(self, 'gripper', 'parallel', 'parallel or suction',
                          one_of('parallel', 'suction'), "'parallel' or 'suction'")
        declare(self, 'backend', 'cartesian', 'cartesian (impedance targets); moveit: later',
                one_of('cartesian'), "'cartesian' (the moveit backend is not built yet)")
        lower = declare(self, 'workspace_min', [0.2, -0.5, -0.02], 'workspace box min (m)',
                        lambda v: len(v) == 3, '3 numbers')
        upper = declare(self, 'workspace_max', [0.8, 0.5, 0.6], 'workspace box max (m)',
                        lambda v: len(v) == 3, '3 numbers')
        self.config = GraspConfig(
            lift=declare(self, 'lift_height', 0.10, 'default lift (m)', above(0.0, 1.0)),
            hold=declare(self, 'hold_time', 1.0, 'default hold (s)', at_least(0.0, 60.0)),
            grasp_force=declare(self, 'grasp_force', 40.0, 'grasp force (N); the Franka Hand '
                                'holds 70 N continuously, 140 N at most', above(0.0, 140.0)),
            workspace=Workspace(tuple(lower), tuple(upper)))
        group = ReentrantCallbackGroup()
        self.motion = RosMotion(
            self, GripperKind(gripper), self.base_frame,
            declare(self, 'rate', 100.0, 'target stream rate (Hz)', above(0.0, 1000.0)),
            declare(self, 'gripper_action', 'franka_gripper/gripper_action', 'gripper action'),
            declare(self, 'vacuum_action', 'vacuum_gripper/vacuum', 'vacuum action'),
            declare(self, 'finger_joints', ['panda_finger_joint1', 'panda_finger_joint2'],
                    'finger joints in joint_states'),
            callback_group=group)
        ActionServer(self, ExecuteGrasp, 'execute_grasp', self.on_goal, callback_group=group,
                     cancel_callback=lambda _: CancelResponse.ACCEPT)
        self.get_logger().info(f'ready: {gripper} gripper, base frame {self.base_frame}')

    def on_goal(self, goal_handle):
        goal = goal_handle.request
        result = ExecuteGrasp.Result()

        def fail(failure, message):
            result.failure, result.message = failure, message
            goal_handle.abort()
            return result

        try:
            target = conv.grasp_target_from_msg(goal.grasp, self.base_frame)
        except conv.RtGraspError as exc:
            return fail('invalid', str(exc))
        if goal.lift_height < 0 or goal.hold_time < 0 or not math.isfinite(goal.lift_height):
            return fail('invalid', 'lift_height and hold_time must be >= 0 (0 = default)')
        config = GraspConfig(
            lift=goal.lift_height or self.config.lift, hold=goal.hold_time or self.config.hold,
            grasp_force=self.config.grasp_force, workspace=self.config.workspace)
        refused = check_grasp(target, self.motion.gripper_kind, config)
        if refused is not None:
            return fail(refused.failure.value, refused.message)
        if not self.motion.sync(timeout=15.0):
            return fail('timeout', 'no current_pose from the robot within 15 s')

        def feedback(stage):
            msg = ExecuteGrasp.Feedback(stage=stage.value)
            msg.tcp_pose = conv.pose_stamped_to_msg(self.motion.tcp_pose(), self.base_frame)
            goal_handle.publish_feedback(msg)

        outcome = execute_grasp(self.motion, target, config, feedback,
                                lambda: goal_handle.is_cancel_requested)
        result.success, result.message = outcome.success, outcome.message
        result.failure = outcome.failure.value if outcome.failure else ''
        if outcome.failure is not None and outcome.failure.value == 'cancelled':
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
