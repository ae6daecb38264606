"""
The stack's one description: launch arguments, nodes and their parameter files.

Read by ``launch/grasp.launch.py`` (ROS installs) and by ``rt-grasp ros up`` (everywhere), so
both start the same nodes with the same parameters. Imports nothing from ROS.
"""

from dataclasses import dataclass, field
from pathlib import Path
import sys

from rt_grasp_ros.errors import ConfigError

PACKAGE = 'rt_grasp'

# name -> (default, description)
ARGUMENTS = {
    'sim': ('true', 'run the embedded MuJoCo robot (false: a real robot, camera driver and '
                    'vacuum driver answer on the same interfaces)'),
    'model': ('default', 'checkpoint folder or hub id of the grasp model (default: the shipped '
                         'embedded model; empty: no planner)'),
    'gripper': ('parallel', 'parallel (Franka Hand) or suction (Cobot Pump)'),
    'camera': ('topics', 'camera source: topics (any driver, or the sim), realsense '
                         '(pyrealsense2) or kinect (pyk4a)'),
    'executor': ('cartesian', 'executor backend: cartesian (impedance targets)'),
    'rviz': ('false', 'start RViz with rviz/rt_grasp.rviz (needs a ROS install)'),
    'seed': ('0', 'seed of the simulated scene'),
}
CHOICES = {'sim': ('true', 'false'), 'gripper': ('parallel', 'suction'),
           'camera': ('topics', 'realsense', 'kinect'), 'executor': ('cartesian',),
           'rviz': ('true', 'false')}


def sim_camera_extrinsic() -> list:
    """Return the sim camera's optical frame in the base frame: x y z qx qy qz qw."""
    from rt_grasp_ros.sim.camera import CameraConfig

    pose = CameraConfig().camera().base_from_camera
    return [float(c) for c in (*pose.position, *pose.quat_xyzw)]


@dataclass(frozen=True)
class NodeSpec:
    """One node: its executable in lib/rt_grasp, parameter files and parameter overrides."""

    name: str
    executable: str
    param_files: tuple = ()
    parameters: dict = field(default_factory=dict)


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
    return args


def nodes(arguments: dict) -> list:
    """Return the nodes to start for ``arguments`` (launch-argument names, string values)."""
    args = resolve(arguments)
    conf = config_dir()
    sim = args['sim'] == 'true'
    common = {'use_sim_time': sim}
    out = []
    if sim:
        out.append(NodeSpec('sim', 'sim', (str(conf / 'sim.yaml'),),
                            {'gripper': args['gripper'], 'seed': int(args['seed'])}))
    out.append(NodeSpec('camera', 'camera', (str(conf / 'camera.yaml'),),
                        {**common, 'source': args['camera']}))
    if args['model']:
        planner = {**common, 'model': str(Path(args['model']).expanduser()),
                   'gripper': args['gripper']}
        if sim:
            planner['camera_extrinsic'] = sim_camera_extrinsic()
        out.append(NodeSpec('grasp_planner', 'grasp_planner',
                            (str(conf / 'grasp_planner.yaml'),), planner))
    out.append(NodeSpec('grasp_executor', 'grasp_executor', (str(conf / 'grasp_executor.yaml'),),
                        {**common, 'gripper': args['gripper'], 'backend': args['executor']}))
    return out
