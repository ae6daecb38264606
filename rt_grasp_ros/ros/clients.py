"""
Thin rclpy clients: `rt-grasp ros plan|execute|manipulate` (the ros2 CLI's twins).

Readiness of the planner is what any ROS client sees: /plan_grasp is advertised only once the
model has loaded (or failed to, then every answer says why). The latched
``grasp_planner/status`` (rt_grasp/PlannerStatus) only explains a service that does not come:
still LOADING, or no planner at all.
"""

import time

import rclpy
from rclpy.action import ActionClient
from rt_grasp.action import ExecuteGrasp, ImpedanceAdaptation
from rt_grasp.msg import PlannerStatus
from rt_grasp.srv import GetPartState, GetSceneContact, GetSceneGrasps, PlanGrasp, ResetScene
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.ros.qos import LATCHED

PLANNER_STATUS = 'grasp_planner/status'
STATE_NAMES = {PlannerStatus.LOADING: 'LOADING', PlannerStatus.READY: 'READY',
               PlannerStatus.FAILED: 'FAILED'}


class PlannerWatch:
    """The planner's latched status as a node's subscription sees it (None until one came)."""

    def __init__(self, node, topic=PLANNER_STATUS):
        self.status = None
        node.create_subscription(PlannerStatus, topic, self._on_status, LATCHED)

    def _on_status(self, msg):
        self.status = msg

    def describe(self):
        """Say what the planner is doing, in words."""
        if self.status is None:
            return f'no status on {PLANNER_STATUS}: is a grasp_planner running?'
        state = STATE_NAMES.get(self.status.state, str(self.status.state))
        return f'the planner is {state}: {self.status.message}'


def wait_for_plan_service(node, client, watch, timeout):
    """
    Spin ``node`` until ``client``'s service is advertised; RtGraspError after ``timeout`` s.

    The error says what the planner's status topic says (still loading, or no planner).
    """
    deadline = time.monotonic() + timeout
    while not client.service_is_ready():
        if time.monotonic() > deadline:
            raise RtGraspError(
                f'{client.srv_name} did not come up within {timeout:.0f} s; {watch.describe()}')
        rclpy.spin_once(node, timeout_sec=0.1)


class StackClient:
    """A node with clients of /plan_grasp, /execute_grasp and the sim's ground truth."""

    def __init__(self, name='rt_grasp_cli'):
        self._owns = not rclpy.ok()
        if self._owns:
            rclpy.init()
        self.node = rclpy.create_node(name)
        self.plan_client = self.node.create_client(PlanGrasp, 'plan_grasp')
        self.planner = PlannerWatch(self.node)
        self.truth_client = self.node.create_client(GetSceneGrasps, 'sim/scene_grasps')
        self.execute_client = ActionClient(self.node, ExecuteGrasp, 'execute_grasp')
        self.contact_client = self.node.create_client(GetSceneContact, 'sim/scene_contact')
        self.part_client = self.node.create_client(GetPartState, 'sim/part_state')
        self.reset_client = self.node.create_client(ResetScene, 'sim/reset')
        self.manipulate_client = ActionClient(self.node, ImpedanceAdaptation,
                                              'impedance_adaptation')

    def _call(self, client, request, timeout):
        if not client.wait_for_service(timeout_sec=timeout):
            raise RtGraspError(f'service {client.srv_name} is not available (is the stack up?)')
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout)
        if not future.done():
            raise RtGraspError(f'{client.srv_name} did not answer within {timeout:.0f} s')
        return future.result()

    def plan(self, instruction='', session_id='', follow_up='', samples=1, timeout=120.0,
             contact=False):
        """Call /plan_grasp (a grasp, or with ``contact`` a contact pose); the response."""
        mode = PlanGrasp.Request.MODE_CONTACT if contact else PlanGrasp.Request.MODE_GRASP
        request = PlanGrasp.Request(instruction=instruction, session_id=session_id,
                                    follow_up=follow_up, samples=samples, mode=mode)
        wait_for_plan_service(self.node, self.plan_client, self.planner, timeout)
        return self._call(self.plan_client, request, timeout)

    def plan_contact(self, instruction='', timeout=120.0):
        """Call /plan_grasp in MODE_CONTACT (ManipLLM's chain of thought); the response."""
        return self.plan(instruction, timeout=timeout, contact=True)

    def planner_running(self, timeout=3.0):
        """Whether a planner's latched status arrives within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self.planner.status is None and time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.1)
        return self.planner.status is not None

    def ground_truth(self, timeout=20.0):
        """Return the sim's ground-truth grasps of its target object (obj0)."""
        response = self._call(self.truth_client, GetSceneGrasps.Request(object='obj0'), timeout)
        if not response.success or not response.grasps:
            raise RtGraspError(f'no ground-truth grasp: {response.message}')
        return response.grasps

    def execute(self, grasp, lift=0.0, hold=0.0, feedback=None, timeout=120.0):
        """Send /execute_grasp and wait for the result."""
        goal = ExecuteGrasp.Goal(grasp=grasp, lift_height=lift, hold_time=hold)
        return self._run_action(self.execute_client, '/execute_grasp', goal, feedback, timeout)

    def scene_contact(self, seed=0, timeout=60.0):
        """Return the sim's oracle contact pose on its articulated part (rt_grasp/ContactPose)."""
        response = self._call(self.contact_client, GetSceneContact.Request(seed=seed), timeout)
        if not response.success:
            raise RtGraspError(f'no oracle contact: {response.message}')
        return response.contact

    def reset(self, seed, articulated='', timeout=120.0):
        """Reset the sim to the scene of ``seed`` (an articulated category's, if given)."""
        request = ResetScene.Request(seed=seed, articulated=articulated)
        response = self._call(self.reset_client, request, timeout)
        if not response.success:
            raise RtGraspError(f'sim/reset failed: {response.message}')
        return response

    def part_state(self, timeout=20.0):
        """Return the sim's articulated part: (joint type, position)."""
        response = self._call(self.part_client, GetPartState.Request(), timeout)
        if not response.success:
            raise RtGraspError(f'no articulated part: {response.message}')
        return response.joint_type, response.position

    def manipulate(self, contact, feedback=None, timeout=300.0, **limits):
        """Send /impedance_adaptation for ``contact`` (limits: the goal's fields); the result."""
        goal = ImpedanceAdaptation.Goal(contact=contact, **limits)
        return self._run_action(self.manipulate_client, '/impedance_adaptation', goal, feedback,
                                timeout)

    def _run_action(self, client, name, goal, feedback, timeout):
        if not client.wait_for_server(timeout_sec=20.0):
            raise RtGraspError(f'action {name} is not available (is the stack up?)')
        sent = client.send_goal_async(
            goal, feedback_callback=(lambda f: feedback(f.feedback)) if feedback else None)
        rclpy.spin_until_future_complete(self.node, sent, timeout_sec=20.0)
        handle = sent.result()
        if handle is None or not handle.accepted:
            raise RtGraspError(f'{name} rejected the goal (its log says why)')
        result = handle.get_result_async()
        end = time.monotonic() + timeout
        while not result.done() and time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.1)
        if not result.done():
            handle.cancel_goal_async()
            raise RtGraspError(f'{name} did not finish within {timeout:.0f} s')
        return result.result().result

    def close(self):
        """Destroy the node (and shut rclpy down if this client started it)."""
        self.node.destroy_node()
        if self._owns:
            rclpy.try_shutdown()
