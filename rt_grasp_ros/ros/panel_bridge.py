"""
The refinement panel's rclpy bridge: the stack's interfaces as panel events, off the GUI thread.

What it uses (the stack's existing interfaces):

- /plan_grasp (rt_grasp/srv/PlanGrasp): Plan starts a session with an instruction; Refine sends
  a free follow-up in that session (session_id + follow_up), so it works with any planner;
- /execute_grasp (rt_grasp/action/ExecuteGrasp): its feedback stages and result;
- crop/color, crop/depth, crop/camera_info (SENSOR_DATA; the info is latched), matched by
  stamp with :class:`~rt_grasp_ros.ros.frame_sync.FrameMatcher`: the crop the grasp is drawn on;
- grasp_planner/status (latched rt_grasp/PlannerStatus): LOADING, READY or FAILED;
- grasp_planner/grasp (latched rt_grasp/Grasp): a grasp planned elsewhere (a follow-up from
  the RViz menu, ``rt-grasp ros plan``) is shown too; the panel's own answers come back on it
  as well and the panel's state shows them once.

Threads. The node spins in an executor thread of the bridge (or in rqt's, given rqt's node);
each request runs in a short-lived worker thread that waits, with deadlines, for the service
and the answer. Nothing here runs in the caller's (GUI) thread beyond starting that thread;
results, and every failure with its cause, reach the panel through ``post(event)``.
"""

import threading
import time

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.panel.model import (
    CropArrived,
    CropImage,
    ExecutionFinished,
    GraspPublished,
    GraspView,
    PlanAnswered,
    PlannerState,
    StackError,
    StageReached,
)

STATE_NAMES = {0: 'LOADING', 1: 'READY', 2: 'FAILED'}  # rt_grasp/PlannerStatus


def grasp_view(msg) -> GraspView:
    """Return an rt_grasp/Grasp as the panel's GraspView (the message kept for execution)."""
    p = msg.pose.pose.position
    return GraspView(
        x=float(msg.image.x), y=float(msg.image.y), theta=float(msg.image.theta),
        u=float(msg.image.u), v=float(msg.image.v), width_px=float(msg.image.width_px),
        width=float(msg.width), position=(float(p.x), float(p.y), float(p.z)),
        frame_id=msg.pose.header.frame_id, reasoning=msg.reasoning, answer=msg.answer,
        message=msg)


class PanelBridge:
    """
    The panel's view of the stack over rclpy (see the module docstring).

    ``node``: a node that someone else spins (rqt's ``context.node``); None: the bridge makes
    its own context, node and executor thread. Timeouts are wall-clock seconds.
    """

    def __init__(self, node=None, name='rt_grasp_panel', service_timeout=30.0,
                 plan_timeout=180.0, execute_timeout=180.0, frame_period=0.1):
        self.service_timeout = service_timeout
        self.plan_timeout = plan_timeout
        self.execute_timeout = execute_timeout
        self.frame_period = frame_period
        self._post = None
        self._closing = threading.Event()
        self._context = self._executor = self._spinner = None
        self._owns_node = node is None
        self._node = node
        self._name = name
        self._last_frame = 0.0
        self._planner = None

    # --- set-up and tear-down ---

    def connect(self, post):
        """Start: subscribe, create the clients and call ``post(event)`` from now on."""
        import rclpy
        from rclpy.action import ActionClient
        from rclpy.callback_groups import ReentrantCallbackGroup
        from rclpy.executors import MultiThreadedExecutor
        from rt_grasp.action import ExecuteGrasp
        from rt_grasp.msg import Grasp, PlannerStatus
        from rt_grasp.srv import PlanGrasp
        from rt_grasp_ros.ros import conversions as conv
        from rt_grasp_ros.ros.frame_sync import FrameMatcher
        from rt_grasp_ros.ros.qos import LATCHED, SENSOR_DATA

        self._post = post
        if self._owns_node:
            self._context = rclpy.Context()
            rclpy.init(context=self._context)
            self._node = rclpy.create_node(self._name, context=self._context)
        node = self._node
        group = ReentrantCallbackGroup()
        self._frames = FrameMatcher()
        self._conv = conv
        self.plan_client = node.create_client(PlanGrasp, 'plan_grasp', callback_group=group)
        self.execute_client = ActionClient(node, ExecuteGrasp, 'execute_grasp',
                                           callback_group=group)
        self._PlanGrasp, self._ExecuteGrasp = PlanGrasp, ExecuteGrasp
        for kind, topic, msg_type in (('color', 'crop/color', conv.Image),
                                      ('depth', 'crop/depth', conv.Image),
                                      ('info', 'crop/camera_info', conv.CameraInfo)):
            node.create_subscription(msg_type, topic, lambda m, k=kind: self._on_part(k, m),
                                     SENSOR_DATA, callback_group=group)
        node.create_subscription(PlannerStatus, 'grasp_planner/status', self._on_status,
                                 LATCHED, callback_group=group)
        node.create_subscription(Grasp, 'grasp_planner/grasp', self._on_grasp, LATCHED,
                                 callback_group=group)
        if self._owns_node:
            self._executor = MultiThreadedExecutor(num_threads=2, context=self._context)
            self._executor.add_node(node)
            self._spinner = threading.Thread(target=self._spin, name='panel-ros', daemon=True)
            self._spinner.start()

    def _spin(self):
        from rclpy.executors import ExternalShutdownException

        try:
            self._executor.spin()
        except ExternalShutdownException:
            pass  # close() shut the context down: the normal end
        except Exception as exc:  # noqa: BLE001 -- the thread's boundary: shown in the panel
            self._emit(StackError('ros', f'the executor stopped: {type(exc).__name__}: {exc}'))

    def close(self):
        """Stop the workers' waits, the executor thread and the node (if the bridge's own)."""
        import rclpy

        self._closing.set()
        if not self._owns_node or self._node is None:
            return
        if self._executor is not None:
            self._executor.shutdown(timeout_sec=2.0)
        self._node.destroy_node()
        rclpy.try_shutdown(context=self._context)
        if self._spinner is not None:
            self._spinner.join(timeout=5.0)
        self._node = None

    def _emit(self, event):
        if self._post is not None and not self._closing.is_set():
            self._post(event)

    # --- requests (return at once; the answer comes as an event) ---

    def plan(self, instruction):
        """Start a new session: /plan_grasp with ``instruction``."""
        request = self._PlanGrasp.Request(instruction=instruction)
        self._start('plan', self._plan_worker, 'plan', request)

    def follow_up(self, session_id, text):
        """Refine: /plan_grasp with ``text`` as a follow-up in ``session_id``."""
        if not session_id:
            raise RtGraspError('a follow-up needs a session: plan first')
        request = self._PlanGrasp.Request(session_id=session_id, follow_up=text)
        self._start('follow_up', self._plan_worker, 'follow_up', request)

    def execute(self, grasp):
        """Send /execute_grasp with ``grasp`` (a GraspView holding its rt_grasp/Grasp)."""
        if grasp is None or grasp.message is None:
            raise RtGraspError('no grasp message to execute: plan first')
        goal = self._ExecuteGrasp.Goal(grasp=grasp.message)
        self._start('execute', self._execute_worker, goal)

    def _start(self, what, target, *args):
        if self._node is None:
            raise RtGraspError('the panel bridge is not connected (or already closed)')

        def run():
            try:
                target(*args)
            except RtGraspError as exc:
                self._emit(StackError(what, str(exc)))
            except Exception as exc:  # noqa: BLE001 -- the worker's boundary: shown, not lost
                self._emit(StackError(what, f'{type(exc).__name__}: {exc}'))

        threading.Thread(target=run, name=f'panel-{what}', daemon=True).start()

    def _wait(self, future, timeout, what):
        """Wait (this worker thread) until ``future`` is done; RtGraspError on timeout."""
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        deadline = time.monotonic() + timeout
        while not done.wait(0.05):
            if self._closing.is_set():
                raise RtGraspError(f'{what}: the panel is closing')
            if time.monotonic() > deadline:
                future.cancel()
                raise RtGraspError(f'{what} gave no answer within {timeout:.0f} s')
        exc = future.exception()
        if exc is not None:
            raise RtGraspError(f'{what} failed: {type(exc).__name__}: {exc}')
        return future.result()

    def _plan_worker(self, kind, request):
        start = time.monotonic()
        if not self.plan_client.wait_for_service(timeout_sec=self.service_timeout):
            raise RtGraspError(
                f'/plan_grasp did not come up within {self.service_timeout:.0f} s; '
                f'{self._describe_planner()}')
        response = self._wait(self.plan_client.call_async(request), self.plan_timeout,
                              '/plan_grasp')
        ok = bool(response.success)
        self._emit(PlanAnswered(
            kind=kind, success=ok, message=response.message, session_id=response.session_id,
            grasp=grasp_view(response.grasp) if ok else None,
            reasoning=response.grasp.reasoning, answer=response.grasp.answer,
            seconds=time.monotonic() - start))

    def _execute_worker(self, goal):
        if not self.execute_client.wait_for_server(timeout_sec=self.service_timeout):
            raise RtGraspError(f'action /execute_grasp did not come up within '
                               f'{self.service_timeout:.0f} s (is grasp_executor running?)')
        sent = self.execute_client.send_goal_async(
            goal, feedback_callback=lambda f: self._emit(StageReached(f.feedback.stage)))
        handle = self._wait(sent, self.service_timeout, '/execute_grasp goal')
        if handle is None or not handle.accepted:
            raise RtGraspError('/execute_grasp rejected the goal (invalid or '
                               'outside_workspace: the executor logs which)')
        try:
            wrapped = self._wait(handle.get_result_async(), self.execute_timeout,
                                 '/execute_grasp')
        except RtGraspError:
            handle.cancel_goal_async()
            raise
        result = wrapped.result
        self._emit(ExecutionFinished(success=bool(result.success), failure=result.failure,
                                     message=result.message, stage=result.stage))

    # --- subscriptions (executor threads) ---

    def _describe_planner(self):
        status = self._planner
        if status is None:
            return 'no status on grasp_planner/status: is a grasp_planner running?'
        return f'the planner is {status.state}: {status.message}'

    def _on_status(self, msg):
        self._planner = PlannerState(STATE_NAMES.get(msg.state, str(msg.state)), msg.message)
        self._emit(self._planner)

    def _on_grasp(self, msg):
        self._emit(GraspPublished(grasp_view(msg)))

    def _on_part(self, kind, msg):
        parts = self._frames.add(kind, msg)
        if parts is None:
            return
        now = time.monotonic()
        if now - self._last_frame < self.frame_period:
            return  # the panel needs no more than a few crops a second
        self._last_frame = now
        color, _, info = parts
        try:
            rgb = self._conv.rgb_from_msg(color)
        except RtGraspError as exc:
            self._emit(StackError('crop/color', str(exc)))
            return
        self._emit(CropArrived(CropImage(
            rgb=rgb, origin=(int(info.roi.x_offset), int(info.roi.y_offset)),
            roi_size=(int(info.roi.width), int(info.roi.height)))))
