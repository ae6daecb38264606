"""The Motion protocol: what a skill needs from a robot, and straight-line TCP motions over it.

A robot offers a Cartesian impedance controller (a target TCP pose it is pulled towards, set
without blocking), its measured TCP pose and external wrench, a clock it can wait on, and a
parallel gripper or a vacuum gripper. The in-process simulator implements it by stepping
physics; the ROS executor implements it over topics and actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.transforms import Pose, rotation_error


class UnreachableError(RtGraspError):
    """The arm cannot reach a target pose (joint limits, workspace)."""


class CollisionError(UnreachableError):
    """At the target pose the arm would collide with the table or a fixed object."""


class CancelledError(RtGraspError):
    """The motion was cancelled by its caller."""


class RobotTimeoutError(RtGraspError):
    """The robot stopped answering within a bound: its clock stood still, or no state came."""


class GripperError(RtGraspError):
    """The gripper or vacuum driver failed: no server, a rejected or aborted command."""


@dataclass(frozen=True)
class GripperStatus:
    """What the tool reports.

    Attributes:
        width: finger opening (m); 0 for a suction tool.
        grasped: parallel gripper: the fingers stopped on an object; suction: a part is present.
        vacuum: whether suction is on (suction tool only).
    """

    width: float
    grasped: bool
    vacuum: bool = False


@dataclass(frozen=True)
class Tolerance:
    """When a TCP counts as arrived: within these errors of the target and nearly at rest."""

    position: float = 0.004
    rotation: float = 0.03
    speed: float = 0.05

    def __post_init__(self) -> None:
        for name in ("position", "rotation", "speed"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"Tolerance.{name} must be > 0, got {getattr(self, name)}")


@runtime_checkable
class Motion(Protocol):
    """A robot arm with a Cartesian impedance controller and a gripper, as skills see it."""

    gripper_kind: GripperKind

    @property
    def control_period(self) -> float:
        """Seconds between two streamed targets."""
        ...

    def now(self) -> float:
        """The robot's clock (s)."""
        ...

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of robot time pass (the simulator steps; a robot sleeps)."""
        ...

    def tcp_pose(self) -> Pose:
        """Measured TCP pose in the base frame."""
        ...

    def target_pose(self) -> Pose:
        """The controller's current target (equilibrium) pose."""
        ...

    def wrench(self) -> np.ndarray:
        """External wrench on the TCP (6,): force (N) then torque (Nm), base frame."""
        ...

    def check_target(self, pose: Pose) -> None:
        """Validate a target before moving to it; raise UnreachableError with the reason."""
        ...

    def set_target(self, pose: Pose) -> None:
        """New target pose for the impedance controller; returns at once."""
        ...

    def follow(self, path: TargetPath, cancelled: CancelCheck | None = None) -> None:
        """Follow ``path`` on the robot's clock; return when its last target is due.

        A robot whose controller takes only a pose streams it (:func:`stream`); one whose
        controller takes a trajectory hands it over whole and waits for its end.

        Raises:
            CancelledError: ``cancelled()`` became true; the TCP is held where it is.
        """
        ...

    def reached(self, tolerance: Tolerance) -> bool:
        """Whether the TCP is within ``tolerance`` of the target and nearly at rest."""
        ...

    def open_gripper(self) -> None:
        """Open fully (parallel) or switch the vacuum off (suction); returns at once."""
        ...

    def close_gripper(self, width: float, force: float) -> None:
        """Close towards ``width`` with ``force`` (parallel) or switch the vacuum on."""
        ...

    def gripper_status(self) -> GripperStatus:
        """Width, grasped or part present, vacuum."""
        ...


@dataclass(frozen=True)
class MoveOutcome:
    """How a motion ended: whether the TCP settled at the target, and the residual error."""

    reached: bool
    position_error: float
    rotation_error: float
    duration: float


@dataclass(frozen=True)
class LinearMove:
    """A straight-line TCP motion with a minimum-jerk profile.

    Attributes:
        linear_speed: average speed along the line (m/s).
        angular_speed: average turn rate (rad/s).
        min_duration: shortest motion (s).
        settle: how long to wait for the TCP to settle at the end (s).
        tolerance: when the TCP counts as arrived.
        check: validate the target with :meth:`Motion.check_target` first.
    """

    linear_speed: float = 0.25
    angular_speed: float = 1.2
    min_duration: float = 0.3
    settle: float = 1.0
    tolerance: Tolerance = field(default_factory=Tolerance)
    check: bool = True


def min_jerk(s: float) -> float:
    """Minimum-jerk time scaling of ``s`` in [0, 1]."""
    return s**3 * (10 - 15 * s + 6 * s * s)


CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class TargetPath:
    """Controller targets in time: ``poses[k]`` is the target at ``times[k]`` (s from the start).

    ``times`` starts at 0 (the current target) and increases; between two samples the target
    moves linearly (position) and by spherical interpolation (rotation).
    """

    times: tuple[float, ...]
    poses: tuple[Pose, ...]

    def __post_init__(self) -> None:
        if len(self.times) != len(self.poses) or len(self.times) < 2:
            raise ConfigError(
                f"TargetPath needs >= 2 times and as many poses, got {len(self.times)} times "
                f"and {len(self.poses)} poses"
            )
        steps = np.diff(self.times)
        if self.times[0] != 0.0 or not np.all(steps > 0) or not np.all(np.isfinite(steps)):
            raise ConfigError(f"TargetPath.times must start at 0 and increase, got {self.times}")

    @property
    def duration(self) -> float:
        """Time of the last target (s)."""
        return self.times[-1]

    def at(self, t: float) -> Pose:
        """The target at time ``t`` (clamped to the path's ends)."""
        if t <= 0.0:
            return self.poses[0]
        if t >= self.duration:
            return self.poses[-1]
        k = int(np.searchsorted(self.times, t, side="right")) - 1
        a, b = self.poses[k], self.poses[k + 1]
        s = (t - self.times[k]) / (self.times[k + 1] - self.times[k])
        turn = rotation_error(b.rotation_matrix, a.rotation_matrix)
        rotation = Rotation.from_rotvec(s * turn) * a.rotation
        return Pose(a.position + s * (b.position - a.position), rotation)


def linear_path(start: Pose, goal: Pose, duration: float, period: float) -> TargetPath:
    """A straight line from ``start`` to ``goal``, minimum-jerk in time, one sample a period."""
    steps = max(1, round(duration / period))
    turn_vec = rotation_error(goal.rotation_matrix, start.rotation_matrix)
    turns = bool(turn_vec.any())
    times, poses = [0.0], [start]
    for k in range(1, steps + 1):
        s = min_jerk(k / steps)
        # A move that does not turn keeps the start's rotation (scipy per step is slow).
        rotation = Rotation.from_rotvec(s * turn_vec) * start.rotation if turns else start.rotation
        times.append(k * period)
        poses.append(Pose(start.position + s * (goal.position - start.position), rotation))
    return TargetPath(tuple(times), tuple(poses))


def stream(motion: Motion, path: TargetPath, cancelled: CancelCheck | None = None) -> None:
    """Follow ``path`` by setting each target when it is due (a controller that takes poses)."""
    for k in range(1, len(path.times)):
        _check_cancel(motion, cancelled)
        motion.set_target(path.poses[k])
        motion.wait(path.times[k] - path.times[k - 1])


def move_linear(
    motion: Motion,
    goal: Pose,
    move: LinearMove | None = None,
    cancelled: CancelCheck | None = None,
) -> MoveOutcome:
    """Stream targets along a straight line from the current target to ``goal``, then settle.

    Raises:
        UnreachableError: ``move.check`` and the robot cannot reach ``goal``.
        CancelledError: ``cancelled()`` became true; the TCP is held where it is.
    """
    move = move or LinearMove()
    if move.check:
        motion.check_target(goal)
    start = motion.target_pose()
    dist, turn = start.distance_to(goal)
    duration = max(move.min_duration, dist / move.linear_speed, turn / move.angular_speed)
    period = motion.control_period
    t0 = motion.now()
    motion.follow(linear_path(start, goal, duration, period), cancelled)
    motion.set_target(goal)
    # Deadlines, not counts of periods: a robot clock that advances in coarse ticks (a fast
    # simulator's /clock) must not stretch the settle time or a wait.
    settle_end = motion.now() + move.settle
    while motion.now() < settle_end and not motion.reached(move.tolerance):
        _check_cancel(motion, cancelled)
        motion.wait(min(period, max(settle_end - motion.now(), 1e-6)))
    pos_err, rot_err = motion.tcp_pose().distance_to(goal)
    reached = pos_err < move.tolerance.position and rot_err < move.tolerance.rotation
    return MoveOutcome(reached, pos_err, rot_err, motion.now() - t0)


def wait(motion: Motion, seconds: float, cancelled: CancelCheck | None = None) -> None:
    """Let ``seconds`` pass (at least one control period), checking for cancellation."""
    period = motion.control_period
    end = motion.now() + max(seconds, period)
    while True:
        _check_cancel(motion, cancelled)
        left = end - motion.now()
        if left <= 1e-9:
            return
        motion.wait(min(period, left))


def hold_here(motion: Motion) -> None:
    """Stop: make the measured TCP pose the target."""
    motion.set_target(motion.tcp_pose())


def _check_cancel(motion: Motion, cancelled: CancelCheck | None) -> None:
    if cancelled is not None and cancelled():
        hold_here(motion)
        raise CancelledError("the motion was cancelled")
