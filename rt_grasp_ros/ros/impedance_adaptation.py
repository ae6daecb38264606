"""
The /impedance_adaptation action server: ManipLLM's pull of an articulated part over ROS.

A goal is a contact pose (base frame) and the policy's limits; the server approaches, seals
the suction cup and pulls with the core's active impedance adaptation
(:class:`rt_grasp_ros.manip.operate.ContactOperation`) over the Motion protocol on ROS
(:class:`RosMotion`): no policy logic here. One goal at a time; an invalid goal (NaN,
a foreign frame, a contact outside the workspace, a limit out of range) is rejected in the goal
callback. On cancel the vacuum is released and the tool backs off along -up. Every wait is
bounded by the wall clock (MotionBounds).

Test-time adaptation (ManipLLM's TTA, parameter ``tta``). After a goal that operated on the
part (it succeeded, or failed stalled, step_limit, lost_contact, no_seal or force_limit: the
core's :func:`~rt_grasp_ros.manip.operate.trial_label`) on a contact a planner answered (its
``session_id`` is not empty), the server calls ``adapt_service`` (rt_grasp/AdaptContact,
default the contact planner's ``grasp_planner/adapt``) with that session and whether the part
moved (the travel above the initial-movement threshold), before the goal's result is sent, so
the next contact is planned with the adapted model. The call is bounded by ``adapt_timeout``
(wall clock); a missing, slow or failing service is a warning in the log and never changes the
goal's result.
"""

import sys
import threading
import time

import numpy as np
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.action import ImpedanceAdaptation
from rt_grasp.srv import AdaptContact
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.manip.aia import AIAConfig
from rt_grasp_ros.manip.operate import (CANCELLED, check_contact, ContactOperation,
                                        OperateConfig, TIMEOUT, trial_label, with_limits)
from rt_grasp_ros.manip.trial import PullConfig
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.goal_slot import GoalSlot
from rt_grasp_ros.ros.motion_client import MotionBounds, RosMotion, TARGET_MODES
from rt_grasp_ros.ros.params import above, at_least, between, declare, one_of, run_node
from rt_grasp_ros.skills.grasp import Workspace
from rt_grasp_ros.skills.motion import CancelledError

LIMIT_FIELDS = ('target_distance', 'n_perturbations', 'epsilon1', 'epsilon2', 'step_length',
                'max_steps')


class ImpedanceAdaptationNode(Node):
    """Serves /impedance_adaptation: approach, seal, pull with AIA, or release on cancel."""

    def __init__(self):
        super().__init__('impedance_adaptation')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        self.config = self._operate_config()
        self.tta = declare(self, 'tta', False, "ManipLLM's test-time adaptation: after a goal "
                           "that operated on the part, adapt_service adapts the planner's "
                           "model on the goal contact's session and whether the part moved")
        adapt_service = declare(self, 'adapt_service', 'grasp_planner/adapt',
                                'the AdaptContact service called with tta', bool,
                                'a service name')
        self.adapt_timeout = declare(self, 'adapt_timeout', 30.0, 'wall-clock s for '
                                     'adapt_service to appear and answer', above(0.0, 3600.0))
        self.seed = declare(self, 'seed', 0, "seed of the policy's perturbations (each goal "
                            'starts from it)', between(0, 2 ** 31 - 1))
        self.start_timeout = declare(self, 'start_timeout', 15.0, 'wall-clock s to wait for '
                                     'the robot state at a goal start', above(0.0, 3600.0))
        wall = above(0.0, 3600.0)
        bounds = MotionBounds(
            clock_timeout=declare(self, 'clock_timeout', 5.0, "wall-clock s the robot's clock "
                                  'may stand still during a wait', wall),
            state_timeout=declare(self, 'state_timeout', 5.0, 'wall-clock s without a '
                                  'current_pose during a wait', wall),
            server_timeout=declare(self, 'server_timeout', 2.0, 'wall-clock s for the vacuum '
                                   'action server to appear', wall),
            result_timeout=declare(self, 'result_timeout', 10.0, 'wall-clock s for a vacuum '
                                   'command result', wall))
        group = ReentrantCallbackGroup()
        self.adapt_client = (self.create_client(AdaptContact, adapt_service,
                                                callback_group=group) if self.tta else None)
        self.motion = RosMotion(
            self, GripperKind.SUCTION, self.base_frame,
            declare(self, 'rate', 100.0, 'target stream rate (Hz)', above(0.0, 1000.0)),
            'franka_gripper/gripper_action',
            declare(self, 'vacuum_action', 'vacuum_gripper/vacuum', 'vacuum action'),
            (),
            declare(self, 'target_mode', 'stream',
                    'stream (a pose controller: franka_ros2, crisp) or trajectory (the sim)',
                    one_of(*TARGET_MODES), ' or '.join(TARGET_MODES)),
            bounds, callback_group=group)
        self.slot = GoalSlot()
        ActionServer(self, ImpedanceAdaptation, 'impedance_adaptation', self.on_execute,
                     goal_callback=self.on_goal, cancel_callback=self.on_cancel,
                     callback_group=group)
        aia = self.config.pull.aia
        tta = f'; tta via {self.adapt_client.srv_name}' if self.tta else ''
        self.get_logger().info(
            f'ready: base frame {self.base_frame}, N={aia.n_perturbations}, '
            f'target {aia.target_distance} m, max {aia.max_steps} steps{tta}')

    def _operate_config(self):
        """Return the server's OperateConfig from its parameters (ConfigError names one)."""
        aia = AIAConfig(
            n_perturbations=declare(self, 'n_perturbations', 6, 'N: perturbed directions '
                                    'tried besides the current one', between(1, 32)),
            epsilon1=declare(self, 'epsilon1', 0.5, "bound on a perturbation's norm",
                             between(0.0, 1.0, low_open=True, high_open=True)),
            epsilon2=declare(self, 'epsilon2', 12.0, 'the probing force (N)', above(0.0, 100.0)),
            stiffness=declare(self, 'stiffness', 1200.0, "the impedance controller's "
                              'translational stiffness (N/m)', above(0.0, 10000.0)),
            step_length=declare(self, 'step_length', 0.015, 'how far each step moves the '
                                'target (m)', above(0.0, 0.05)),
            target_distance=declare(self, 'target_distance', 0.12, 'stop once the tool has '
                                    'travelled this far (m)', above(0.0, 1.0)),
            max_steps=declare(self, 'max_steps', 12, 'stop after this many steps',
                              between(1, 200)),
            max_force=declare(self, 'max_force', 20.0, 'a step stops when the force on the '
                              'tool passes this (N)', above(0.0, 200.0)))
        pull = PullConfig(
            adaptive=declare(self, 'adaptive', True, 'pull with active impedance adaptation '
                             '(false: straight, the "w/o AIA" ablation)'),
            aia=aia,
            pre_contact=declare(self, 'pre_contact', 0.05, 'the approach starts this far '
                                'back from the contact along up (m)', above(0.0, 0.3)),
            press=declare(self, 'press', 0.004, 'aim this far past the contact when sealing '
                          '(m)', between(0.0, 0.05, high_open=True)),
            reach=declare(self, 'reach', 0.015, 'how much farther the approach may go to find '
                          'the surface (m)', between(0.0, 0.05, high_open=True)))
        lower = declare(self, 'workspace_min', [0.2, -0.5, -0.02], 'workspace box min (m)',
                        lambda v: len(v) == 3, '3 numbers')
        upper = declare(self, 'workspace_max', [0.8, 0.5, 0.6], 'workspace box max (m)',
                        lambda v: len(v) == 3, '3 numbers')
        return OperateConfig(
            pull=pull,
            clearance=declare(self, 'clearance', 0.1, 'the via point lies this far behind '
                              'the approach start (m)', at_least(0.0, 0.5)),
            approach_speed=declare(self, 'approach_speed', 0.15, 'speed to the approach start '
                                   '(m/s)', above(0.0, 1.0)),
            retreat=declare(self, 'retreat', 0.05, 'back off this far along -up after a '
                            'release (m)', at_least(0.0, 0.5)),
            workspace=Workspace(tuple(lower), tuple(upper)))

    def destroy_node(self):
        """Stop the robot state listener, then destroy the node."""
        self.motion.close()
        super().destroy_node()

    def validate(self, goal):
        """Return the goal's contact and config; RtGraspError says what is wrong."""
        contact = conv.contact_from_msg(goal.contact, self.base_frame)
        refused = check_contact(contact, self.config)
        if refused is not None:
            raise RtGraspError(refused)
        config = with_limits(self.config, **{name: float(getattr(goal, name))
                                             for name in LIMIT_FIELDS})
        return contact, config

    def on_goal(self, goal):
        """Accept a valid goal when none runs; reject (and log why) otherwise."""
        return self.slot.admit(goal, self.validate, self.get_logger(), 'goal')

    def on_cancel(self, goal_handle):
        """Accept every cancel request; the running pull stops at its next wait."""
        self.get_logger().info('cancel requested')
        return CancelResponse.ACCEPT

    def on_execute(self, goal_handle):
        """Run the goal; the goal slot is freed whatever happens."""
        try:
            return self.execute(goal_handle)
        finally:
            self.motion.cancelled = None
            self.slot.release()

    def execute(self, goal_handle):
        """Operate the contact of an accepted goal and report how it went."""
        contact, config = self.validate(goal_handle.request)
        result = ImpedanceAdaptation.Result()
        if not self.motion.sync(timeout=self.start_timeout):
            result.failure = TIMEOUT
            result.message = f'no current_pose from the robot within {self.start_timeout} s'
            goal_handle.abort()
            return result

        def feedback(stage, pull):
            msg = ImpedanceAdaptation.Feedback(stage=stage, step=pull.steps,
                                               distance=float(pull.distance))
            direction = pull.directions[-1] if pull.directions else -contact.up
            msg.direction = conv.vector3_to_msg(direction)
            msg.force = conv.vector3_to_msg(self.motion.wrench()[:3])
            goal_handle.publish_feedback(msg)

        operation = ContactOperation(self.motion, contact, config,
                                     np.random.default_rng(self.seed), feedback)
        cancelled = lambda: goal_handle.is_cancel_requested  # noqa: E731
        self.motion.cancelled = cancelled
        try:
            outcome = operation.run(cancelled)
        except CancelledError:
            self.motion.cancelled = None  # the release and the retreat must not be cancelled
            outcome = operation.abandon()
        result.success, result.failure = outcome.success, outcome.failure
        result.message, result.distance = outcome.message, float(outcome.distance)
        result.steps = outcome.steps
        self.get_logger().info(f'goal ended: {result.failure or "success"}: {result.message}')
        if self.tta:
            self.adapt(goal_handle.request.contact.session_id, result)
        if result.failure == CANCELLED:
            goal_handle.canceled()
        elif result.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result

    def adapt(self, session_id, result):
        """Adapt the planner's model on a trial's outcome (bounded; only logs what went wrong)."""
        label = trial_label(result.failure, result.distance, session_id)
        log = self.get_logger()
        if not label.trial:
            log.info(f'no adaptation after this goal: {label.reason}')
            return
        name = self.adapt_client.srv_name
        deadline = time.monotonic() + self.adapt_timeout
        if not self.adapt_client.wait_for_service(timeout_sec=self.adapt_timeout):
            log.warning(f'no adaptation on session {session_id!r}: {name} did not appear '
                        f'within adapt_timeout={self.adapt_timeout} s')
            return
        request = AdaptContact.Request(session_id=session_id, moved=label.moved)
        answered = threading.Event()
        future = self.adapt_client.call_async(request)
        future.add_done_callback(lambda _: answered.set())
        if not answered.wait(max(0.0, deadline - time.monotonic())):
            self.adapt_client.remove_pending_request(future)
            log.warning(f'no adaptation on session {session_id!r}: {name} did not answer '
                        f'within adapt_timeout={self.adapt_timeout} s')
            return
        response = future.result()
        if response is None or not response.success:
            why = response.message if response is not None else 'no response'
            log.warning(f'no adaptation on session {session_id!r}: {name}: {why}')
            return
        log.info(f'adapted on session {session_id!r} (moved: {label.moved}, trial '
                 f'{response.trials}): loss {response.loss_before:.4f} -> '
                 f'{response.loss_after:.4f}')


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(ImpedanceAdaptationNode, args, threads=4)


if __name__ == '__main__':
    sys.exit(main())
