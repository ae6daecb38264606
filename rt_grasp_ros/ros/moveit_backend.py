"""
The executor's ``moveit`` backend: the grasp skill's motions planned and executed by MoveIt.

Imported only where moveit_py is installed (``backend:=moveit``; the executor checks with
:func:`rt_grasp_ros.skills.moveit_goals.choose_backend` first). Why moveit_py and not
pymoveit2 over move_group: it is MoveIt's own Python API, released with MoveIt for every
distro, so the planners (OMPL, Pilz), the planning scene and the trajectory execution are
MoveIt's, configured by the robot's MoveIt config package; pymoveit2 is a separate project
that re-implements the clients. Its one gap, no Cartesian-path API, is filled by Pilz ``LIN``
for the short straight segments.

:class:`MoveItMotion` is the Motion protocol over :class:`RosMotion`: the clock, the measured
TCP pose, the gripper and the vacuum stay RosMotion's; each straight-line motion of the skill
becomes one MoveIt request (:func:`plan_request`: a free-space pose goal for the pre-grasp and
the retreat, Pilz LIN for the approach and the lift) to the motion's last pose, and MoveIt's
error codes become the skill's exceptions (:func:`raise_for`). The table and the workspace's
walls go into the planning scene once, at start.

moveit_py's ``execute`` differs: Humble ``execute(group, trajectory, blocking=True)``, Jazzy
``execute(trajectory, controllers=[])``; the style follows ``ROS_DISTRO`` and the other one is
tried if the call's signature does not match.
"""

import os

from geometry_msgs.msg import PoseStamped
from rt_grasp_ros.optional import require
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.skills.grasp import Workspace
from rt_grasp_ros.skills.motion import CancelledError, UnreachableError
from rt_grasp_ros.skills.moveit_goals import (
    execute_arguments,
    execute_style,
    MoveItConfig,
    plan_request,
    raise_for,
    scene_boxes,
)


def _error_code(result) -> int:
    """Return the MoveItErrorCodes value of a plan or execution result (1 = success)."""
    code = getattr(result, 'error_code', None)
    if code is None:
        return 1 if result else 99999
    return int(getattr(code, 'val', code))


def collision_object_msgs(boxes):
    """Return moveit_msgs/CollisionObject messages (ADD) for ``boxes``."""
    from moveit_msgs.msg import CollisionObject
    from shape_msgs.msg import SolidPrimitive

    out = []
    for box in boxes:
        obj = CollisionObject()
        obj.header.frame_id = box.frame
        obj.id = box.name
        primitive = SolidPrimitive(type=SolidPrimitive.BOX, dimensions=list(box.size))
        obj.primitives = [primitive]
        obj.primitive_poses = [conv.pose_to_msg(box.pose)]
        obj.operation = CollisionObject.ADD
        out.append(obj)
    return out


class MoveItMotion:
    """The Motion protocol with MoveIt moving the arm (see the module doc)."""

    def __init__(self, node, ros_motion, base_frame: str, config: MoveItConfig,
                 workspace: Workspace, table_height: float = 0.0):
        planning = require('moveit.planning', 'the executor backend moveit')
        self._planning = planning
        self.node, self.ros, self.base_frame, self.config = node, ros_motion, base_frame, config
        self.gripper_kind = ros_motion.gripper_kind
        self.moveit = planning.MoveItPy(node_name=f'{node.get_name()}_moveit')
        self.arm = self.moveit.get_planning_component(config.group)
        self.style = execute_style(os.environ.get('ROS_DISTRO', ''))
        self.stage = None
        self._target = None
        self.add_scene(scene_boxes(workspace, base_frame, table_height))

    # -- what only MoveIt does ------------------------------------------------------------

    def add_scene(self, boxes) -> None:
        """Put ``boxes`` into MoveIt's planning scene."""
        with self.moveit.get_planning_scene_monitor().read_write() as scene:
            for obj in collision_object_msgs(boxes):
                scene.apply_collision_object(obj)
            scene.current_state.update()

    def enter_stage(self, stage) -> None:
        """Note the skill's stage: it decides the kind of the next motion."""
        self.stage = stage

    def _parameters(self, request):
        params = self._planning.PlanRequestParameters(self.moveit)
        params.planning_pipeline = request.pipeline
        params.planner_id = request.planner
        params.max_velocity_scaling_factor = request.velocity_scaling
        params.max_acceleration_scaling_factor = request.acceleration_scaling
        params.planning_time = request.planning_time
        params.planning_attempts = request.attempts
        return params

    def _execute(self, trajectory):
        styles = [self.style, 'humble' if self.style == 'jazzy' else 'jazzy']
        for k, style in enumerate(styles):
            args, kwargs = execute_arguments(style, self.config.group, trajectory)
            try:
                result = self.moveit.execute(*args, **kwargs)
            except TypeError:
                if k == len(styles) - 1:
                    raise
                continue
            self.style = style
            return result
        return None

    def follow(self, path, cancelled=None):
        """Plan to the path's last pose with MoveIt and execute it (blocking)."""
        if cancelled is not None and cancelled():
            raise CancelledError('the motion was cancelled')
        request = plan_request(self.stage, path.poses[-1], self.base_frame, self.config)
        goal = PoseStamped()
        goal.header.frame_id = request.frame
        goal.pose = conv.pose_to_msg(request.pose)
        self.arm.set_start_state_to_current_state()
        self.arm.set_goal_state(pose_stamped_msg=goal, pose_link=request.link)
        result = self.arm.plan(single_plan_parameters=self._parameters(request))
        what = f'{request.segment.value} plan to the {getattr(self.stage, "value", "")} pose'
        raise_for(_error_code(result), what)
        if getattr(result, 'trajectory', None) is None:
            raise UnreachableError(f'MoveIt {what}: no trajectory')
        executed = self._execute(result.trajectory)
        status = str(getattr(executed, 'status', 'SUCCEEDED')).upper()
        if status not in ('SUCCEEDED', 'SUCCESS'):
            raise UnreachableError(f'MoveIt execution of the {what}: {status}')
        self._target = path.poses[-1]

    # -- the rest of the Motion protocol ---------------------------------------------------

    def check_target(self, pose):
        """Leave reachability to the planner: its error code says why a goal fails."""

    def set_target(self, pose):
        """Remember the goal (the arm is MoveIt's: nothing is streamed)."""
        self._target = pose

    def target_pose(self):
        """Return the last goal, or where the TCP is before the first one."""
        return self._target if self._target is not None else self.ros.tcp_pose()

    def reached(self, tolerance):
        """Return whether the measured TCP is within ``tolerance`` of the last goal."""
        position, rotation = self.ros.tcp_pose().distance_to(self.target_pose())
        return position < tolerance.position and rotation < tolerance.rotation

    def sync(self, timeout=5.0):
        """Start from where the robot is."""
        self._target = None
        return self.ros.sync(timeout)

    @property
    def cancelled(self):
        """Return the goal's cancel check (RosMotion's)."""
        return self.ros.cancelled

    @cancelled.setter
    def cancelled(self, check):
        self.ros.cancelled = check

    @property
    def control_period(self):
        """Return RosMotion's control period."""
        return self.ros.control_period

    def __getattr__(self, name):
        """Delegate the clock, the measured pose, the wrench and the tools to RosMotion."""
        return getattr(self.ros, name)


def make_moveit_motion(node, ros_motion, base_frame, workspace, declare):
    """Declare the backend's parameters on ``node`` and build the MoveIt motion."""
    from rt_grasp_ros.ros.params import above

    scale = above(0.0, 1.0)
    config = MoveItConfig(
        group=declare(node, 'moveit.group', 'fr3_arm', 'MoveIt planning group of the arm'),
        tcp_link=declare(node, 'moveit.tcp_link', 'fr3_hand_tcp',
                         'link whose pose a goal sets (the grasp frame)'),
        free_pipeline=declare(node, 'moveit.free_pipeline', 'ompl',
                              'pipeline of the pre-grasp and retreat pose goals'),
        free_planner=declare(node, 'moveit.free_planner', 'RRTConnectkConfigDefault',
                             'planner of the pose goals'),
        linear_pipeline=declare(node, 'moveit.linear_pipeline',
                                'pilz_industrial_motion_planner',
                                'pipeline of the straight approach and lift'),
        linear_planner=declare(node, 'moveit.linear_planner', 'LIN',
                               'planner of the straight segments'),
        velocity_scaling=declare(node, 'moveit.velocity_scaling', 0.2,
                                 'fraction of the joint velocity limits', scale),
        acceleration_scaling=declare(node, 'moveit.acceleration_scaling', 0.2,
                                     'fraction of the joint acceleration limits', scale),
        linear_velocity_scaling=declare(node, 'moveit.linear_velocity_scaling', 0.05,
                                        'velocity fraction of the approach and lift', scale),
        planning_time=declare(node, 'moveit.planning_time', 5.0, 'seconds per plan',
                              above(0.0, 120.0)))
    table = declare(node, 'moveit.table_height', 0.0, 'table top in the base frame (m)')
    return MoveItMotion(node, ros_motion, base_frame, config, workspace, table)
