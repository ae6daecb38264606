"""
The camera extrinsic from one place: a calibration parameter, or TF.

Every node that needs the camera's optical frame in the robot base frame (camera, grasp_planner)
builds a :class:`CameraExtrinsic` from itself. It reads the ``camera_extrinsic`` parameter
(``x y z qx qy qz qw``, a hand-eye calibration; ``rt-grasp ros up`` and the launch file set it
once for the whole stack, to the sim camera's pose with ``sim:=true``). Where the parameter is
empty it looks the transform up in TF (tf2_ros, where installed); with neither it refuses to
start, saying what to set. The sim node publishes the same pose as a static transform, built by
:func:`camera_transform_fields` from the numbers the stack passes.
"""

from dataclasses import dataclass
import math

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.transforms import Pose

PARAMETER = 'camera_extrinsic'
DESCRIPTION = ('camera optical frame in the base frame: 7 numbers x y z qx qy qz qw (m, '
               'quaternion; a hand-eye calibration), as a list or a string; empty: from TF')
MISSING = ("set camera_extrinsic:='x y z qx qy qz qw' (a hand-eye calibration) or install "
           'tf2_ros and publish base -> camera TF')


def parse_extrinsic(value, name: str = PARAMETER):
    """
    Return the pose that ``value`` gives (7 numbers, as a sequence or a string), or None if empty.

    Anything else raises ConfigError naming ``name`` and what was expected.
    """
    if isinstance(value, str):
        items = value.replace(',', ' ').replace('[', ' ').replace(']', ' ').split()
    elif value is None:
        items = []
    else:
        items = list(value)
    if not items:
        return None
    expected = f"7 numbers 'x y z qx qy qz qw' (m, quaternion) or empty; got {value!r}"
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        raise ConfigError(f'{name} must be {expected}') from None
    if len(numbers) != 7 or not all(math.isfinite(v) for v in numbers):
        raise ConfigError(f'{name} must be {expected}')
    try:
        return Pose.from_position_quat(numbers[:3], numbers[3:])
    except ValueError as exc:
        raise ConfigError(f'{name}: {exc}') from None


def extrinsic_numbers(pose: Pose) -> list:
    """Return ``pose`` as the 7 numbers of the parameter: x y z qx qy qz qw."""
    return [float(c) for c in (*pose.position, *pose.quat_xyzw)]


@dataclass(frozen=True)
class TransformFields:
    """What a TransformStamped holds: parent and child frame, translation, rotation (xyzw)."""

    frame_id: str
    child_frame_id: str
    translation: tuple
    rotation: tuple


def camera_transform_fields(base_frame: str, camera_frame: str, pose: Pose) -> TransformFields:
    """Return the static transform base_frame -> camera_frame for the camera pose ``pose``."""
    numbers = extrinsic_numbers(pose)
    return TransformFields(base_frame, camera_frame, tuple(numbers[:3]), tuple(numbers[3:]))


def transform_msg(fields: TransformFields, stamp=None):
    """Return a geometry_msgs/TransformStamped with ``fields`` (for a TF broadcaster)."""
    from geometry_msgs.msg import TransformStamped

    t = TransformStamped()
    t.header.frame_id, t.child_frame_id = fields.frame_id, fields.child_frame_id
    if stamp is not None:
        t.header.stamp = stamp
    tr, q = t.transform.translation, t.transform.rotation
    tr.x, tr.y, tr.z = fields.translation
    q.x, q.y, q.z, q.w = fields.rotation
    return t


def tf2_available() -> bool:
    """Return whether tf2_ros can be imported here."""
    try:
        import tf2_ros  # noqa: F401
    except ImportError:
        return False
    return True


class CameraExtrinsic:
    """
    The camera's optical frame in the base frame, for one node.

    Declares the ``camera_extrinsic`` parameter on ``node``: 7 numbers fix the pose; empty
    means TF, with a tf2 buffer and listener on ``node``. With neither, the constructor raises
    ConfigError (run_node logs it and the node exits with status 2).
    """

    def __init__(self, node, base_frame: str):
        from rcl_interfaces.msg import ParameterDescriptor

        self.base_frame = base_frame
        # dynamic typing: a YAML list, a launch list of floats or a string all work
        value = node.declare_parameter(PARAMETER, '', ParameterDescriptor(
            description=DESCRIPTION, read_only=True, dynamic_typing=True)).value
        self.fixed = parse_extrinsic(value)
        self.buffer = self.listener = None
        if self.fixed is not None:
            return
        try:
            import tf2_ros
        except ImportError:
            raise ConfigError(f'parameter {PARAMETER} is empty and tf2_ros is not installed: '
                              f'{MISSING}') from None
        self.buffer = tf2_ros.Buffer()
        self.listener = tf2_ros.TransformListener(self.buffer, node)

    def require_fixed(self, why: str) -> Pose:
        """Return the parameter's pose; ConfigError saying ``why`` it is needed if it is empty."""
        if self.fixed is None:
            raise ConfigError(f'{why} needs parameter {PARAMETER} (TF is not enough): set '
                              f"{PARAMETER}:='x y z qx qy qz qw' (a hand-eye calibration)")
        return self.fixed

    @property
    def source(self) -> str:
        """Where the pose comes from: 'parameter' or 'tf'."""
        return 'parameter' if self.fixed is not None else 'tf'

    def base_from_camera(self, frame_id: str, stamp=None, timeout: float = 1.0) -> Pose:
        """
        Return the pose of ``frame_id`` in the base frame at ``stamp`` (latest if None).

        The TF lookup waits at most ``timeout`` seconds; a failure raises RtGraspError naming
        both frames.
        """
        if self.fixed is not None:
            return self.fixed
        import rclpy.duration
        import rclpy.time
        import tf2_ros

        when = rclpy.time.Time() if stamp is None else rclpy.time.Time.from_msg(stamp)
        try:
            t = self.buffer.lookup_transform(
                self.base_frame, frame_id, when, rclpy.duration.Duration(seconds=timeout))
        except (tf2_ros.LookupException, tf2_ros.ConnectivityException,
                tf2_ros.ExtrapolationException, tf2_ros.TimeoutException) as exc:
            raise RtGraspError(
                f'no transform {self.base_frame} <- {frame_id!r} in TF within {timeout:.1f} s '
                f'({type(exc).__name__}: {exc}); publish it or {MISSING}') from None
        tr, q = t.transform.translation, t.transform.rotation
        return Pose.from_position_quat([tr.x, tr.y, tr.z], [q.x, q.y, q.z, q.w])
