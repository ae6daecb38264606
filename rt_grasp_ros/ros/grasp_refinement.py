"""
Refine the planned grasp in RViz (interactive markers) or a panel: drag it, ask again, execute.

The latest planned grasp is an interactive marker ``grasp`` in the base frame (namespace
``grasp_refinement``: RViz's InteractiveMarkers display): a gripper (a cup for suction) that is
dragged in the table plane and turned about its approach axis, with the model's reasoning as
text beside it. Its menu: Execute, Re-plan, and follow-ups. A follow-up goes to /plan_grasp in
the grasp's session and the marker moves to the model's new grasp. A drag is the user's
correction: the dragged pose, its height taken from the depth at the new pixel, is what Execute
sends, and the next follow-up tells the model where the user moved its grasp. Execute sends
/execute_grasp and shows its stages on the marker (colour and text).

ROS API (names relative to the node's namespace; ``grasp_refinement`` is the parameter
``marker_namespace``):

- interactive markers: ``grasp_refinement/update``, ``grasp_refinement/feedback``,
  ``grasp_refinement/get_interactive_markers`` (see :mod:`rt_grasp_ros.ros.interactive`).
- ``grasp_refinement/state`` (std_msgs/String, latched): JSON of
  :meth:`rt_grasp_ros.planning.refinement.Refinement.snapshot` (session, turn, stage, grasp,
  reasoning, correction, result, error, ...), published on every change.
- ``grasp_refinement/grasp`` (rt_grasp/Grasp, latched): the grasp Execute sends now.
- ``grasp_refinement/follow_up`` (std_msgs/String): a follow-up in the grasp's session (the
  user's own text; the menu's follow-ups do the same).
- ``grasp_refinement/instruction`` (std_msgs/String): a new session with this instruction
  (empty: the session's instruction, as Re-plan).
- ``grasp_refinement/execute`` and ``grasp_refinement/replan`` (std_srvs/Trigger): start the
  execution / a new session; success says whether it started (message: why not), the progress
  comes on the state topic.

It listens to ``grasp_planner/grasp`` (a grasp planned by another client is shown too, without
a session: Re-plan starts one) and to ``crop/color``, ``crop/depth``, ``crop/camera_info`` (the
depth a dragged grasp is placed on). Nothing blocks the executor: /plan_grasp and
/execute_grasp are called asynchronously, bounded by ``plan_timeout`` and ``execute_timeout``;
every refusal and failure is logged and shown (marker text, state ``error``).
"""

import json
import math
import sys
import time
import traceback

from rclpy.action import ActionClient
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rt_grasp.action import ExecuteGrasp
from rt_grasp.msg import Grasp
from rt_grasp.srv import PlanGrasp
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.planning.geometry import GraspGeometry
from rt_grasp_ros.planning.refinement import (
    corrected_target, EXECUTE, FOLLOW_UP_MENU, MENU, model_coordinates, RefinedGrasp,
    Refinement, RefinementError, REPLAN, Stage)
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.frame_sync import FrameMatcher
from rt_grasp_ros.ros.frames import CameraExtrinsic
from rt_grasp_ros.ros.interactive import IMPLEMENTATION, InteractiveMarkerServer, MenuHandler
from rt_grasp_ros.ros.markers import grasp_marker, MARKER
from rt_grasp_ros.ros.params import above, at_least, declare, positive, run_node
from rt_grasp_ros.ros.qos import COMMAND, LATCHED, SENSOR_DATA
from std_msgs.msg import String
from std_srvs.srv import Trigger
from visualization_msgs.msg import InteractiveMarkerFeedback

MOVED_M, TURNED_RAD = 5e-4, math.radians(0.5)  # a MOUSE_UP this close to the grasp: a click


class GraspRefinementNode(Node):
    """Serves the grasp as an interactive marker; follow-ups, corrections and execution."""

    def __init__(self):
        super().__init__('grasp_refinement')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        ns = declare(self, 'marker_namespace', 'grasp_refinement',
                     'namespace of the interactive markers and of the topics of this node',
                     bool, 'a non-empty name')
        self.extrinsic = CameraExtrinsic(self, self.base_frame)
        self.geometry = GraspGeometry(table_z=declare(
            self, 'table_height', 0.0, 'table plane height in the base frame (m), as the '
            "planner's: a dragged grasp's height comes from the depth above it"))
        self.plan_timeout = declare(self, 'plan_timeout', 120.0,
                                    'wall-clock s for /plan_grasp to answer', above(0.0, 3600.0))
        self.execute_timeout = declare(self, 'execute_timeout', 180.0,
                                       'wall-clock s for /execute_grasp to finish a goal',
                                       above(0.0, 3600.0))
        self.lift_height = declare(self, 'lift_height', 0.0,
                                   "lift (m) sent with Execute; 0 = the executor's default",
                                   at_least(0.0, 1.0))
        self.hold_time = declare(self, 'hold_time', 0.0,
                                 "hold (s) sent with Execute; 0 = the executor's default",
                                 at_least(0.0, 60.0))
        tick = declare(self, 'check_period', 0.5, 'how often deadlines are checked (s)',
                       positive, '> 0')
        self.core = Refinement(declare(self, 'instruction', '',
                                       'instruction of a new session (Re-plan); empty = the '
                                       "model's default prompt"))
        self.frames = FrameMatcher()
        self.latest = None  # the latest crop (color, depth, info)
        self.session_parts = None  # the crop the session's grasp was shown on
        self._plan = None  # (future, deadline) of the request in flight
        self._goal = None  # {'deadline', 'handle'} of the goal in flight
        for kind, topic, msg_type in (('color', 'crop/color', conv.Image),
                                      ('depth', 'crop/depth', conv.Image),
                                      ('info', 'crop/camera_info', conv.CameraInfo)):
            self.create_subscription(msg_type, topic, lambda m, k=kind: self.on_part(k, m),
                                     SENSOR_DATA)
        self.create_subscription(Grasp, 'grasp_planner/grasp', self.on_grasp, LATCHED)
        self.create_subscription(String, f'{ns}/follow_up', self.on_follow_up, COMMAND)
        self.create_subscription(String, f'{ns}/instruction', self.on_instruction, COMMAND)
        self.create_service(Trigger, f'{ns}/execute', self.on_execute_service)
        self.create_service(Trigger, f'{ns}/replan', self.on_replan_service)
        self.pub_state = self.create_publisher(String, f'{ns}/state', LATCHED)
        self.pub_grasp = self.create_publisher(Grasp, f'{ns}/grasp', LATCHED)
        self.plan_client = self.create_client(PlanGrasp, 'plan_grasp')
        self.execute_client = ActionClient(self, ExecuteGrasp, 'execute_grasp')
        self.server = InteractiveMarkerServer(self, ns)
        self.menu = MenuHandler()
        for title, entries in MENU:
            if title == FOLLOW_UP_MENU:
                parent = self.menu.insert(title)
                for text in entries:
                    self.menu.insert(text, parent=parent,
                                     callback=lambda f, t=text: self.command(self.follow_up, t))
            elif title == EXECUTE:
                self.menu.insert(title, callback=lambda f: self.command(self.execute))
            elif title == REPLAN:
                self.menu.insert(title, callback=lambda f: self.command(self.replan))
        # the wall clock: the bounds hold even when the sim's clock stands still
        self.create_timer(tick, self.check_deadlines,
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.show()
        self.get_logger().info(
            f'ready: interactive markers on {ns}/update ({IMPLEMENTATION}), state on '
            f'{self.pub_state.topic_name}')

    # -- inputs ---------------------------------------------------------------------------------

    def on_part(self, kind, msg):
        """Keep the latest crop whose colour, depth and info share one stamp."""
        parts = self.frames.add(kind, msg)
        if parts is not None:
            self.latest = parts

    def on_grasp(self, msg):
        """Show a grasp planned by another client (ours arrive with their answers)."""
        if self._plan is not None:
            return  # our own request's grasp: its answer brings it, with the session
        planned = self.core.planned_grasp
        try:
            grasp = conv.refined_grasp_from_msg(msg, self.base_frame)
        except RtGraspError as exc:
            self.report(f'grasp_planner/grasp ignored: {exc}')
            return
        if planned is not None and _same(planned, grasp):
            return
        if self.core.busy:
            self.report('a grasp planned by another client arrived during an execution: '
                        'not shown')
            return
        self.core.foreign(grasp)
        self.session_parts = self.latest
        self.get_logger().info('showing a grasp planned by another client (no session: '
                               'Re-plan starts one)')
        self.show()

    def on_follow_up(self, msg):
        """Send the panel's follow-up text."""
        self.command(self.follow_up, msg.data)

    def on_instruction(self, msg):
        """Start a new session with the panel's instruction."""
        self.command(self.replan, msg.data)

    def on_execute_service(self, request, response):
        """Start the execution; say whether it started."""
        response.success = self.command(self.execute)
        response.message = 'executing' if response.success else self.core.error
        return response

    def on_replan_service(self, request, response):
        """Start a new session; say whether it started."""
        response.success = self.command(self.replan)
        response.message = 'planning' if response.success else self.core.error
        return response

    def command(self, action, *args):
        """Run a command; a refusal or failure is logged and shown. Return whether it ran."""
        try:
            action(*args)
        except RtGraspError as exc:
            self.report(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 -- the node boundary: shown, logged, kept up
            self.get_logger().error(f'{type(exc).__name__}: {exc}\n{traceback.format_exc()}')
            self.report(f'{type(exc).__name__}: {exc}')
            return False
        finally:
            self.show()
        return True

    def report(self, message):
        """Log a refusal or failure and keep it for the marker and the state topic."""
        self.core.fail(message)
        self.get_logger().warn(message)

    # -- planning -------------------------------------------------------------------------------

    def replan(self, instruction=None):
        """Start a new session (the session's instruction, or ``instruction``)."""
        self._require_planner()
        self._send(self.core.plan(instruction))

    def follow_up(self, text):
        """Send a follow-up in the grasp's session (naming the user's correction)."""
        self._require_planner()
        self._send(self.core.follow_up(text))

    def _require_planner(self):
        if not self.plan_client.service_is_ready():
            raise RefinementError(f'{self.plan_client.srv_name} is not available: is '
                                  'grasp_planner running, with its model loaded?')

    def _send(self, call):
        request = PlanGrasp.Request(instruction=call.instruction, session_id=call.session_id,
                                    follow_up=call.follow_up)
        future = self.plan_client.call_async(request)
        self._plan = (future, time.monotonic() + self.plan_timeout)
        future.add_done_callback(self.on_plan_answer)
        what = f'follow-up {call.follow_up!r}' if call.follow_up else 'a new session'
        self.get_logger().info(f'asking {self.plan_client.srv_name}: {what}')

    def on_plan_answer(self, future):
        """Show the planner's answer (or why there is none)."""
        if self._plan is None or self._plan[0] is not future:
            return  # timed out before (reported then)
        self._plan = None
        try:
            response = future.result()
            if not response.success:
                raise RtGraspError(f'{self.plan_client.srv_name}: {response.message}')
            grasp = conv.refined_grasp_from_msg(response.grasp, self.base_frame)
        except Exception as exc:  # noqa: BLE001 -- a failed call or a bad answer: shown
            self.core.plan_failed(str(exc))
            self.get_logger().warn(str(exc))
        else:
            new_session = response.session_id != self.core.session_id
            self.core.planned(response.session_id, grasp)
            if new_session or self.session_parts is None:
                self.session_parts = self.latest
            self.get_logger().info(f'{self.core.headline()}: {grasp.answer!r}')
        self.show()

    # -- the user's drag ------------------------------------------------------------------------

    def on_marker_feedback(self, feedback):
        """Take the end of a drag (MOUSE_UP away from the grasp) as the user's correction."""
        if feedback.event_type != InteractiveMarkerFeedback.MOUSE_UP or self.core.grasp is None:
            return
        dragged = conv.pose_from_msg(feedback.pose)
        moved, turned = self.core.grasp.target.pose.distance_to(dragged)
        if moved < MOVED_M and turned < TURNED_RAD:
            return  # a click
        self.command(self.drag, feedback, dragged)

    def drag(self, feedback, dragged):
        """Place the dragged grasp on the depth there; it becomes what Execute sends."""
        frame_id = feedback.header.frame_id
        if frame_id and frame_id != self.base_frame:
            raise RefinementError(f'feedback pose in frame {frame_id!r}; the marker is in '
                                  f'{self.base_frame!r} (ignored)')
        if self.core.busy:
            raise RefinementError(f'the grasp cannot be moved now ({self.core.headline()}): '
                                  'it was put back')
        parts = self.session_parts or self.latest
        if parts is None:
            raise RefinementError('no camera crop (crop/color, crop/depth, crop/camera_info) '
                                  'has arrived: the dragged grasp cannot be placed; put back')
        base_from_camera = self.extrinsic.base_from_camera(parts[0].header.frame_id, None,
                                                           timeout=0.0)
        frame, _ = conv.frame_from_msgs(*parts, base_from_camera)
        planned = self.core.planned_grasp
        try:
            target, pixel = corrected_target(planned.target, dragged, frame, self.geometry)
        except RtGraspError as exc:
            raise RefinementError(f'{exc}; the grasp was put back') from None
        correction = self.core.drag(RefinedGrasp(target, planned.reasoning, planned.answer,
                                                 model_coordinates(pixel, frame)))
        self.get_logger().info(f'moved by the user: {correction.describe()}')

    # -- execution ------------------------------------------------------------------------------

    def execute(self):
        """Send the grasp on the marker (the corrected one, if moved) to /execute_grasp."""
        if not self.execute_client.server_is_ready():
            raise RefinementError('/execute_grasp is not available: is grasp_executor running?')
        self.core.execute()
        goal = ExecuteGrasp.Goal(grasp=conv.refined_grasp_to_msg(self.core.grasp, self.base_frame),
                                 lift_height=self.lift_height, hold_time=self.hold_time)
        self._goal = {'deadline': time.monotonic() + self.execute_timeout, 'handle': None}
        sent = self.execute_client.send_goal_async(goal, feedback_callback=self.on_progress)
        sent.add_done_callback(self.on_goal_response)
        self.get_logger().info(f'executing the grasp ({self.core.headline()})')

    def on_goal_response(self, future):
        """Wait for the result of an accepted goal; a rejected one fails at once."""
        if self._goal is None:
            return
        try:
            handle = future.result()
        except Exception as exc:  # noqa: BLE001 -- shown and logged
            handle, why = None, f'{type(exc).__name__}: {exc}'
        else:
            why = ('the executor rejected the goal (invalid, outside its workspace, or another '
                   'grasp is running: see its log)')
        if handle is None or not handle.accepted:
            self._goal = None
            self.core.executed(False, 'rejected', why)
            self.get_logger().warn(why)
            self.show()
            return
        self._goal['handle'] = handle
        handle.get_result_async().add_done_callback(self.on_result)

    def on_progress(self, feedback):
        """Show the executor's stage."""
        self.core.executing(feedback.feedback.stage)
        self.show()

    def on_result(self, future):
        """Show how the execution ended."""
        if self._goal is None:
            return
        self._goal = None
        try:
            result = future.result().result
        except Exception as exc:  # noqa: BLE001 -- shown and logged
            self.core.executed(False, 'error', f'{type(exc).__name__}: {exc}')
        else:
            self.core.executed(result.success, result.failure, result.message, result.stage)
        log = self.get_logger().info if self.core.stage is Stage.SUCCEEDED else \
            self.get_logger().warn
        log(f'{self.core.headline()} {self.core.error}')
        self.show()

    def check_deadlines(self):
        """End a plan request or a goal that ran past its bound (and say so)."""
        now = time.monotonic()
        if self._plan is not None and now > self._plan[1]:
            future, self._plan = self._plan[0], None
            self.plan_client.remove_pending_request(future)
            self.core.plan_failed(f'{self.plan_client.srv_name} gave no answer within '
                                  f'{self.plan_timeout:g} s')
            self.get_logger().warn(self.core.error)
            self.show()
        if self._goal is not None and now > self._goal['deadline']:
            handle, self._goal = self._goal['handle'], None
            if handle is not None:
                handle.cancel_goal_async()
            self.core.executed(False, 'timeout', f'/execute_grasp did not finish within '
                               f'{self.execute_timeout:g} s (cancel requested)')
            self.get_logger().warn(self.core.error)
            self.show()

    # -- output ---------------------------------------------------------------------------------

    def show(self):
        """Publish the marker (one update), the state and the grasp Execute sends."""
        marker = grasp_marker(self.core, self.base_frame)
        if marker is None:
            self.server.erase(MARKER)
        else:
            self.server.insert(marker, feedback_callback=self.on_marker_feedback)
            self.menu.apply(self.server, MARKER)
        self.server.applyChanges()
        state = {**self.core.snapshot(), 'frame': self.base_frame}
        self.pub_state.publish(String(data=json.dumps(state)))
        if self.core.grasp is not None:
            self.pub_grasp.publish(conv.refined_grasp_to_msg(self.core.grasp, self.base_frame))

    def destroy_node(self):
        """Erase the marker for the clients, then destroy the node."""
        try:
            self.server.shutdown()
        finally:
            super().destroy_node()


def _same(a, b):
    """Whether two grasps are the same planned grasp (same answer, same pose)."""
    moved, turned = a.target.pose.distance_to(b.target.pose)
    return a.answer == b.answer and moved < 1e-6 and turned < 1e-6


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(GraspRefinementNode, args)


if __name__ == '__main__':
    sys.exit(main())
