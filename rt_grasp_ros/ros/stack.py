"""
The stack's one description: launch arguments, nodes and their parameter files.

Read by ``launch/grasp.launch.py`` (ROS installs) and by ``rt-grasp ros up`` (everywhere), so
both start the same nodes with the same parameters. Imports nothing from ROS.
"""

from dataclasses import dataclass, field
from pathlib import Path
import sys

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.ros.frames import extrinsic_numbers, MISSING, parse_extrinsic, tf2_available

PACKAGE = 'rt_grasp'

# name -> (default, description)
ARGUMENTS = {
    'sim': ('true', 'run the embedded MuJoCo robot (false: a real robot, camera driver and '
                    'vacuum driver answer on the same interfaces)'),
    'model': ('default', 'checkpoint folder or hub id of the grasp model (default: the shipped '
                         'embedded model; empty: no planner)'),
    'gripper': ('parallel', 'parallel (Franka Hand) or suction (Cobot Pump)'),
    'camera': ('topics', 'camera source: topics (any driver, or the sim), realsense '
                         '(pyrealsense2), kinect (pyk4a) or none (no camera and no planner: '
                         'the robot and the executor alone, to check an arm)'),
    'executor': ('cartesian', 'executor backend: cartesian (impedance targets) or moveit '
                              '(moveit_py; with sim:=false it includes franka_fr3_moveit_config)'),
    'rviz': ('false', 'start RViz with rviz/rt_grasp.rviz (needs a ROS install)'),
    'refinement': ('true', 'start grasp_refinement (the grasp as an interactive marker: drag it, '
                           'follow-ups, execute; with a planner only)'),
    'seed': ('0', 'seed of the simulated scene'),
    'task': ('grasp', 'grasp (RT-Grasp: planner and grasp executor) or articulated (ManipLLM: '
                      'an articulated object, the suction tool and the impedance_adaptation '
                      'server; with contact_model:=DIR the planner in contact mode, else the '
                      "contact comes from the sim's oracle, sim/scene_contact)"),
    'contact_model': ('', 'task:=articulated: checkpoint folder or hub id of the ManipLLM '
                          'contact model; set: the planner runs with task=contact (/plan_grasp '
                          'MODE_CONTACT) and `rt-grasp ros manipulate` plans with it by default; '
                          "empty: no planner, the sim's oracle gives the contact"),
    'category': ('drawer', 'task:=articulated, sim:=true: the articulated category of the '
                           'scene (the categories of `rt-grasp manip collect`)'),
    'camera_extrinsic': ('', "camera optical frame in the base frame, 'x y z qx qy qz qw' (a "
                             'hand-eye calibration), set once for every node; empty: the sim '
                             "camera's pose with sim:=true, TF (tf2_ros) with sim:=false"),
    # sim:=false: the real robot (see rt_grasp_ros/ros/franka_bringup.py for driver:=franka_ros2)
    'driver': ('franka_ros2', 'sim:=false: the robot driver; franka_ros2 includes '
                              'franka_bringup (and the camera driver, the vacuum node); '
                              'libfranka runs the franka node of this package (and vacuum_gripper '
                              'with gripper:=suction)'),
    'robot_ip': ('', "sim:=false: the robot's address (FCI), e.g. 172.16.0.2"),
    'controller': ('franka', 'sim:=false, executor:=cartesian: the Cartesian impedance '
                             "controller: franka (franka_example_controllers' "
                             'cartesian_impedance_example_controller) or crisp '
                             '(crisp_controllers)'),
}
CHOICES = {'sim': ('true', 'false'), 'gripper': ('parallel', 'suction'),
           'camera': ('topics', 'realsense', 'kinect', 'none'),
           'executor': ('cartesian', 'moveit'), 'rviz': ('true', 'false'),
           'refinement': ('true', 'false'), 'driver': ('franka_ros2', 'libfranka'),
           'controller': ('franka', 'crisp'), 'task': ('grasp', 'articulated')}


def sim_camera_extrinsic() -> list:
    """Return the sim camera's optical frame in the base frame: x y z qx qy qz qw."""
    from rt_grasp_ros.sim.camera import CameraConfig

    return extrinsic_numbers(CameraConfig().camera().base_from_camera)


def articulated_camera_extrinsic(args: dict) -> list:
    """
    Return the camera of the articulated scene of ``seed`` and ``category`` (as above).

    Its view is randomised per seed, as in ManipLLM's collection (manip_scene).
    """
    from rt_grasp_ros.manip.scene import manip_scene

    config = manip_scene(int(args['seed']), args['category']).config
    return extrinsic_numbers(config.camera.camera().base_from_camera)


def articulated_crop() -> dict:
    """
    Return the camera's crop for task:=articulated: ManipLLM's whole 336x336 image.

    The contact model sees the scene as it was collected (the sim's articulated scenes render
    336x336), not RT-Grasp's object-centred crop of a 400x400 workspace.
    """
    from rt_grasp_ros.manip.scene import IMAGE_SIZE

    return {'crop_size': IMAGE_SIZE, 'object_crop': False}


def camera_extrinsic(args: dict):
    """
    Return the camera extrinsic the nodes get (7 numbers), or None for TF.

    With sim:=true it is the sim camera's pose; an argument that differs from it is refused
    (the sim renders from its own camera, so planning with another pose would be wrong). With
    sim:=false it is the argument, or None (TF) where tf2_ros is installed; else ConfigError.
    """
    given = parse_extrinsic(args['camera_extrinsic'], 'argument camera_extrinsic')
    if args['sim'] == 'true':
        sim = (articulated_camera_extrinsic(args) if args['task'] == 'articulated'
               else sim_camera_extrinsic())
        if given is not None and not same_pose(given, sim):
            raise ConfigError(
                f"argument camera_extrinsic:='{args['camera_extrinsic']}' differs from the sim "
                f"camera's pose '{' '.join(f'{v:.7g}' for v in sim)}': with sim:=true leave it "
                'empty (the sim renders from its own camera)')
        return sim
    if given is not None:
        return extrinsic_numbers(given)
    if not tf2_available():
        raise ConfigError(f'sim:=false needs the camera extrinsic: {MISSING}')
    return None


def same_pose(pose, numbers: list, tolerance: float = 1e-6) -> bool:
    """Whether ``pose`` is the pose of ``numbers`` (x y z qx qy qz qw; q and -q alike)."""
    other = extrinsic_numbers(parse_extrinsic(numbers))
    mine = extrinsic_numbers(pose)
    dq = abs(sum(a * b for a, b in zip(mine[3:], other[3:], strict=True)))
    return (max(abs(a - b) for a, b in zip(mine[:3], other[:3], strict=True)) <= tolerance
            and dq >= 1.0 - tolerance)


def rviz_parameters(arguments: dict) -> dict:
    """Return RViz's parameters: it follows the sim's clock when the sim runs."""
    return {'use_sim_time': resolve(arguments)['sim'] == 'true'}


@dataclass(frozen=True)
class NodeSpec:
    """One node: its executable in lib/rt_grasp, parameter files and parameter overrides."""

    name: str
    executable: str
    param_files: tuple = ()
    parameters: dict = field(default_factory=dict)
    remaps: tuple = ()  # (from, to) topic remappings


def config_dir() -> Path:
    """
    Return the parameter files' folder.

    The source tree's config/ in a checkout (so edits count at once), else the installed
    share/rt_grasp/config (ament index, or this Python's prefix when nothing is sourced).
    """
    source = Path(__file__).resolve().parents[2] / 'config'
    if (source / 'sim.yaml').is_file():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE)) / 'config'
    except (ImportError, LookupError, OSError):
        installed = Path(sys.prefix) / 'share' / PACKAGE / 'config'
        if installed.is_dir():
            return installed
    raise ConfigError(f'no config/ folder of {PACKAGE}: looked in {source} and the ament index')


def resolve(arguments: dict) -> dict:
    """Defaults filled in and every value checked; an unknown name or value names itself."""
    unknown = set(arguments) - set(ARGUMENTS)
    if unknown:
        raise ConfigError(f'unknown argument(s) {sorted(unknown)}; known: {sorted(ARGUMENTS)}')
    args = {k: str(arguments.get(k, d)) for k, (d, _) in ARGUMENTS.items()}
    for name, allowed in CHOICES.items():
        if args[name] not in allowed:
            raise ConfigError(f'argument {name}:={args[name]} must be one of {list(allowed)}')
    try:
        int(args['seed'])
    except ValueError:
        raise ConfigError(f"argument seed:={args['seed']} must be an integer") from None
    parse_extrinsic(args['camera_extrinsic'], 'argument camera_extrinsic')
    if args['sim'] == 'false' and args['driver'] == 'libfranka' and not args['robot_ip']:
        raise ConfigError('driver:=libfranka needs robot_ip:=ADDRESS (the FCI address)')
    if args['sim'] == 'true' and args['camera'] == 'none':
        raise ConfigError('camera:=none needs sim:=false (the sim renders its own camera)')
    from rt_grasp_ros.sim.articulated import ARTICULATED

    if args['task'] == 'articulated' and args['category'] not in ARTICULATED:
        raise ConfigError(f"argument category:={args['category']} must be one of "
                          f'{list(ARTICULATED)}')
    return args


def libfranka_nodes(args: dict, conf: Path) -> list:
    """Return the franka driver node (and the Cobot Pump's with gripper:=suction)."""
    ip = args['robot_ip']
    suction = args['gripper'] == 'suction'
    out = [NodeSpec('franka', 'franka', (str(conf / 'franka.yaml'),),
                    {'robot_ip': ip, 'gripper': not suction})]
    if suction:
        out.append(NodeSpec('vacuum_gripper', 'vacuum_gripper',
                            (str(conf / 'vacuum_gripper.yaml'),), {'robot_ip': ip}))
    return out


def impedance_adaptation_node(args: dict, conf: Path, real, libfranka: bool) -> NodeSpec:
    """Return the impedance_adaptation server, on the robot's controller as the executor is."""
    sim = args['sim'] == 'true'
    params = {'use_sim_time': sim, 'target_mode': 'trajectory' if sim else 'stream'}
    remaps = ()
    if real is not None:
        params['base_frame'] = real.executor['base_frame']
        remaps = real.executor_remaps
    if libfranka:
        params['base_frame'] = 'fr3_link0'
    return NodeSpec('impedance_adaptation', 'impedance_adaptation',
                    (str(conf / 'impedance_adaptation.yaml'),), params, remaps)


def planner_node(args: dict, conf: Path, common: dict, model: str, gripper: str,
                 task: str) -> NodeSpec:
    """Return grasp_planner for ``task`` (grasp: RT-Grasp's grasps; contact: ManipLLM's)."""
    params = {**common, 'model': str(Path(model).expanduser()), 'gripper': gripper,
              'task': task}
    return NodeSpec('grasp_planner', 'grasp_planner', (str(conf / 'grasp_planner.yaml'),),
                    params)


def nodes(arguments: dict) -> list:
    """Return the nodes to start for ``arguments`` (launch-argument names, string values)."""
    args = resolve(arguments)
    conf = config_dir()
    sim = args['sim'] == 'true'
    common = {'use_sim_time': sim}
    camera = args['camera'] != 'none'
    extrinsic = camera_extrinsic(args) if camera else None
    frames = {} if extrinsic is None else {'camera_extrinsic': extrinsic}
    libfranka = not sim and args['driver'] == 'libfranka'
    out = []
    real = None
    articulated = args['task'] == 'articulated'
    gripper = 'suction' if articulated else args['gripper']
    if sim:
        scene = {'articulated': args['category']} if articulated else {}
        out.append(NodeSpec('sim', 'sim', (str(conf / 'sim.yaml'),),
                            {'gripper': gripper, 'seed': int(args['seed']), **scene}))
    elif args['driver'] == 'franka_ros2':
        from rt_grasp_ros.ros.franka_bringup import franka_ros2_nodes

        real = franka_ros2_nodes(args)
        frames = {**frames, **real.frames}
        out += list(real.nodes)
    if libfranka:
        out += libfranka_nodes(args, conf)
    if camera:
        camera_source = real.camera_source if real is not None else args['camera']
        out.append(NodeSpec('camera', 'camera', (str(conf / 'camera.yaml'),),
                            {**common, **frames, 'source': camera_source,
                             **(articulated_crop() if articulated else {})},
                            real.camera_remaps if real is not None else ()))
    if articulated:
        if args['contact_model'] and camera:
            out.append(planner_node(args, conf, {**common, **frames}, args['contact_model'],
                                    'suction', 'contact'))
        out.append(impedance_adaptation_node(args, conf, real, libfranka))
        return out  # without contact_model no planner: the oracle's contact
    if args['model'] and camera:
        out.append(planner_node(args, conf, {**common, **frames}, args['model'],
                                args['gripper'], 'grasp'))
    # The sim's controller takes whole paths, so it can run faster than real time; a real
    # robot's Cartesian impedance controller takes poses, streamed at the control rate.
    executor = {**common, 'gripper': args['gripper'], 'backend': args['executor'],
                'target_mode': 'trajectory' if sim else 'stream'}
    if real is not None:
        executor.update(real.executor)
    if libfranka:  # the franka node's frames and joints (config/franka.yaml: robot fr3)
        # the driver settles on its targets (config/franka.yaml settle_gain): hold the motions
        # to 2 mm and 0.01 rad, and give the approach the time the settling takes
        executor.update(base_frame='fr3_link0',
                        finger_joints=['fr3_finger_joint1', 'fr3_finger_joint2'],
                        arrival_tolerance=0.002, arrival_rotation_tolerance=0.01,
                        approach_settle=1.0)
    out.append(NodeSpec('grasp_executor', 'grasp_executor', (str(conf / 'grasp_executor.yaml'),),
                        executor, real.executor_remaps if real is not None else ()))
    if args['model'] and args['refinement'] == 'true':  # it refines the planner's grasps
        out.append(NodeSpec('grasp_refinement', 'grasp_refinement',
                            (str(conf / 'grasp_refinement.yaml'),), {**common, **frames}))
    return out
