"""
Bring up rt_grasp: `ros2 launch rt_grasp grasp.launch.py [sim:=true] [model:=DIR] ...`.

The node list and parameter files come from rt_grasp_ros.ros.stack, the same description that
`rt-grasp ros up` reads on machines without launch. Arguments: see `ros2 launch rt_grasp
grasp.launch.py --show-args`.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from rt_grasp_ros.ros.stack import ARGUMENTS, nodes, PACKAGE


def _nodes(context):
    args = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    actions = [
        Node(package=PACKAGE, executable=spec.executable, name=spec.name, output='screen',
             parameters=[*spec.param_files, spec.parameters], emulate_tty=True)
        for spec in nodes(args)
    ]
    share = Path(get_package_share_directory(PACKAGE))
    description = (share / 'urdf' / f'panda_{args["gripper"]}.urdf').read_text(encoding='utf-8')
    if args['sim'] == 'true':  # on a robot, franka_ros2 publishes the links' TF itself
        actions.append(Node(package='robot_state_publisher', executable='robot_state_publisher',
                            parameters=[{'robot_description': description,
                                         'use_sim_time': True}]))
    rviz_config = str(share / 'rviz' / 'rt_grasp.rviz')
    actions.append(Node(package='rviz2', executable='rviz2', arguments=['-d', rviz_config],
                        condition=IfCondition(LaunchConfiguration('rviz'))))
    return actions


def generate_launch_description():
    """Declare the arguments; the nodes are resolved once their values are known."""
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in ARGUMENTS.items()]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])
