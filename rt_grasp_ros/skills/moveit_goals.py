"""The MoveIt backend's decisions, ROS-free: backend choice, goals, collision objects, errors.

The executor's ``moveit`` backend (:mod:`rt_grasp_ros.ros.moveit_backend`) runs the same grasp
skill as the ``cartesian`` one; only how each straight-line motion of the skill reaches the
robot differs. Which motion becomes which kind of MoveIt request is decided here:

- the pre-grasp and the retreat are **free-space pose goals** (OMPL by default), planned
  around the table and the workspace's walls, which are given to the planning scene as
  collision objects;
- the short approach and the lift are **straight Cartesian segments**: Pilz's ``LIN``
  planner (moveit_py has no Cartesian-path API, moveit2#2401);
- MoveIt's error codes (``moveit_msgs/MoveItErrorCodes``) become the exceptions that the
  skill turns into the executor's failure kinds (``unreachable``, ``collision``,
  ``timeout``, ``cancelled``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import INSTALL_HINTS, available
from rt_grasp_ros.skills.grasp import GraspFailure, Stage, Workspace
from rt_grasp_ros.skills.motion import (
    CancelledError,
    CollisionError,
    RobotTimeoutError,
    UnreachableError,
)
from rt_grasp_ros.transforms import Pose

BACKENDS = ("cartesian", "moveit")
MOVEIT_MODULE = "moveit.planning"  # moveit_py: MoveItPy, PlanRequestParameters


def moveit_available() -> bool:
    """Whether moveit_py can be imported here."""
    return available(MOVEIT_MODULE)


def choose_backend(name: str, moveit_importable: Callable[[], bool] = moveit_available) -> str:
    """Return ``name`` if this machine can run it; ConfigError naming what to install if not."""
    if name not in BACKENDS:
        raise ConfigError(f"executor backend {name!r} is not one of {list(BACKENDS)}")
    if name == "moveit" and not moveit_importable():
        raise ConfigError(
            "executor backend 'moveit' needs moveit_py (Python module "
            f"'{MOVEIT_MODULE}'), which is not importable here: install "
            f"{INSTALL_HINTS['moveit']} and the robot's MoveIt config (for the FR3: "
            "ros-$ROS_DISTRO-franka-fr3-moveit-config, from franka_ros2); or use backend "
            "'cartesian' (impedance targets, no MoveIt)"
        )
    return name


class Segment(str, Enum):
    """How a motion is planned."""

    FREE = "free"  # a pose goal, planned around obstacles
    LINEAR = "linear"  # a straight TCP line (Pilz LIN)


# the skill's stage -> the kind of motion it makes (stages without motion are absent)
STAGE_SEGMENTS = {
    Stage.PRE_GRASP: Segment.FREE,
    Stage.APPROACH: Segment.LINEAR,
    Stage.LIFT: Segment.LINEAR,
    Stage.RETREAT: Segment.FREE,
}


@dataclass(frozen=True)
class MoveItConfig:
    """What the MoveIt backend plans with (the defaults fit franka_fr3_moveit_config).

    Attributes:
        group: the planning group of the arm.
        tcp_link: the link whose pose a goal sets; the executor's TCP (the grasp frame of
            rt_grasp/Grasp) is this link's frame, turned by ``tcp_from_link`` if not.
        tcp_from_link: the tool link in the TCP frame (identity for fr3_hand_tcp).
        free_pipeline, free_planner: pipeline and planner of free-space goals.
        linear_pipeline, linear_planner: those of straight segments (Pilz LIN).
        velocity_scaling, acceleration_scaling: of the robot's limits, in (0, 1].
        linear_velocity_scaling: slower for the approach and the lift, near the object.
        planning_time: seconds a plan may take.
        attempts: planning attempts of a free-space goal.
    """

    group: str = "fr3_arm"
    tcp_link: str = "fr3_hand_tcp"
    tcp_from_link: Pose = field(default_factory=Pose)
    free_pipeline: str = "ompl"
    free_planner: str = "RRTConnectkConfigDefault"
    linear_pipeline: str = "pilz_industrial_motion_planner"
    linear_planner: str = "LIN"
    velocity_scaling: float = 0.2
    acceleration_scaling: float = 0.2
    linear_velocity_scaling: float = 0.05
    planning_time: float = 5.0
    attempts: int = 5

    def __post_init__(self) -> None:
        for name in ("velocity_scaling", "acceleration_scaling", "linear_velocity_scaling"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ConfigError(f"MoveItConfig.{name} must be in (0, 1], got {value}")
        if not self.planning_time > 0 or self.attempts < 1:
            raise ConfigError(
                f"MoveItConfig needs planning_time > 0 and attempts >= 1, got "
                f"{self.planning_time}, {self.attempts}"
            )
        if not self.group or not self.tcp_link:
            raise ConfigError("MoveItConfig needs a planning group and a TCP link")


@dataclass(frozen=True)
class PlanRequest:
    """One MoveIt request: what moveit_py's PlanRequestParameters and set_goal_state get."""

    segment: Segment
    link: str
    pose: Pose  # of ``link``, in ``frame``
    frame: str
    pipeline: str
    planner: str
    velocity_scaling: float
    acceleration_scaling: float
    planning_time: float
    attempts: int


def plan_request(
    stage: Stage | None, tcp_goal: Pose, frame: str, config: MoveItConfig
) -> PlanRequest:
    """The request for the motion of ``stage`` to the TCP pose ``tcp_goal`` (in ``frame``).

    A motion outside the stages that move (or with no stage known) is a free-space goal.
    """
    segment = STAGE_SEGMENTS.get(stage, Segment.FREE) if stage is not None else Segment.FREE
    link_pose = tcp_goal @ config.tcp_from_link
    if segment is Segment.LINEAR:
        return PlanRequest(
            segment,
            config.tcp_link,
            link_pose,
            frame,
            config.linear_pipeline,
            config.linear_planner,
            config.linear_velocity_scaling,
            config.acceleration_scaling,
            config.planning_time,
            1,  # Pilz is deterministic: one attempt
        )
    return PlanRequest(
        segment,
        config.tcp_link,
        link_pose,
        frame,
        config.free_pipeline,
        config.free_planner,
        config.velocity_scaling,
        config.acceleration_scaling,
        config.planning_time,
        config.attempts,
    )


# -- collision objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class CollisionBox:
    """A box obstacle for the planning scene: its centre pose and full side lengths (m)."""

    name: str
    frame: str
    size: tuple[float, float, float]
    pose: Pose


def scene_boxes(
    workspace: Workspace,
    frame: str,
    table_height: float = 0.0,
    table_thickness: float = 0.05,
    margin: float = 0.10,
    wall: float = 0.01,
) -> list[CollisionBox]:
    """The table and the workspace's walls as boxes.

    The table is a slab whose top is ``table_height``, under the workspace box grown by
    ``margin``; walls stand on it along the workspace's far side (+x) and both sides (±y), up
    to the workspace's top, so free-space plans stay inside. The robot's side (-x) and the top
    stay open: the arm reaches in from there.
    """
    lo, hi = np.asarray(workspace.lower, float), np.asarray(workspace.upper, float)
    if not hi[2] > table_height:
        raise ConfigError(
            f"the workspace top {hi[2]} m must be above the table height {table_height} m"
        )
    x0, x1 = lo[0] - margin, hi[0] + margin
    y0, y1 = lo[1] - margin, hi[1] + margin
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height = hi[2] - table_height
    zc = table_height + height / 2
    return [
        CollisionBox(
            "table",
            frame,
            (x1 - x0, y1 - y0, table_thickness),
            Pose([cx, cy, table_height - table_thickness / 2]),
        ),
        CollisionBox("wall_far", frame, (wall, y1 - y0, height), Pose([x1 + wall / 2, cy, zc])),
        CollisionBox("wall_left", frame, (x1 - x0, wall, height), Pose([cx, y1 + wall / 2, zc])),
        CollisionBox("wall_right", frame, (x1 - x0, wall, height), Pose([cx, y0 - wall / 2, zc])),
    ]


# -- MoveIt's error codes -------------------------------------------------------------------

# moveit_msgs/msg/MoveItErrorCodes (the same values on Humble and Jazzy)
MOVEIT_ERROR_CODES = {
    1: "SUCCESS",
    0: "UNDEFINED",
    99999: "FAILURE",
    -1: "PLANNING_FAILED",
    -2: "INVALID_MOTION_PLAN",
    -3: "MOTION_PLAN_INVALIDATED_BY_ENVIRONMENT_CHANGE",
    -4: "CONTROL_FAILED",
    -5: "UNABLE_TO_AQUIRE_SENSOR_DATA",
    -6: "TIMED_OUT",
    -7: "PREEMPTED",
    -10: "START_STATE_IN_COLLISION",
    -11: "START_STATE_VIOLATES_PATH_CONSTRAINTS",
    -12: "GOAL_IN_COLLISION",
    -13: "GOAL_VIOLATES_PATH_CONSTRAINTS",
    -14: "GOAL_CONSTRAINTS_VIOLATED",
    -15: "INVALID_GROUP_NAME",
    -16: "INVALID_GOAL_CONSTRAINTS",
    -17: "INVALID_ROBOT_STATE",
    -18: "INVALID_LINK_NAME",
    -19: "INVALID_OBJECT_NAME",
    -21: "FRAME_TRANSFORM_FAILURE",
    -22: "COLLISION_CHECKING_UNAVAILABLE",
    -23: "ROBOT_STATE_STALE",
    -24: "SENSOR_INFO_STALE",
    -25: "COMMUNICATION_FAILURE",
    -26: "START_STATE_INVALID",
    -27: "GOAL_STATE_INVALID",
    -28: "UNRECOGNIZED_GOAL_TYPE",
    -29: "CRASH",
    -30: "ABORT",
    -31: "NO_IK_SOLUTION",
}

_COLLISION = {-3, -10, -12}
_TIMEOUT = {-5, -6, -23, -24, -25}
_CANCELLED = {-7}


def failure_of(code: int) -> GraspFailure | None:
    """The executor's failure kind for a MoveIt error code (None for SUCCESS).

    Collisions (start or goal in collision, the scene changed under the plan) are
    ``collision``; stale state, lost sensors, time-outs and a broken link are ``timeout``;
    a preempted motion is ``cancelled``; every other failure (no plan, no IK solution, goal
    constraints, a controller that failed, a misconfigured group or link) is ``unreachable``.
    """
    if code == 1:
        return None
    if code in _COLLISION:
        return GraspFailure.COLLISION
    if code in _TIMEOUT:
        return GraspFailure.TIMEOUT
    if code in _CANCELLED:
        return GraspFailure.CANCELLED
    return GraspFailure.UNREACHABLE


def error_name(code: int) -> str:
    """The constant's name in MoveItErrorCodes (or the number)."""
    return MOVEIT_ERROR_CODES.get(code, f"error code {code}")


def raise_for(code: int, what: str) -> None:
    """Raise the exception the grasp skill maps to ``failure_of(code)``; nothing on SUCCESS."""
    failure = failure_of(code)
    if failure is None:
        return
    message = f"MoveIt {what}: {error_name(code)} ({code})"
    if failure is GraspFailure.COLLISION:
        raise CollisionError(message)
    if failure is GraspFailure.TIMEOUT:
        raise RobotTimeoutError(message)
    if failure is GraspFailure.CANCELLED:
        raise CancelledError(message)
    raise UnreachableError(message)


# -- moveit_py's two execute() signatures ----------------------------------------------------


def execute_style(distro: str) -> str:
    """``humble`` (``execute(group, trajectory, blocking=True)``) or ``jazzy`` (newer).

    Jazzy's moveit_py takes ``execute(trajectory, controllers=[])``; so do later distros.
    An unknown or empty distro is taken as the newer API.
    """
    return "humble" if distro.strip().lower() == "humble" else "jazzy"


def execute_arguments(style: str, group: str, trajectory: object) -> tuple[tuple, dict]:
    """``(args, kwargs)`` of ``MoveItPy.execute`` for ``style``."""
    if style == "humble":
        return (group, trajectory), {"blocking": True}
    if style == "jazzy":
        return (trajectory,), {"controllers": []}
    raise ConfigError(f"moveit_py execute style {style!r} is not 'humble' or 'jazzy'")
