"""
The real robot with ``driver:=franka_ros2``: what grasp.launch.py includes, and how.

Pure functions over the launch arguments and what is installed (package share folders, found
in the ament index, and importable modules), so that the decisions are tested where
franka_ros2 is not installed; ``launch/grasp.launch.py`` only turns them into launch actions.
Imports nothing from ROS.

- franka_bringup's ``franka.launch.py``: v3.x takes ``robot_type``, v2.x took ``arm_id``
  (the version is read from the installed package.xml).
- ``executor:=moveit``: franka_fr3_moveit_config's ``move_group.launch.py`` next to it (v3);
  where the package has only ``moveit.launch.py`` (v2), that one brings the robot up itself and
  replaces franka_bringup's include. The executor's MoveIt backend then drives the arm's
  joint trajectory controller (``fr3_arm_controller``, spawned here).
- ``executor:=cartesian``: a Cartesian impedance controller is spawned and the executor's
  ``target_pose`` remapped to its input: franka_example_controllers'
  ``cartesian_impedance_example_controller/equilibrium_pose`` (``controller:=franka``), or
  crisp_controllers' ``target_pose`` (``controller:=crisp``). ``current_pose`` comes from
  franka_robot_state_broadcaster (or crisp's ``current_pose``).
- The gripper: franka_gripper serves ``grasp``, ``move``, ``homing`` and ``gripper_action``
  under ``franka_gripper/`` (v3; ``fr3_gripper/`` in v2): the executor's ``gripper_action``
  parameter follows (GripperCommand, which every parallel gripper offers).
- ``gripper:=suction``: rt_grasp's own ``vacuum_gripper`` node (libfranka's VacuumGripper).
- ``camera:=realsense``: realsense2_camera's ``rs_launch.py`` (depth aligned to colour) where
  installed, else the camera node reads pyrealsense2 itself; ``camera:=kinect``:
  azure_kinect_ros_driver's ``driver.launch.py`` (its topics remapped to the camera node's)
  where installed, else pyk4a; ``camera:=topics``: none, a driver of your own publishes.
"""

from dataclasses import dataclass, field
import importlib.util
from pathlib import Path
import re

from rt_grasp_ros.errors import ConfigError

ROBOT_TYPE = 'fr3'
BASE_FRAME = 'fr3_link0'
FINGER_JOINTS = ['fr3_finger_joint1', 'fr3_finger_joint2']
ARM_CONTROLLER = 'fr3_arm_controller'  # franka_fr3_moveit_config's JointTrajectoryController


@dataclass(frozen=True)
class CartesianController:
    """A Cartesian impedance controller: its package, name, input and pose topics."""

    package: str
    name: str
    target: str  # what the executor's target_pose is remapped to
    current: str  # what current_pose is remapped to


CONTROLLERS = {
    'franka': CartesianController(
        'franka_example_controllers', 'cartesian_impedance_example_controller',
        'cartesian_impedance_example_controller/equilibrium_pose',
        'franka_robot_state_broadcaster/current_pose'),
    'crisp': CartesianController(
        'crisp_controllers', 'cartesian_impedance_controller', 'target_pose', 'current_pose'),
}
STATE_POSE = 'franka_robot_state_broadcaster/current_pose'


@dataclass(frozen=True)
class Include:
    """A launch file of another package and the arguments it gets."""

    package: str
    path: str  # under the package's share folder
    arguments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Spawner:
    """A ros2_control controller to load and start (controller_manager's spawner)."""

    controller: str


@dataclass(frozen=True)
class RealNodes:
    """What the stack's own nodes get with franka_ros2 (see :func:`franka_ros2_nodes`)."""

    nodes: tuple
    frames: dict
    executor: dict
    executor_remaps: tuple
    camera_source: str
    camera_remaps: tuple


@dataclass(frozen=True)
class RealLaunch:
    """What grasp.launch.py starts besides the stack's nodes."""

    includes: tuple
    spawners: tuple


def _share(package: str):
    """Return the installed share folder of ``package``, or None."""
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(package))
    except (ImportError, LookupError, ValueError, OSError):  # OSError: no AMENT_PREFIX_PATH
        return None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def package_version(share) -> tuple:
    """Return ``(major, minor, patch)`` from the package.xml in ``share``; None if absent."""
    if share is None:
        return None
    try:
        text = (Path(share) / 'package.xml').read_text(encoding='utf-8')
    except OSError:
        return None
    found = re.search(r'<version>\s*(\d+)\.(\d+)\.(\d+)\s*</version>', text)
    return tuple(int(v) for v in found.groups()) if found else None


def gripper_namespace(version) -> str:
    """Return the franka_gripper node's namespace: v3 ``franka_gripper``, v2 ``fr3_gripper``."""
    if version is not None and version[0] < 3:
        return f'{ROBOT_TYPE}_gripper'
    return 'franka_gripper'


def _camera(args: dict, share, importable):
    """Return the camera node's source and remaps, and the driver include (or None)."""
    camera = args['camera']
    if camera == 'topics':
        return 'topics', (), None
    if camera == 'realsense':
        if share('realsense2_camera') is not None:
            include = Include('realsense2_camera', 'launch/rs_launch.py', {
                'camera_namespace': '', 'camera_name': 'camera',
                'align_depth.enable': 'true', 'enable_sync': 'true'})
            return 'topics', (), include
        if importable('pyrealsense2'):
            return 'realsense', (), None
        raise ConfigError('camera:=realsense needs realsense2_camera (apt install '
                          'ros-$ROS_DISTRO-realsense2-camera) or pyrealsense2 (pip install '
                          'pyrealsense2): neither is installed')
    if share('azure_kinect_ros_driver') is not None:
        include = Include('azure_kinect_ros_driver', 'launch/driver.launch.py', {
            'depth_mode': 'NFOV_UNBINNED', 'color_resolution': '720P', 'fps': '15'})
        remaps = (('camera/color/image_raw', 'rgb/image_raw'),
                  ('camera/aligned_depth_to_color/image_raw', 'depth_to_rgb/image_raw'),
                  ('camera/color/camera_info', 'rgb/camera_info'))
        return 'topics', remaps, include
    if importable('pyk4a'):
        return 'kinect', (), None
    raise ConfigError('camera:=kinect needs azure_kinect_ros_driver (built from '
                      'microsoft/Azure_Kinect_ROS_Driver) or pyk4a with the Azure Kinect SDK '
                      '(pip install pyk4a): neither is installed')


def franka_ros2_nodes(args: dict, share=_share, importable=_importable) -> RealNodes:
    """Return the parameters, remaps and extra nodes of the stack with franka_ros2."""
    from rt_grasp_ros.ros.stack import NodeSpec

    version = package_version(share('franka_gripper')) or package_version(
        share('franka_bringup'))
    executor = {'base_frame': BASE_FRAME, 'finger_joints': FINGER_JOINTS,
                'gripper_action': f'{gripper_namespace(version)}/gripper_action'}
    if args['executor'] == 'moveit':
        remaps = (('current_pose', STATE_POSE),)
    else:
        controller = CONTROLLERS[args['controller']]
        remaps = (('target_pose', controller.target), ('current_pose', controller.current))
    nodes = ()
    if args['gripper'] == 'suction':
        nodes = (NodeSpec('vacuum_gripper', 'vacuum_gripper', (),
                          {'robot_ip': args['robot_ip']}),)
    source, camera_remaps, _ = _camera(args, share, importable)
    return RealNodes(nodes, {'base_frame': BASE_FRAME}, executor, remaps, source,
                     camera_remaps)


def _require(share, package: str, why: str):
    folder = share(package)
    if folder is None:
        raise ConfigError(f'{why} needs the ROS package {package}, which is not installed (not '
                          f'in the ament index): apt install ros-$ROS_DISTRO-'
                          f'{package.replace("_", "-")} or build franka_ros2 / the driver '
                          'from source, and source its setup.bash')
    return folder


def franka_ros2_launch(args: dict, share=_share, importable=_importable) -> RealLaunch:
    """
    Return the includes and controller spawners of ``driver:=franka_ros2``.

    A missing package raises ConfigError naming it and what needs it.
    """
    if not args['robot_ip']:
        raise ConfigError("driver:=franka_ros2 needs robot_ip:=ADDRESS (the robot's FCI "
                          'address, e.g. 172.16.0.2)')
    bringup = _require(share, 'franka_bringup', 'driver:=franka_ros2')
    version = package_version(bringup)
    robot_key = 'robot_type' if version is None or version[0] >= 3 else 'arm_id'
    load_gripper = 'true' if args['gripper'] == 'parallel' else 'false'
    robot = Include('franka_bringup', 'launch/franka.launch.py', {
        robot_key: ROBOT_TYPE, 'robot_ip': args['robot_ip'], 'load_gripper': load_gripper})
    includes, spawners = [], []
    if args['executor'] == 'moveit':
        moveit = _require(share, 'franka_fr3_moveit_config', 'executor:=moveit')
        if (moveit / 'launch' / 'move_group.launch.py').is_file():
            includes += [robot, Include('franka_fr3_moveit_config', 'launch/move_group.launch.py',
                                        {'robot_ip': args['robot_ip'],
                                         'load_gripper': load_gripper})]
            spawners.append(Spawner(ARM_CONTROLLER))
        else:  # v2: moveit.launch.py starts ros2_control, the controllers and move_group
            includes.append(Include('franka_fr3_moveit_config', 'launch/moveit.launch.py',
                                    {'robot_ip': args['robot_ip'],
                                     'use_fake_hardware': 'false'}))
    else:
        controller = CONTROLLERS[args['controller']]
        _require(share, controller.package, f"controller:={args['controller']}")
        includes.append(robot)
        spawners.append(Spawner(controller.name))
    _, _, camera = _camera(args, share, importable)
    if camera is not None:
        includes.append(camera)
    return RealLaunch(tuple(includes), tuple(spawners))
