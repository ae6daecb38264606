"""The grasp skill: pre-grasp, approach, close or seal, lift, hold; a verdict the robot can sense.

The verdict uses only what a robot measures (the gripper stopped on an object, a part is present
at the vacuum), so it is the same on the simulator and on a Franka. The simulator's trials add
the ground truth (did the object really rise) on top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.skills.motion import (
    CancelCheck,
    CancelledError,
    CollisionError,
    GripperError,
    LinearMove,
    Motion,
    RobotTimeoutError,
    UnreachableError,
    hold_here,
    move_linear,
    wait,
)
from rt_grasp_ros.transforms import Pose, nearest_symmetric


class GraspFailure(str, Enum):
    """Why a grasp failed; the values are the ``failure`` strings of ExecuteGrasp.action."""

    INVALID = "invalid"
    OUTSIDE_WORKSPACE = "outside_workspace"
    UNREACHABLE = "unreachable"
    COLLISION = "collision"
    NO_CONTACT = "no_contact"
    NOT_GRASPED = "not_grasped"
    SLIPPED = "slipped"
    DROPPED = "dropped"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    GRIPPER_ERROR = "gripper_error"


class Stage(str, Enum):
    """Stages of the grasp sequence, reported as feedback."""

    OPEN = "open"
    PRE_GRASP = "pre_grasp"
    APPROACH = "approach"
    CLOSE = "close"
    LIFT = "lift"
    HOLD = "hold"
    RELEASE = "release"
    RETREAT = "retreat"


@dataclass(frozen=True)
class Workspace:
    """An axis-aligned box in the base frame that every TCP target must lie in (m)."""

    lower: tuple[float, float, float] = (0.2, -0.5, -0.02)
    upper: tuple[float, float, float] = (0.8, 0.5, 0.6)

    def __post_init__(self) -> None:
        if len(self.lower) != 3 or len(self.upper) != 3:
            raise ConfigError("Workspace.lower and .upper must have 3 values each")
        if any(lo >= hi for lo, hi in zip(self.lower, self.upper, strict=True)):
            raise ConfigError(f"Workspace.lower {self.lower} must be below upper {self.upper}")

    def contains(self, point: np.ndarray) -> bool:
        """Whether ``point`` (3,) is inside the box."""
        return bool(np.all(point >= self.lower) and np.all(point <= self.upper))


@dataclass(frozen=True)
class GraspConfig:
    """The grasp sequence's parameters.

    Attributes:
        pre_grasp_height: the approach starts this far above the grasp (m).
        lift: how high the object is lifted (m).
        hold: how long it is held after lifting (s).
        grasp_force: squeeze force of the parallel gripper (N).
        max_width: the parallel gripper's widest opening (m); the close command's expected
            width is clamped to it (the fingers close onto the object whatever its width).
        slip_width: while held, fingers closing by more than this (m) mean the object slid.
        release: after the hold, open the tool and retreat straight up.
        workspace: targets outside it are refused before anything moves.
        move: speeds, settle time and tolerances of each straight-line motion.
        approach_settle: the settle time of the approach (s): shorter than ``move.settle``,
            since a hand that stops short closes on the object all the same.
    """

    pre_grasp_height: float = 0.10
    lift: float = 0.10
    hold: float = 1.0
    grasp_force: float = 40.0
    max_width: float = 0.08
    slip_width: float = 0.005
    release: bool = False
    workspace: Workspace = field(default_factory=Workspace)
    move: LinearMove = field(default_factory=LinearMove)
    approach_settle: float = 0.4

    def __post_init__(self) -> None:
        if self.lift <= 0 or self.hold < 0 or self.pre_grasp_height <= 0:
            raise ConfigError(
                f"GraspConfig needs lift > 0, hold >= 0, pre_grasp_height > 0; got "
                f"{self.lift}, {self.hold}, {self.pre_grasp_height}"
            )
        for name in ("grasp_force", "max_width", "slip_width"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"GraspConfig.{name} must be a number > 0, got {value}")
        if not (math.isfinite(self.approach_settle) and self.approach_settle >= 0):
            raise ConfigError(
                f"GraspConfig.approach_settle must be a number >= 0, got {self.approach_settle}"
            )
        for name in ("lift", "hold", "pre_grasp_height"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"GraspConfig.{name} must be finite, got {getattr(self, name)}")


@dataclass(frozen=True)
class GraspOutcome:
    """The skill's verdict: ``failure`` is None on success; ``message`` says what happened."""

    success: bool
    failure: GraspFailure | None
    message: str
    stage: Stage


StageCallback = Callable[[Stage], None]


def execute_grasp(
    motion: Motion,
    target: GraspTarget,
    config: GraspConfig | None = None,
    on_stage: StageCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> GraspOutcome:
    """Run the grasp sequence on ``motion`` and return the sensed verdict (never raises).

    The wrist turns by the shorter way: a parallel grasp and the same grasp turned by pi are
    one grasp. On cancellation the TCP is held where it is and the tool opened. A robot that
    stops answering (:class:`RobotTimeoutError`) or a failing tool driver
    (:class:`GripperError`) ends the sequence with ``timeout`` or ``gripper_error``.
    """
    config = config or GraspConfig()
    stage = Stage.OPEN

    def enter(s: Stage) -> None:
        nonlocal stage
        stage = s
        if on_stage is not None:
            on_stage(s)

    try:
        _check_target(motion.gripper_kind, target, config)
        _run(motion, _nearest_turn(motion, target), config, enter, cancelled)
    except _GraspFailedError as exc:
        return GraspOutcome(False, exc.failure, str(exc), stage)
    except CollisionError as exc:
        return GraspOutcome(False, GraspFailure.COLLISION, str(exc), stage)
    except UnreachableError as exc:
        return GraspOutcome(False, GraspFailure.UNREACHABLE, str(exc), stage)
    except RobotTimeoutError as exc:
        return GraspOutcome(False, GraspFailure.TIMEOUT, f"{stage.value}: {exc}", stage)
    except GripperError as exc:
        return GraspOutcome(False, GraspFailure.GRIPPER_ERROR, f"{stage.value}: {exc}", stage)
    except CancelledError:
        return GraspOutcome(False, GraspFailure.CANCELLED, _stop(motion, stage), stage)
    done = "grasped, lifted, held and released" if config.release else "grasped, lifted and held"
    return GraspOutcome(True, None, done, stage)


def _stop(motion: Motion, stage: Stage) -> str:
    """Hold the TCP where it is and open the tool; what happened, for the message."""
    message = f"cancelled during {stage.value}"
    try:
        hold_here(motion)
        motion.open_gripper()
    except (GripperError, RobotTimeoutError) as exc:
        message += f" (stopping: {exc})"
    return message


class _GraspFailedError(Exception):
    def __init__(self, failure: GraspFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


def check_grasp(
    target: GraspTarget, gripper: GripperKind, config: GraspConfig | None = None
) -> GraspOutcome | None:
    """A failed outcome if ``target`` is for another tool or leaves the workspace, else None.

    What :func:`execute_grasp` checks before anything moves, for callers that check first.
    """
    try:
        _check_target(gripper, target, config or GraspConfig())
    except _GraspFailedError as exc:
        return GraspOutcome(False, exc.failure, str(exc), Stage.OPEN)
    return None


def _check_target(gripper: GripperKind, target: GraspTarget, config: GraspConfig) -> None:
    if target.gripper is not gripper:
        raise _GraspFailedError(
            GraspFailure.INVALID,
            f"the grasp is for a {target.gripper.value} gripper, the robot has a "
            f"{gripper.value} one",
        )
    width = target.width or 0.0
    if not (math.isfinite(width) and width >= 0.0):
        raise _GraspFailedError(GraspFailure.INVALID, f"grasp width {width} m must be >= 0")
    for name, point in (
        ("grasp", target.pose.position),
        ("pre-grasp", target.pose.position + np.array([0.0, 0.0, config.pre_grasp_height])),
        ("lift", target.pose.position + np.array([0.0, 0.0, config.lift])),
    ):
        if not config.workspace.contains(point):
            raise _GraspFailedError(
                GraspFailure.OUTSIDE_WORKSPACE,
                f"{name} point {np.round(point, 3).tolist()} is outside the workspace box "
                f"{list(config.workspace.lower)} .. {list(config.workspace.upper)}",
            )


def _run(
    motion: Motion,
    target: GraspTarget,
    config: GraspConfig,
    enter: StageCallback,
    cancelled: CancelCheck | None,
) -> None:
    suction = motion.gripper_kind is GripperKind.SUCTION
    grasp = target.pose
    enter(Stage.OPEN)
    motion.open_gripper()
    wait(motion, 0.2, cancelled)
    enter(Stage.PRE_GRASP)
    move_linear(motion, grasp.translated([0, 0, config.pre_grasp_height]), config.move, cancelled)
    if suction:
        motion.close_gripper(0.0, 0.0)  # vacuum on: it seals at contact
    enter(Stage.APPROACH)
    approach = replace(config.move, settle=config.approach_settle)
    move_linear(motion, grasp, approach, cancelled)
    enter(Stage.CLOSE)
    if not suction:
        # the expected width, within what the hand opens to (franka_gripper rejects more)
        motion.close_gripper(min(target.width or 0.0, config.max_width), config.grasp_force)
    wait(motion, 0.2 if suction else 0.6, cancelled)
    # The fingers may still be closing: the lift starts anyway, and the first check comes
    # once the object should be off the table.
    enter(Stage.LIFT)
    lift = replace(config.move, check=False)
    move_linear(motion, grasp.translated([0, 0, config.lift]), lift, cancelled)
    held = motion.gripper_status()
    if not held.grasped:
        failure = GraspFailure.NO_CONTACT if suction else GraspFailure.NOT_GRASPED
        what = "no part at the suction cup" if suction else "the fingers hold nothing"
        raise _GraspFailedError(failure, f"{what} after the lift")
    enter(Stage.HOLD)
    _hold(motion, config, held.width, cancelled)
    if config.release:
        enter(Stage.RELEASE)
        motion.open_gripper()
        wait(motion, 0.5, cancelled)
        enter(Stage.RETREAT)
        up = motion.target_pose().translated([0, 0, config.pre_grasp_height])
        move_linear(motion, up, lift, cancelled)


def _hold(
    motion: Motion, config: GraspConfig, width: float, cancelled: CancelCheck | None
) -> None:
    """Hold for ``config.hold``; fingers closing further (a parallel grip) mean a slip."""
    chunk = 0.1
    for _ in range(max(1, round(config.hold / chunk))):
        wait(motion, min(chunk, config.hold) if config.hold > 0 else 0.0, cancelled)
        status = motion.gripper_status()
        if not status.grasped:
            raise _GraspFailedError(GraspFailure.DROPPED, "the object was lost while holding it")
        if (
            motion.gripper_kind is GripperKind.PARALLEL
            and width - status.width > config.slip_width
        ):
            raise _GraspFailedError(
                GraspFailure.SLIPPED,
                f"the fingers closed from {width * 1000:.1f} to {status.width * 1000:.1f} mm "
                "while holding: the object slid in the grasp",
            )


def _nearest_turn(motion: Motion, target: GraspTarget) -> GraspTarget:
    """A parallel grasp turned by pi about its approach axis if that turns the wrist less."""
    if target.gripper is GripperKind.SUCTION:
        return target
    rotation = nearest_symmetric(target.pose.rotation, motion.tcp_pose().rotation)
    return GraspTarget(Pose(target.pose.position, rotation), target.width, target.gripper)
