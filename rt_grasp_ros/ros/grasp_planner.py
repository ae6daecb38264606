"""
The /plan_grasp service: the model reasons about the latest crop and predicts a grasp.

The answer becomes a TCP pose in the base frame (depth at the grasp, intrinsics, the camera
extrinsic) in the core; this node converts messages, calls the core once and publishes the
grasp (latched) and RViz markers.

The parameter ``task`` says which answer the model gives: ``grasp`` (RT-Grasp, MODE_GRASP:
``response.grasp``, latched on ``~/grasp``) or ``contact`` (ManipLLM, MODE_CONTACT: the chain
of thought, category -> affordance reasoning -> contact pose, answered as ``response.contact``
and latched on ``~/contact``; ``cot: false`` asks the pose prompt alone). A request in the
other mode is answered ``success: false`` naming ``mode``. Both publish RViz markers on
``~/markers`` and keep refinement sessions (``session_id`` + ``follow_up``; in contact mode a
follow-up re-asks the pose turn in the same conversation). ``response.session_id`` and, in
contact mode, ``response.contact.session_id`` name the session.

Test-time adaptation (ManipLLM's TTA, ``tta: true``, task contact only). The model is a
:class:`~rt_grasp_ros.manip.tta.TrialAdapter`'s backbone, so contacts are predicted with the
adapted vision LoRA. ``~/adapt`` (rt_grasp/AdaptContact: a session_id and whether operating
on its contact moved the part) adapts it on that session's image and latest contact pixel
(:mod:`rt_grasp_ros.planning.adaptation`) and saves the adapted weights to ``tta_dir``;
``~/reset_adaptation`` (std_srvs/Trigger) restores the model's own. /plan_grasp and both
services share one mutually exclusive callback group: the model is never used by two at once.
With ``tta: false`` both answer ``success: false`` and why.

Readiness. The model loads in the background; the node publishes rt_grasp/PlannerStatus
latched on ``~/status`` (``/grasp_planner/status``): LOADING, then READY or FAILED with the
load's cause, and advertises /plan_grasp only once the load has ended. So a client that does
what every ROS client does, ``wait_for_service()`` and call, gets a plan; a planner whose load
failed (for any reason: a bad checkpoint, ImportError, out of memory) answers every request
with ``success: false`` and that cause, which is in the log too. A latched topic rather than a
lifecycle node: the lifecycle tooling (``ros2 lifecycle``, launch_ros's lifecycle events, a
lifecycle manager) is not on PyPI, so clients here would have to poll ``get_state`` over a
service, and a lifecycle node's services are up before it is active; a latched topic is read
by any client (rclpy, ``ros2 topic echo``) and a late subscriber gets the current state at once.

Every request gets an answer: its fields are checked against the limits (parameters, see
:mod:`rt_grasp_ros.planning.limits`) before the model sees them, and anything the core or the
model raises becomes ``success: false`` with the cause, so one bad request never ends the node.
"""

from pathlib import Path
import sys
import threading
import time
import traceback

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.msg import ContactPose, Grasp, PlannerStatus
from rt_grasp.srv import AdaptContact, PlanGrasp
from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.planning.adaptation import default_tta_dir
from rt_grasp_ros.planning.limits import LIMIT_FIELDS, PlannerLimits
from rt_grasp_ros.planning.plan import PlanOptions
from rt_grasp_ros.planning.sessions import SessionPlanner
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.frame_sync import FrameMatcher
from rt_grasp_ros.ros.frames import CameraExtrinsic
from rt_grasp_ros.ros.markers import contact_markers, grasp_markers
from rt_grasp_ros.ros.params import above, between, declare, one_of, run_node
from rt_grasp_ros.ros.qos import LATCHED, SENSOR_DATA
from rt_grasp_ros.vlm.backbone import DEFAULT_DTYPE, DTYPES
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

TASK_MODES = {'grasp': PlanGrasp.Request.MODE_GRASP, 'contact': PlanGrasp.Request.MODE_CONTACT}
MODE_NAMES = {PlanGrasp.Request.MODE_GRASP: 'MODE_GRASP', PlanGrasp.Request.MODE_CONTACT:
              'MODE_CONTACT'}


class GraspPlannerNode(Node):
    """Serves /plan_grasp from the latest workspace crop, once the model has loaded."""

    def __init__(self):
        super().__init__('grasp_planner')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        self.model_path = declare(self, 'model', '', 'checkpoint folder or hub id',
                                  bool, 'a checkpoint folder or a hub id')
        self.gripper = GripperKind(declare(self, 'gripper', 'parallel', 'parallel or suction',
                                           one_of('parallel', 'suction'),
                                           "'parallel' or 'suction'"))
        self.task = declare(self, 'task', 'grasp',
                            'grasp (RT-Grasp, MODE_GRASP) or contact (ManipLLM, MODE_CONTACT)',
                            one_of(*TASK_MODES), "'grasp' or 'contact'")
        self.cot = declare(self, 'cot', True, 'task contact: ask the chain of thought '
                           '(false: the pose prompt alone, the "w/o CoT" ablation)')
        self.extrinsic = CameraExtrinsic(self, self.base_frame)
        self.dtype = declare(self, 'dtype', DEFAULT_DTYPE,
                             'model dtype: auto = bfloat16 on CUDA, float32 on CPU',
                             one_of(*DTYPES), '|'.join(DTYPES))
        self.merge_adapter = declare(self, 'merge_adapter', False,
                                     'merge a LoRA adapter into the weights for inference')
        self.limits = PlannerLimits(**{
            name: declare(self, name, spec.default, spec.description, spec.check, spec.expected)
            for name, spec in LIMIT_FIELDS.items()})
        self.tta = self._tta_params()
        self.adaptation = None  # the ContactAdaptation, with tta on once loaded
        self.planner = None
        self.failure = ''  # why the load failed, in every answer
        self.service = None
        self.latest = None
        self.frames = FrameMatcher()
        sensors = ReentrantCallbackGroup()
        for kind, topic, msg_type in (('color', 'crop/color', conv.Image),
                                      ('depth', 'crop/depth', conv.Image),
                                      ('info', 'crop/camera_info', conv.CameraInfo)):
            self.create_subscription(msg_type, topic, lambda m, k=kind: self.on_part(k, m),
                                     SENSOR_DATA, callback_group=sensors)
        self.pub_grasp = self.create_publisher(Grasp, '~/grasp', LATCHED)
        self.pub_contact = self.create_publisher(ContactPose, '~/contact', LATCHED)
        self.pub_markers = self.create_publisher(MarkerArray, '~/markers', LATCHED)
        self.pub_status = self.create_publisher(PlannerStatus, '~/status', LATCHED)
        # The loader thread triggers it; on_loaded then runs in the executor, which advertises
        # the service (entities are created on the executor's side, not from another thread).
        self.loaded = self.create_guard_condition(self.on_loaded)
        self.publish_status(PlannerStatus.LOADING, f'loading {self.model_path}')
        threading.Thread(target=self.load, name='model-loader', daemon=True).start()
        tta = (f'; test-time adaptation on, adapted weights in {self.tta["out"]}'
               if self.tta else '')
        self.get_logger().info(
            f'ready: loading model {self.model_path!r}; /plan_grasp is advertised once the '
            f'load ends (state on {self.pub_status.topic_name}){tta}')

    def _tta_params(self):
        """Declare tta and its settings; return them (a dict) with tta on, else None."""
        tta = declare(self, 'tta', False, "task contact: ManipLLM's test-time adaptation (~/adapt "
                      'updates the model with an outcome, ~/reset_adaptation restores it)')
        folder = declare(self, 'tta_dir', '', 'where adapted weights are saved (empty: <ROS '
                         'home>/rt_grasp/tta/<node name>); never inside the model folder')
        steps = declare(self, 'tta_steps', 1, 'gradient steps per outcome', between(1, 100))
        rate = declare(self, 'tta_learning_rate', 1e-4, 'AdamW step size of the adaptation',
                       above(0.0, 1.0))
        if not tta:
            return None
        if self.task != 'contact':
            raise ConfigError('parameter tta=True needs task:=contact (it adapts the ManipLLM '
                              f'contact model), not task {self.task!r}')
        if self.dtype not in ('auto', 'float32'):
            raise ConfigError(f'parameter dtype={self.dtype!r} with tta=True: the adapted model '
                              'trains in float32 (expected dtype auto or float32)')
        if self.merge_adapter:
            raise ConfigError('parameter merge_adapter=True with tta=True: the adaptation keeps '
                              'the vision adapter apart (expected merge_adapter false)')
        out = Path(folder) if folder else default_tta_dir(self.get_fully_qualified_name())
        return {'out': out, 'steps': steps, 'learning_rate': rate}

    def publish_status(self, state, message):
        self.pub_status.publish(conv.planner_status_to_msg(
            state, self.model_path, message, self.get_clock().now().to_msg()))

    def load(self):
        """Load the model (loader thread); whatever happens, on_loaded runs afterwards."""
        start = time.monotonic()
        try:
            place = {}
            if self.task == 'contact':
                from rt_grasp_ros.planning.contact import load_contact_model, place_contact

                place = {'place': place_contact}
                if self.tta:
                    predictor = self.load_adaptation()
                else:
                    predictor = load_contact_model(self.model_path, self.cot, self.dtype,
                                                   self.merge_adapter)
            else:
                from rt_grasp_ros.vlm.predictor import GraspPredictor

                predictor = GraspPredictor.from_pretrained(
                    self.model_path, dtype=self.dtype, merge_adapter=self.merge_adapter)
            self.planner = SessionPlanner(predictor, PlanOptions(gripper=self.gripper),
                                          self.limits, whole_frame=True, **place)
            self.load_time = time.monotonic() - start
        except Exception as exc:  # noqa: BLE001 -- any failure (bad checkpoint, ImportError,
            # out of memory) ends LOADING as FAILED with its cause, in the log and every answer
            self.failure = (f'model {self.model_path!r} failed to load: '
                            f'{type(exc).__name__}: {exc}')
            self.get_logger().debug(traceback.format_exc())
        finally:
            self.loaded.trigger()

    def load_adaptation(self):
        """Load the model for test-time adaptation (loader thread); return the planner's model."""
        from rt_grasp_ros.manip.tta import TTAConfig
        from rt_grasp_ros.planning.adaptation import ContactAdaptation

        config = TTAConfig(steps=self.tta['steps'], learning_rate=self.tta['learning_rate'])
        self.adaptation = ContactAdaptation.load(self.model_path, self.tta['out'], config,
                                                 cot=self.cot)
        return self.adaptation.model

    def on_loaded(self):
        """Publish READY or FAILED, then advertise /plan_grasp (once)."""
        if self.service is not None:
            return
        if self.planner is not None:
            self.publish_status(PlannerStatus.READY,
                                f'loaded {self.model_path} in {self.load_time:.1f} s')
            self.get_logger().info(f'model loaded: {self.model_path} ({self.load_time:.1f} s); '
                                   'serving /plan_grasp')
        else:
            self.failure = self.failure or f'the load of {self.model_path!r} was interrupted'
            self.publish_status(PlannerStatus.FAILED, self.failure)
            self.get_logger().error(f'{self.failure}; /plan_grasp answers every request with '
                                    'success: false and this cause')
        # one mutually exclusive group: the model plans or adapts, never both at once
        model = MutuallyExclusiveCallbackGroup()
        self.create_service(AdaptContact, '~/adapt', self.on_adapt, callback_group=model)
        self.create_service(Trigger, '~/reset_adaptation', self.on_reset, callback_group=model)
        self.service = self.create_service(PlanGrasp, 'plan_grasp', self.on_plan,
                                           callback_group=model)

    def on_part(self, kind, msg):
        """Keep the latest crop whose colour, depth and info share one stamp."""
        parts = self.frames.add(kind, msg)
        if parts is not None:
            self.latest = parts

    def on_plan(self, request, response):
        """Validate and convert the request, plan once, convert back; always answer."""
        if self.planner is None:
            response.message = self.failure
            return response
        if request.mode != TASK_MODES[self.task]:
            response.message = self.mode_refusal(request.mode)
            return response
        try:
            frame, origin = self.frame_for(request)
            answer = self.planner.plan(frame, conv.plan_request_from_msg(request))
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        except Exception as exc:  # noqa: BLE001 -- the node boundary: every request is answered
            self.get_logger().error(f'/plan_grasp failed: {type(exc).__name__}: {exc}\n'
                                    f'{traceback.format_exc()}')
            response.message = f'planning failed: {type(exc).__name__}: {exc}'
            return response
        plan = answer.plan
        response.session_id = answer.session_id
        response.timings = conv.timings_to_msg(plan.timings)
        if self.task == 'contact':
            return self.contact_answer(answer, origin, response)
        if plan.prediction is not None:
            response.grasp.reasoning = plan.prediction.reasoning or ''
            response.grasp.answer = plan.prediction.text
        if not plan.ok:
            response.message = plan.reason
            return response
        response.grasp = conv.grasp_to_msg(plan, self.base_frame, origin)
        response.success = True
        response.message = f'planned; {answer.note}' if answer.note else 'planned'
        self.pub_grasp.publish(response.grasp)
        self.pub_markers.publish(grasp_markers(response.grasp, self.get_clock().now().to_msg()))
        return response

    def tta_refusal(self):
        """Say why this planner does not adapt (None: it does)."""
        if self.planner is None:
            return self.failure
        if self.adaptation is None:
            return (f'tta is false: this planner (task {self.task!r}) does not adapt its '
                    'model; start one with task:=contact tta:=true')
        return None

    def on_adapt(self, request, response):
        """Adapt the model on a session's contact and its outcome; always answer."""
        refused = self.tta_refusal()
        if refused:
            response.message = refused
            return response
        start = time.monotonic()
        try:
            answer = self.adaptation.adapt(self.planner, request.session_id, request.moved)
        except Exception as exc:  # noqa: BLE001 -- the node boundary: every request is answered
            self.get_logger().error(f'~/adapt failed: {type(exc).__name__}: {exc}\n'
                                    f'{traceback.format_exc()}')
            response.message = f'adaptation failed: {type(exc).__name__}: {exc}'
            return response
        response.success, response.message = answer.success, answer.message
        response.trials = answer.trials
        response.loss_before, response.loss_after = answer.loss_before, answer.loss_after
        said = f'~/adapt ({time.monotonic() - start:.2f} s): {answer.message}'
        if answer.success:  # one severity per call site (rclpy's rule)
            self.get_logger().info(said)
        else:
            self.get_logger().warning(said)
        return response

    def on_reset(self, request, response):
        """Restore the model's own vision adapter (std_srvs/Trigger)."""
        refused = self.tta_refusal()
        if refused:
            response.message = refused
            return response
        try:
            response.message = self.adaptation.reset()
        except Exception as exc:  # noqa: BLE001 -- the node boundary: every request is answered
            response.message = f'reset failed: {type(exc).__name__}: {exc}'
            self.get_logger().error(f'~/reset_adaptation: {response.message}')
            return response
        response.success = True
        self.get_logger().info(f'~/reset_adaptation: {response.message}')
        return response

    def mode_refusal(self, mode):
        """Say why ``mode`` is not served here, naming the field."""
        if mode not in MODE_NAMES:
            return (f'mode: {mode} is neither MODE_GRASP (0) nor MODE_CONTACT (1)')
        served = TASK_MODES[self.task]
        other = 'contact' if self.task == 'grasp' else 'grasp'
        return (f'mode: {MODE_NAMES[mode]} ({mode}) is not served by this planner (task '
                f'{self.task!r} answers {MODE_NAMES[served]} ({served})); a planner started '
                f'with task:={other} serves it')

    def contact_answer(self, answer, origin, response):
        """Fill in ``response.contact`` from a PlannedContact; publish it and its markers."""
        plan = answer.plan
        response.contact.session_id = answer.session_id
        if not plan.ok:
            if plan.prediction is not None:  # what the model said, even without a contact
                chain = list(plan.prediction.chain)
                response.contact.chain = chain
                response.contact.reasoning = plan.prediction.reasoning
                response.contact.answer = chain[-1] if chain else ''
            response.message = plan.reason
            return response
        x0, y0 = plan.crop.origin
        response.contact = conv.contact_to_msg(
            plan.contact, plan.crop.frame, self.base_frame, prediction=plan.prediction,
            origin=(origin[0] + x0, origin[1] + y0))
        response.contact.session_id = answer.session_id
        response.success = True
        response.message = f'planned; {answer.note}' if answer.note else 'planned'
        self.pub_contact.publish(response.contact)
        self.pub_markers.publish(contact_markers(response.contact,
                                                 self.get_clock().now().to_msg()))
        return response

    def frame_for(self, request):
        """Return the request's own images or the latest crop (None if none), and its origin."""
        if request.image.width:
            return conv.frame_from_msgs(request.image, request.depth, request.camera_info,
                                        self.base_from_camera(request.image))
        latest = self.latest
        if latest is None:  # the core says why, once it has checked the request's fields
            return None, (0, 0)
        return conv.frame_from_msgs(*latest, self.base_from_camera(latest[0]))

    def base_from_camera(self, image):
        """Return the camera pose in the base frame for ``image`` (its frame and stamp)."""
        return self.extrinsic.base_from_camera(image.header.frame_id, image.header.stamp,
                                               timeout=1.0)


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(GraspPlannerNode, args, threads=3)


if __name__ == '__main__':
    sys.exit(main())
