"""The MoveIt backend's ROS-free parts: backend choice, goals, collision objects, error codes.

The MoveIt calls themselves (rt_grasp_ros/ros/moveit_backend.py) need moveit_py: their test
skips with the reason where it is not installed (here: always; moveit_py is not on PyPI).
"""

from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.skills.grasp import GraspFailure, Stage, Workspace
from rt_grasp_ros.skills.motion import (
    CancelledError,
    CollisionError,
    RobotTimeoutError,
    UnreachableError,
)
from rt_grasp_ros.skills.moveit_goals import (
    MOVEIT_ERROR_CODES,
    MoveItConfig,
    Segment,
    choose_backend,
    execute_arguments,
    execute_style,
    failure_of,
    plan_request,
    raise_for,
    scene_boxes,
)
from rt_grasp_ros.transforms import Pose, top_down_rotation


def test_the_backend_choice_names_what_to_install():
    assert choose_backend("cartesian", lambda: False) == "cartesian"
    assert choose_backend("moveit", lambda: True) == "moveit"
    with pytest.raises(ConfigError, match="moveit-py") as info:
        choose_backend("moveit", lambda: False)
    assert "moveit.planning" in str(info.value) and "cartesian" in str(info.value)
    with pytest.raises(ConfigError, match="not one of"):
        choose_backend("pilz", lambda: True)


def test_pre_grasp_and_retreat_are_pose_goals_approach_and_lift_are_lin():
    config = MoveItConfig()
    goal = Pose([0.5, 0.0, 0.2], top_down_rotation(0.3))
    kinds = {s: plan_request(s, goal, "fr3_link0", config) for s in Stage}
    assert kinds[Stage.PRE_GRASP].segment is Segment.FREE
    assert kinds[Stage.RETREAT].segment is Segment.FREE
    for stage in (Stage.APPROACH, Stage.LIFT):
        req = kinds[stage]
        assert req.segment is Segment.LINEAR
        assert (req.pipeline, req.planner) == ("pilz_industrial_motion_planner", "LIN")
        assert req.velocity_scaling == config.linear_velocity_scaling and req.attempts == 1
    free = kinds[Stage.PRE_GRASP]
    assert (free.pipeline, free.planner, free.link, free.frame) == (
        "ompl",
        "RRTConnectkConfigDefault",
        "fr3_hand_tcp",
        "fr3_link0",
    )
    assert free.pose.distance_to(goal) == (0.0, 0.0)
    assert plan_request(None, goal, "b", config).segment is Segment.FREE


def test_a_tool_link_off_the_tcp_moves_the_goal():
    offset = Pose([0.0, 0.0, -0.1034])  # e.g. fr3_link8 (the flange) seen from the TCP
    config = MoveItConfig(tcp_link="fr3_link8", tcp_from_link=offset)
    goal = Pose([0.5, 0.0, 0.2], top_down_rotation(0.0))  # TCP pointing down
    req = plan_request(Stage.PRE_GRASP, goal, "fr3_link0", config)
    assert np.allclose(req.pose.position, [0.5, 0.0, 0.3034])


def test_config_values_are_checked():
    with pytest.raises(ConfigError, match="velocity_scaling"):
        MoveItConfig(velocity_scaling=0.0)
    with pytest.raises(ConfigError, match="planning_time"):
        MoveItConfig(planning_time=0.0)


def test_the_table_and_walls_bound_the_workspace_and_leave_the_robot_side_open():
    ws = Workspace((0.2, -0.5, -0.02), (0.8, 0.5, 0.6))
    boxes = {b.name: b for b in scene_boxes(ws, "fr3_link0", table_height=0.0)}
    assert set(boxes) == {"table", "wall_far", "wall_left", "wall_right"}
    table = boxes["table"]
    top = table.pose.position[2] + table.size[2] / 2
    assert top == pytest.approx(0.0) and all(b.frame == "fr3_link0" for b in boxes.values())
    # the walls stand outside the workspace: every workspace point is free
    for name in ("wall_far", "wall_left", "wall_right"):
        b = boxes[name]
        lo = b.pose.position - np.array(b.size) / 2
        hi = b.pose.position + np.array(b.size) / 2
        assert lo[0] >= 0.8 or hi[1] <= -0.5 or lo[1] >= 0.5, name
        assert hi[2] == pytest.approx(0.6)
    # nothing closes the robot's side: no box reaches below x = 0.1 - a wall's thickness
    assert min(b.pose.position[0] - b.size[0] / 2 for b in boxes.values()) == pytest.approx(0.1)
    with pytest.raises(ConfigError, match="above the table"):
        scene_boxes(ws, "b", table_height=0.7)


@pytest.mark.parametrize(
    ("code", "failure", "exception"),
    [
        (-1, GraspFailure.UNREACHABLE, UnreachableError),  # PLANNING_FAILED
        (-31, GraspFailure.UNREACHABLE, UnreachableError),  # NO_IK_SOLUTION
        (-4, GraspFailure.UNREACHABLE, UnreachableError),  # CONTROL_FAILED
        (-12, GraspFailure.COLLISION, CollisionError),  # GOAL_IN_COLLISION
        (-10, GraspFailure.COLLISION, CollisionError),  # START_STATE_IN_COLLISION
        (-6, GraspFailure.TIMEOUT, RobotTimeoutError),  # TIMED_OUT
        (-23, GraspFailure.TIMEOUT, RobotTimeoutError),  # ROBOT_STATE_STALE
        (-7, GraspFailure.CANCELLED, CancelledError),  # PREEMPTED
        (-15, GraspFailure.UNREACHABLE, UnreachableError),  # INVALID_GROUP_NAME
    ],
)
def test_moveit_error_codes_become_the_executors_failure_kinds(code, failure, exception):
    assert failure_of(code) is failure
    with pytest.raises(exception, match=MOVEIT_ERROR_CODES[code]):
        raise_for(code, "pose goal")
    # the exception class is one the grasp skill already maps (CollisionError first)
    assert issubclass(exception, (UnreachableError, RobotTimeoutError, CancelledError))


def test_success_raises_nothing_and_every_code_has_a_kind():
    raise_for(1, "plan")
    assert failure_of(1) is None
    assert all(failure_of(c) is not None for c in MOVEIT_ERROR_CODES if c != 1)


def test_humble_and_jazzy_execute_are_called_their_own_way():
    assert execute_style("humble") == "humble"
    assert execute_style("jazzy") == execute_style("rolling") == execute_style("") == "jazzy"
    traj = object()
    assert execute_arguments("humble", "fr3_arm", traj) == (("fr3_arm", traj), {"blocking": True})
    assert execute_arguments("jazzy", "fr3_arm", traj) == ((traj,), {"controllers": []})
    with pytest.raises(ConfigError):
        execute_arguments("foxy", "fr3_arm", traj)


def test_the_moveit_calls_run_where_moveit_py_is_installed():
    pytest.importorskip(
        "moveit.planning",
        reason="moveit_py is not installed (not on PyPI: apt install ros-$ROS_DISTRO-moveit-py "
        "with franka_fr3_moveit_config and a running move_group); the MoveIt calls of "
        "rt_grasp_ros/ros/moveit_backend.py are untested here",
    )
    from rt_grasp_ros.ros.moveit_backend import collision_object_msgs

    ws = Workspace()
    msgs = collision_object_msgs(scene_boxes(ws, "fr3_link0"))
    assert [m.id for m in msgs] == ["table", "wall_far", "wall_left", "wall_right"]
