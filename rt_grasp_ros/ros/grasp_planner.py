"""
The /plan_grasp service: the model reasons about the latest crop and predicts a grasp.

The answer becomes a TCP pose in the base frame (depth at the grasp, intrinsics, the camera
extrinsic) in the core; this node converts messages, calls the core once and publishes the
grasp (latched) and RViz markers.
"""

import sys
import threading

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rt_grasp.msg import Grasp
from rt_grasp.srv import PlanGrasp
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.planning.plan import PlanOptions
from rt_grasp_ros.planning.sessions import PlanRequest, SessionPlanner, whole_image
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.markers import grasp_markers
from rt_grasp_ros.ros.params import declare, one_of, run_node
from rt_grasp_ros.ros.qos import LATCHED, SENSOR_DATA
from rt_grasp_ros.transforms import Pose
from visualization_msgs.msg import MarkerArray


class GraspPlannerNode(Node):
    """Serves /plan_grasp from the latest workspace crop."""

    def __init__(self):
        super().__init__('grasp_planner')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        self.model_path = declare(self, 'model', '', 'checkpoint folder or hub id',
                                  bool, 'a checkpoint folder or a hub id')
        self.gripper = GripperKind(declare(self, 'gripper', 'parallel', 'parallel or suction',
                                           one_of('parallel', 'suction'),
                                           "'parallel' or 'suction'"))
        extrinsic = declare(self, 'camera_extrinsic', [0.0] * 6 + [1.0],
                            'camera optical frame in the base frame: x y z qx qy qz qw',
                            lambda v: len(v) == 7, '7 numbers: x y z qx qy qz qw')
        self.base_from_camera = Pose.from_position_quat(extrinsic[:3], extrinsic[3:])
        self.dtype = declare(self, 'dtype', 'float32', 'model dtype',
                             one_of('float32', 'bfloat16', 'float16'), 'float32|bfloat16|float16')
        self.planner = None
        self.load_error = None
        self.latest = None
        self.lock = threading.Lock()
        sensors = ReentrantCallbackGroup()
        self.create_subscription(conv.Image, 'crop/color', self.on_color, SENSOR_DATA,
                                 callback_group=sensors)
        self.create_subscription(conv.Image, 'crop/depth', self.on_depth, SENSOR_DATA,
                                 callback_group=sensors)
        self.create_subscription(conv.CameraInfo, 'crop/camera_info', self.on_info,
                                 SENSOR_DATA, callback_group=sensors)
        self.parts = {}
        self.pub_grasp = self.create_publisher(Grasp, '~/grasp', LATCHED)
        self.pub_markers = self.create_publisher(MarkerArray, '~/markers', LATCHED)
        self.create_service(PlanGrasp, 'plan_grasp', self.on_plan,
                            callback_group=MutuallyExclusiveCallbackGroup())
        threading.Thread(target=self.load, name='model-loader', daemon=True).start()
        self.get_logger().info(f'ready: loading model {self.model_path!r}')

    def load(self):
        """Load the model in the background; requests meanwhile get success: false."""
        try:
            from rt_grasp_ros.vlm.predictor import GraspPredictor

            predictor = GraspPredictor.from_pretrained(self.model_path, dtype=self.dtype)
            self.planner = SessionPlanner(predictor, PlanOptions(gripper=self.gripper))
            self.get_logger().info(f'model loaded: {self.model_path}')
        except (RtGraspError, OSError, ValueError) as exc:
            self.load_error = str(exc)
            self.get_logger().error(f'could not load model {self.model_path!r}: {exc}')

    def _keep(self, kind, msg):
        with self.lock:
            self.parts[kind] = msg
            stamps = {conv.stamp_to_sec(m.header.stamp) for m in self.parts.values()}
            if len(self.parts) == 3 and len(stamps) == 1:
                self.latest = (self.parts['color'], self.parts['depth'], self.parts['info'])

    def on_color(self, msg):
        self._keep('color', msg)

    def on_depth(self, msg):
        self._keep('depth', msg)

    def on_info(self, msg):
        self._keep('info', msg)

    def on_plan(self, request, response):
        if self.planner is None:
            response.message = (f'model failed to load: {self.load_error}' if self.load_error
                                else 'the model is still loading; try again shortly')
            return response
        if request.mode != PlanGrasp.Request.MODE_GRASP:
            response.message = 'mode MODE_CONTACT (ManipLLM) is not served by this model yet'
            return response
        try:
            frame, origin = self.frame_for(request)
            self.planner.options = PlanOptions(crop=whole_image(frame), gripper=self.gripper) \
                if frame is not None else self.planner.options
            plan, session_id = self.planner.plan(frame, PlanRequest(
                request.instruction, request.session_id, request.follow_up,
                request.decoding != PlanGrasp.Request.DECODING_FREE,
                request.samples, request.temperature))
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        response.session_id = session_id
        response.timings = conv.timings_to_msg(plan.timings)
        if plan.prediction is not None:
            response.grasp.reasoning = plan.prediction.reasoning or ''
            response.grasp.answer = plan.prediction.text
        if not plan.ok:
            response.message = plan.reason
            return response
        response.grasp = conv.grasp_to_msg(plan, self.base_frame, origin)
        response.success, response.message = True, 'planned'
        self.pub_grasp.publish(response.grasp)
        self.pub_markers.publish(grasp_markers(response.grasp, self.get_clock().now().to_msg()))
        return response

    def frame_for(self, request):
        """Return the request's own images or the latest crop, and the crop's origin."""
        if request.image.width:
            return conv.frame_from_msgs(request.image, request.depth, request.camera_info,
                                        self.base_from_camera)
        with self.lock:
            latest = self.latest
        if latest is None:
            if request.follow_up:
                return None, (0, 0)
            raise RtGraspError('no image: the request has none and no crop has arrived on '
                               f'{self.resolve_topic_name("crop/color")} yet')
        return conv.frame_from_msgs(*latest, self.base_from_camera)


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(GraspPlannerNode, args, threads=3)


if __name__ == '__main__':
    sys.exit(main())
