"""The one place where core types become ROS messages and back (``*_to_msg`` / ``*_from_msg``)."""

from dataclasses import replace
import math

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose as PoseMsg, PoseStamped, Quaternion, Transform, Vector3
from geometry_msgs.msg import WrenchStamped
import numpy as np
from rt_grasp.msg import ContactPose as ContactPoseMsg, Grasp, ImageGrasp, Timings
from rt_grasp.msg import PlannerStatus
from rt_grasp.srv import PlanGrasp
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.manip.operate import Contact
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.limits import Decoding, RequestError
from rt_grasp_ros.planning.refinement import RefinedGrasp
from rt_grasp_ros.planning.sessions import PlanRequest
from rt_grasp_ros.skills.grasp import GraspConfig
from rt_grasp_ros.skills.motion import TargetPath
from rt_grasp_ros.transforms import Pose, tcp_rotation
from sensor_msgs.msg import CameraInfo, Image
from trajectory_msgs.msg import MultiDOFJointTrajectory, MultiDOFJointTrajectoryPoint

TCP_JOINT = 'tcp'  # the one "joint" of a TCP path: the TCP pose in the base frame

GRIPPER_TO_MSG = {GripperKind.PARALLEL: Grasp.PARALLEL, GripperKind.SUCTION: Grasp.SUCTION}
GRIPPER_FROM_MSG = {v: k for k, v in GRIPPER_TO_MSG.items()}


class ConversionError(RtGraspError):
    """A message cannot be converted; the message names the field and what was expected."""


def stamp_to_sec(stamp) -> float:
    """builtin_interfaces/Time -> seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


def sec_to_stamp(seconds: float, stamp) -> None:
    """Write ``seconds`` into a builtin_interfaces/Time in place."""
    stamp.sec = math.floor(seconds)
    stamp.nanosec = round((seconds - stamp.sec) * 1e9) % 1_000_000_000


def pose_to_msg(pose: Pose) -> PoseMsg:
    """Core pose -> geometry_msgs/Pose (quaternion x, y, z, w)."""
    x, y, z = (float(c) for c in pose.position)
    qx, qy, qz, qw = (float(c) for c in pose.quat_xyzw)
    return PoseMsg(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw))


def pose_from_msg(msg: PoseMsg) -> Pose:
    """geometry_msgs/Pose -> core pose; a zero or non-finite quaternion is an error."""
    p, q = msg.position, msg.orientation
    try:
        return Pose.from_position_quat([p.x, p.y, p.z], [q.x, q.y, q.z, q.w])
    except ValueError as exc:
        raise ConversionError(f'pose: {exc}') from None


def pose_stamped_to_msg(pose: Pose, frame_id: str, stamp=None) -> PoseStamped:
    """Core pose -> geometry_msgs/PoseStamped in ``frame_id``."""
    msg = PoseStamped(pose=pose_to_msg(pose))
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def path_to_msg(path: TargetPath, frame_id: str) -> MultiDOFJointTrajectory:
    """Convert a TCP path to MultiDOFJointTrajectory (joint ``tcp``; stamp 0 = start now)."""
    msg = MultiDOFJointTrajectory(joint_names=[TCP_JOINT])
    msg.header.frame_id = frame_id
    for t, pose in zip(path.times, path.poses, strict=True):
        x, y, z = (float(c) for c in pose.position)
        qx, qy, qz, qw = (float(c) for c in pose.quat_xyzw)
        point = MultiDOFJointTrajectoryPoint(transforms=[Transform(
            translation=Vector3(x=x, y=y, z=z), rotation=Quaternion(x=qx, y=qy, z=qz, w=qw))])
        sec = math.floor(t)
        point.time_from_start = Duration(sec=sec, nanosec=round((t - sec) * 1e9) % 1_000_000_000)
        msg.points.append(point)
    return msg


def path_from_msg(msg: MultiDOFJointTrajectory) -> TargetPath:
    """Convert a TCP MultiDOFJointTrajectory to a path; a bad one names what is wrong."""
    if list(msg.joint_names) != [TCP_JOINT]:
        raise ConversionError(f'trajectory joint_names must be [{TCP_JOINT!r}], got '
                              f'{list(msg.joint_names)}')
    times, poses = [], []
    for k, point in enumerate(msg.points):
        if len(point.transforms) != 1:
            raise ConversionError(f'trajectory point {k} has {len(point.transforms)} '
                                  'transforms, expected 1')
        p, q = point.transforms[0].translation, point.transforms[0].rotation
        try:
            poses.append(Pose.from_position_quat([p.x, p.y, p.z], [q.x, q.y, q.z, q.w]))
        except ValueError as exc:
            raise ConversionError(f'trajectory point {k}: {exc}') from None
        times.append(point.time_from_start.sec + point.time_from_start.nanosec * 1e-9)
    try:
        return TargetPath(tuple(times), tuple(poses))
    except RtGraspError as exc:
        raise ConversionError(f'trajectory: {exc}') from None


def wrench_to_msg(wrench, frame_id: str, stamp=None) -> WrenchStamped:
    """(6,) force (N) then torque (Nm) -> geometry_msgs/WrenchStamped in ``frame_id``."""
    msg = WrenchStamped()
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    f, t = msg.wrench.force, msg.wrench.torque
    f.x, f.y, f.z, t.x, t.y, t.z = (float(v) for v in wrench)
    return msg


def wrench_from_msg(msg: WrenchStamped) -> np.ndarray:
    """geometry_msgs/WrenchStamped -> (6,) force then torque."""
    f, t = msg.wrench.force, msg.wrench.torque
    return np.array([f.x, f.y, f.z, t.x, t.y, t.z], dtype=float)


def rgb_to_msg(rgb: np.ndarray, frame_id: str, stamp=None) -> Image:
    """(H, W, 3) uint8 -> sensor_msgs/Image rgb8."""
    h, w, _ = rgb.shape
    msg = Image(height=h, width=w, encoding='rgb8', step=3 * w)
    msg.data = np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def depth_to_msg(depth: np.ndarray, frame_id: str, stamp=None) -> Image:
    """(H, W) float32 metres -> sensor_msgs/Image 32FC1 (REP-118: NaN = no reading)."""
    h, w = depth.shape
    msg = Image(height=h, width=w, encoding='32FC1', step=4 * w, is_bigendian=0)
    msg.data = np.ascontiguousarray(depth, dtype='<f4').tobytes()
    msg.header.frame_id = frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def rgb_from_msg(msg: Image) -> np.ndarray:
    """sensor_msgs/Image rgb8, bgr8, rgba8 or bgra8 -> (H, W, 3) uint8 RGB."""
    channels = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4}
    if msg.encoding not in channels:
        raise ConversionError(
            f'image encoding {msg.encoding!r} is not one of {sorted(channels)}')
    c = channels[msg.encoding]
    rows = _rows(msg, c)
    img = rows[:, : msg.width * c].reshape(msg.height, msg.width, c)[..., :3]
    return np.ascontiguousarray(img[..., ::-1] if msg.encoding.startswith('bgr') else img)


def depth_from_msg(msg: Image) -> np.ndarray:
    """sensor_msgs/Image 32FC1 (metres) or 16UC1 (millimetres) -> (H, W) float32 metres, NaN."""
    if msg.encoding == '32FC1':
        dtype, scale = np.dtype('>f4' if msg.is_bigendian else '<f4'), 1.0
    elif msg.encoding in ('16UC1', 'mono16'):
        dtype, scale = np.dtype('>u2' if msg.is_bigendian else '<u2'), 1e-3
    else:
        raise ConversionError(
            f'depth encoding {msg.encoding!r} is not 32FC1 (metres) or 16UC1 (millimetres)')
    rows = _rows(msg, 1)
    raw = rows[:, : msg.width * dtype.itemsize].copy().view(dtype).reshape(msg.height, msg.width)
    depth = raw.astype(np.float32) * np.float32(scale)
    depth[raw == 0] = np.nan  # 0 is "no reading" in both encodings
    return depth


def _rows(msg: Image, channels: int) -> np.ndarray:
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if msg.height == 0 or msg.width == 0:
        raise ConversionError('image is empty (0 width or height)')
    if msg.step < msg.width or data.size < msg.step * msg.height:
        raise ConversionError(
            f'image data has {data.size} bytes; expected {msg.step} x {msg.height} '
            f'for {msg.width}x{msg.height} {msg.encoding}')
    return data[: msg.step * msg.height].reshape(msg.height, msg.step)


def camera_info_to_msg(camera: PinholeCamera, origin=(0, 0), stamp=None) -> CameraInfo:
    """Camera model -> sensor_msgs/CameraInfo; ``origin`` of a crop goes into ``roi``."""
    fields = camera.to_camera_info()
    msg = CameraInfo(
        width=fields['width'], height=fields['height'],
        distortion_model=fields['distortion_model'])
    msg.d = [float(c) for c in fields['d']]
    msg.k = [float(c) for c in fields['k']]
    msg.r = [float(c) for c in fields['r']]
    msg.p = [float(c) for c in fields['p']]
    msg.roi.x_offset, msg.roi.y_offset = int(origin[0]), int(origin[1])
    msg.roi.width, msg.roi.height = fields['width'], fields['height']
    msg.header.frame_id = camera.frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def camera_from_msg(msg: CameraInfo, base_from_camera: Pose) -> tuple[PinholeCamera, tuple]:
    """sensor_msgs/CameraInfo -> camera model placed by ``base_from_camera``, and roi origin."""
    if msg.width == 0 or msg.height == 0 or msg.k[0] <= 0:
        raise ConversionError('camera_info is empty or has no focal length (k[0] = 0)')
    fields = {
        'width': msg.width, 'height': msg.height, 'k': list(msg.k), 'd': list(msg.d),
        'distortion_model': msg.distortion_model, 'frame_id': msg.header.frame_id}
    camera = PinholeCamera.from_camera_info(fields, base_from_camera)
    return camera, (msg.roi.x_offset, msg.roi.y_offset)


def frame_from_msgs(
    color: Image, depth: Image, info: CameraInfo, base_from_camera: Pose
) -> tuple[RGBDFrame, tuple]:
    """Colour + registered depth + camera info -> an RGB-D frame, and its crop origin."""
    camera, origin = camera_from_msg(info, base_from_camera)
    rgb, dep = rgb_from_msg(color), depth_from_msg(depth)
    if rgb.shape[:2] != dep.shape or rgb.shape[:2] != (camera.height, camera.width):
        raise ConversionError(
            f'image {rgb.shape[1]}x{rgb.shape[0]}, depth {dep.shape[1]}x{dep.shape[0]} and '
            f'camera_info {camera.width}x{camera.height} must have the same size')
    return RGBDFrame(rgb, dep, camera, stamp_to_sec(color.header.stamp)), origin


def timings_to_msg(timings: dict) -> Timings:
    """Convert a timing dict (s) to rt_grasp/Timings."""
    return Timings(**{k: float(timings.get(k, 0.0))
                      for k in ('preprocess', 'prefill', 'decode', 'parse', 'total')})


def grasp_to_msg(plan, base_frame: str, origin=(0, 0), stamp=None) -> Grasp:
    """
    Convert a successful PlannedGrasp to rt_grasp/Grasp (pose in base and camera frame).

    ``origin`` is where the planned image lies in the camera's full image (the crop's roi).
    """
    target, prediction, image = plan.target, plan.prediction, plan.image
    msg = Grasp(width=float(target.width or 0.0), gripper=GRIPPER_TO_MSG[target.gripper])
    msg.pose = pose_stamped_to_msg(target.pose, base_frame, stamp)
    msg.pose_camera = pose_stamped_to_msg(plan.pose_camera, plan.crop.frame.frame_id, stamp)
    w, h = plan.crop.size
    msg.image = ImageGrasp(
        x=(image.u - plan.crop.origin[0]) / w, y=(image.v - plan.crop.origin[1]) / h,
        theta=float(image.theta), u=float(image.u + origin[0]), v=float(image.v + origin[1]),
        depth=float(plan.depth), width_px=float(image.opening_px))
    msg.reasoning = prediction.reasoning or ''
    msg.answer = prediction.text
    if prediction.consensus is not None:
        c = prediction.consensus
        msg.spread_xy = float(math.hypot(c.x_std, c.y_std))
        msg.spread_theta = math.radians(c.theta_std_deg)
    return msg


def grasp_target_from_msg(msg: Grasp, base_frame: str) -> GraspTarget:
    """rt_grasp/Grasp -> the TCP target to execute; the pose must be in ``base_frame``."""
    if msg.gripper not in GRIPPER_FROM_MSG:
        raise ConversionError(f'grasp.gripper {msg.gripper} is not PARALLEL (0) or SUCTION (1)')
    frame = msg.pose.header.frame_id
    if not frame:
        raise ConversionError(
            f'grasp.pose.header.frame_id is empty: expected the base frame {base_frame!r}')
    if frame != base_frame:
        raise ConversionError(
            f'grasp.pose is in frame {frame!r}; the executor works in {base_frame!r}')
    if not math.isfinite(msg.width) or msg.width < 0:
        raise ConversionError(f'grasp.width must be >= 0 metres, got {msg.width}')
    return GraspTarget(pose_from_msg(msg.pose.pose), msg.width, GRIPPER_FROM_MSG[msg.gripper])


def grasp_goal_from_msg(goal, base_frame: str, defaults: GraspConfig):
    """Convert an ExecuteGrasp goal to (TCP target, skill config); a bad field names itself."""
    target = grasp_target_from_msg(goal.grasp, base_frame)
    for name in ('lift_height', 'hold_time'):
        value = getattr(goal, name)
        if not (math.isfinite(value) and value >= 0):
            raise ConversionError(f'{name} must be a finite number >= 0 (0 = the executor '
                                  f'default), got {value}')
    config = replace(defaults, lift=goal.lift_height or defaults.lift,
                     hold=goal.hold_time or defaults.hold, release=bool(goal.release))
    return target, config


def target_to_grasp_msg(target: GraspTarget, base_frame: str) -> Grasp:
    """Convert a bare TCP target (e.g. a sim ground-truth grasp) to rt_grasp/Grasp."""
    msg = Grasp(width=float(target.width or 0.0), gripper=GRIPPER_TO_MSG[target.gripper])
    msg.pose = pose_stamped_to_msg(target.pose, base_frame)
    return msg


def decoding_from_msg(value: int):
    """PlanGrasp.Request.decoding (uint8) -> planning.limits.Decoding."""
    table = {PlanGrasp.Request.DECODING_DEFAULT: Decoding.DEFAULT,
             PlanGrasp.Request.DECODING_CONSTRAINED: Decoding.CONSTRAINED,
             PlanGrasp.Request.DECODING_FREE: Decoding.FREE}
    if value not in table:
        raise RequestError('decoding', f'{value} is not DECODING_DEFAULT (0), '
                           'DECODING_CONSTRAINED (1) or DECODING_FREE (2)')
    return table[value]


def plan_request_from_msg(msg):
    """PlanGrasp.Request -> planning.sessions.PlanRequest (images are converted apart)."""
    return PlanRequest(
        instruction=msg.instruction, session_id=msg.session_id, follow_up=msg.follow_up,
        decoding=decoding_from_msg(msg.decoding), samples=int(msg.samples),
        temperature=float(msg.temperature), top_p=float(msg.top_p))


def planner_status_to_msg(state: int, model: str, message: str, stamp=None):
    """Build an rt_grasp/PlannerStatus (state: PlannerStatus.LOADING, READY or FAILED)."""
    msg = PlannerStatus(state=state, model=model, message=message)
    if stamp is not None:
        msg.header.stamp = stamp
    return msg


def refined_grasp_from_msg(msg: Grasp, base_frame: str) -> RefinedGrasp:
    """rt_grasp/Grasp (a planned one) -> the grasp to refine (pose in ``base_frame``)."""
    target = grasp_target_from_msg(msg, base_frame)
    image = None
    if msg.answer:  # the model's own coordinates of the grasp in its crop
        image = (float(msg.image.x), float(msg.image.y), float(msg.image.theta))
    return RefinedGrasp(target, msg.reasoning, msg.answer, image)


def refined_grasp_to_msg(grasp: RefinedGrasp, base_frame: str) -> Grasp:
    """Grasp being refined -> rt_grasp/Grasp (what /execute_grasp gets), with its reasoning."""
    msg = target_to_grasp_msg(grasp.target, base_frame)
    msg.reasoning, msg.answer = grasp.reasoning, grasp.answer
    if grasp.image is not None:
        msg.image.x, msg.image.y, msg.image.theta = (float(c) for c in grasp.image)
    return msg


def vector3_to_msg(v) -> Vector3:
    """Convert a 3-vector to geometry_msgs/Vector3."""
    x, y, z = (float(c) for c in v)
    return Vector3(x=x, y=y, z=z)


def _vector3_from_msg(msg: Vector3, name: str) -> np.ndarray:
    v = np.array([msg.x, msg.y, msg.z], float)
    if not np.all(np.isfinite(v)) or np.linalg.norm(v) < 1e-9:
        raise ConversionError(f'{name} must be 3 finite numbers, not all zero: {v.tolist()}')
    return v / np.linalg.norm(v)


def contact_to_msg(contact, frame: RGBDFrame, base_frame: str, category: str = '',
                   stamp=None, prediction=None, origin=(0, 0)) -> ContactPoseMsg:
    """
    Convert a core ContactPose (a pixel of ``frame``, camera-frame directions) to the message.

    The TCP at the contact in the base frame and in ``frame``'s camera frame (each from the
    contact: the pixel back-projected into either frame), up and forward in the base frame, the
    pixel in the full image (``origin``: where ``frame`` lies in it, the crop's roi) and its
    depth. With the ContactPrediction the model answered, its chain of thought too: each
    turn's answer (``chain``), the affordance reasoning, the pose turn's raw answer and the
    category (where ``category`` is empty); without it no chain (the oracle's contact is no
    model's).
    """
    camera = frame.camera
    to_base = camera.base_from_camera.rotation
    if prediction is not None:
        category = category or prediction.category or prediction.named_category or ''
    msg = ContactPoseMsg(category=category, u=float(contact.x + origin[0]),
                         v=float(contact.y + origin[1]))
    msg.pose = pose_stamped_to_msg(contact.tcp_pose(frame), base_frame, stamp)
    msg.pose_camera = pose_stamped_to_msg(contact.tcp_pose_camera(frame), camera.frame_id,
                                          stamp)
    msg.up = vector3_to_msg(to_base.apply(contact.up))
    msg.forward = vector3_to_msg(to_base.apply(contact.forward))
    try:
        msg.depth = float(frame.depth_at(contact.x, contact.y))
    except RtGraspError:
        msg.depth = math.nan
    if prediction is not None:
        msg.chain = [str(text) for text in prediction.chain]
        msg.reasoning = prediction.reasoning
        pose_turn = prediction.turn('pose')
        msg.answer = pose_turn.prediction.text if pose_turn is not None else ''
    return msg


def contact_from_msg(msg: ContactPoseMsg, base_frame: str) -> Contact:
    """
    rt_grasp/ContactPose -> the base-frame contact to operate; a bad field names itself.

    The TCP orientation is rebuilt from up and forward (ContactPose.msg's convention: z = up,
    x = forward orthogonalised against up), so a pose quaternion that disagrees is not used.
    """
    frame = msg.pose.header.frame_id
    if not frame:
        raise ConversionError(
            f'contact.pose.header.frame_id is empty: expected the base frame {base_frame!r}')
    if frame != base_frame:
        raise ConversionError(
            f'contact.pose is in frame {frame!r}; the server works in {base_frame!r}')
    p = msg.pose.pose.position
    position = np.array([p.x, p.y, p.z], float)
    if not np.all(np.isfinite(position)):
        raise ConversionError(f'contact.pose.position must be finite, got {position.tolist()}')
    up = _vector3_from_msg(msg.up, 'contact.up')
    forward = _vector3_from_msg(msg.forward, 'contact.forward')
    try:
        rotation = tcp_rotation(up, forward)
    except ValueError:
        raise ConversionError('contact.forward must not be parallel to contact.up') from None
    return Contact(Pose(position, rotation), up)
