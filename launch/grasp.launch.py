"""
Bring up rt_grasp: `ros2 launch rt_grasp grasp.launch.py [sim:=true] [model:=DIR] ...`.

The node list and parameter files come from rt_grasp_ros.ros.stack, the same description that
`rt-grasp ros up` reads on machines without launch. Arguments: see `ros2 launch rt_grasp
grasp.launch.py --show-args`.

task:=articulated category:=drawer seed:=N brings up ManipLLM's side instead: the sim with that
articulated scene and the suction tool, the camera and the impedance_adaptation server, and with
contact_model:=DIR the planner in contact mode (task=contact: /plan_grasp MODE_CONTACT answers
ManipLLM's chain of thought and contact pose); without it no planner starts and `rt-grasp ros
manipulate` takes the contact from the sim's oracle (sim/scene_contact).

robot_state_publisher (sim:=true), rviz2 (rviz:=true) and, with rviz:=true and grasp_refinement
running, the refinement panel in rqt_gui start where they are installed; where one is missing the
launch logs why and starts the rest. With sim:=false driver:=franka_ros2 it includes
franka_bringup, franka_fr3_moveit_config (executor:=moveit) and the camera driver, and spawns the
controller, as rt_grasp_ros.ros.franka_bringup decides; a missing package stops the launch with an
error naming it.
"""

from pathlib import Path

from ament_index_python.packages import get_package_prefix
from ament_index_python.packages import get_package_share_directory
from ament_index_python.packages import PackageNotFoundError
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, LogInfo
from launch.actions import OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from rt_grasp_ros.ros.franka_bringup import franka_ros2_launch
from rt_grasp_ros.ros.stack import ARGUMENTS, nodes, PACKAGE, rviz_parameters

# The refinement panel as an rqt plugin (rt_grasp_ros/panel/rqt_plugin.py, exported by
# package.xml): rqt_gui --standalone takes plugin.xml's class name.
PANEL_PLUGIN = 'rt_grasp/RefinementPanel'  # plugin.xml's class name


def _installed(package):
    """Return whether ROS package `package` is in the ament index (AMENT_PREFIX_PATH)."""
    try:
        get_package_prefix(package)
    except PackageNotFoundError:
        return False
    return True


def _missing(package, what):
    return LogInfo(msg=f'{package} is not installed (not in the ament index): {what}; '
                       f'install ros-$ROS_DISTRO-{package.replace("_", "-")} to get it')


def _nodes(context):
    args = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    specs = nodes(args)
    actions = [
        Node(package=PACKAGE, executable=spec.executable, name=spec.name, output='screen',
             parameters=[*spec.param_files, spec.parameters, *_moveit_parameters(spec, args)],
             remappings=list(spec.remaps), emulate_tty=True)
        for spec in specs
    ]
    if args['sim'] == 'false' and args['driver'] == 'franka_ros2':
        actions += _franka_ros2(args)
    share = Path(get_package_share_directory(PACKAGE))
    # on a robot, franka_ros2 publishes the links' TF itself
    if args['sim'] == 'true' and not _installed('robot_state_publisher'):
        actions.append(_missing('robot_state_publisher', 'no TF for the simulated robot links'))
    elif args['sim'] == 'true':
        tool = 'suction' if args['task'] == 'articulated' else args['gripper']
        urdf = share / 'urdf' / f'panda_{tool}.urdf'
        actions.append(Node(package='robot_state_publisher', executable='robot_state_publisher',
                            parameters=[{'robot_description': urdf.read_text(encoding='utf-8'),
                                         'use_sim_time': True}]))
    if args['rviz'] == 'true' and not _installed('rviz2'):
        actions.append(_missing('rviz2', 'no RViz window'))
    elif args['rviz'] == 'true':
        rviz_config = str(share / 'rviz' / 'rt_grasp.rviz')
        # with sim:=true RViz follows the sim's /clock, as every node does
        actions.append(Node(package='rviz2', executable='rviz2', arguments=['-d', rviz_config],
                            parameters=[rviz_parameters(args)]))
    refining = any(spec.name == 'grasp_refinement' for spec in specs)
    if args['rviz'] == 'true' and refining and not _installed('rqt_gui'):
        actions.append(_missing('rqt_gui', 'no refinement panel (the marker menu in RViz works)'))
    elif args['rviz'] == 'true' and refining:
        actions.append(Node(package='rqt_gui', executable='rqt_gui',
                            arguments=['--standalone', PANEL_PLUGIN],
                            parameters=[rviz_parameters(args)]))
    return actions


def _franka_ros2(args):
    """Return the includes and controller spawners of driver:=franka_ros2."""
    real = franka_ros2_launch(args)  # ConfigError names a missing package
    actions = [
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(
                str(Path(get_package_share_directory(inc.package)) / inc.path)),
            launch_arguments=list(inc.arguments.items()))
        for inc in real.includes
    ]
    actions += [Node(package='controller_manager', executable='spawner',
                     arguments=[spawner.controller], output='screen')
                for spawner in real.spawners]
    return actions


def _moveit_parameters(spec, args):
    """Return MoveItPy's configuration for the executor with executor:=moveit on a robot."""
    if spec.name != 'grasp_executor' or args['executor'] != 'moveit' or args['sim'] == 'true':
        return []
    # moveit_configs_utils comes with MoveIt; the executor's MoveItPy reads these parameters
    from moveit_configs_utils import MoveItConfigsBuilder

    config = (MoveItConfigsBuilder('fr3', package_name='franka_fr3_moveit_config')
              .planning_pipelines(pipelines=['ompl', 'pilz_industrial_motion_planner'])
              .to_moveit_configs())
    return [config.to_dict()]


def generate_launch_description():
    """Declare the arguments; the nodes are resolved once their values are known."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in ARGUMENTS.items()]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])
