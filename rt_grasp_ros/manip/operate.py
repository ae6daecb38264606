"""Operate an articulated part from a contact pose over the Motion protocol: approach, seal, pull.

:func:`~rt_grasp_ros.manip.trial.execute_contact` runs ManipLLM's sequence on the in-process
SimRobot, whose arm is *placed* at the start (the paper's flying gripper). A robot behind the
:class:`~rt_grasp_ros.skills.motion.Motion` protocol (the ROS stack, a Franka) has to move
there, so here the tool goes through a via point ``clearance`` behind the start, to the start
``pre_contact`` behind the contact along ``-up``, then, vacuum on, onto the surface along
``up`` until the cup seals (the same guarded approach as the trial's), and pulls with active
impedance adaptation (or straight). The suction cup is symmetric about its axis, so it is
turned about ``up`` to the roll nearest the tool's present one (the least wrist turn).

On cancel (:meth:`ContactOperation.abandon`) the vacuum is released and the tool backs off
along ``-up``. Failures are the words of ``ImpedanceAdaptation.action``; :func:`trial_label`
says which outcomes are trials that test-time adaptation learns from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.aia import (
    STOP_DISTANCE,
    STOP_FORCE,
    STOP_LOST,
    STOP_STALLED,
    STOP_STEPS,
    PullResult,
    active_impedance_adaptation,
    straight_pull,
)
from rt_grasp_ros.manip.trial import INITIAL_DELTA, PullConfig
from rt_grasp_ros.skills.grasp import Workspace
from rt_grasp_ros.skills.motion import (
    CancelledError,
    GripperError,
    LinearMove,
    Motion,
    RobotTimeoutError,
    UnreachableError,
    linear_path,
    move_linear,
    stream,
    wait,
)
from rt_grasp_ros.transforms import Pose

NO_SEAL = "no_seal"
LOST_CONTACT = "lost_contact"
STEP_LIMIT = "step_limit"
STALLED = "stalled"
FORCE_LIMIT = "force_limit"
UNREACHABLE = "unreachable"
CANCELLED = "cancelled"
TIMEOUT = "timeout"
GRIPPER_ERROR = "gripper_error"
FAILURES = (
    NO_SEAL,
    LOST_CONTACT,
    STEP_LIMIT,
    STALLED,
    FORCE_LIMIT,
    UNREACHABLE,
    CANCELLED,
    TIMEOUT,
    GRIPPER_ERROR,
)
# The outcomes of a goal that operated on the part (the cup reached it, or pulled it): trials
# whose result is a label for test-time adaptation. The others (cancelled, timeout, unreachable,
# gripper_error) say nothing about the contact.
TRIAL_FAILURES = (NO_SEAL, LOST_CONTACT, STEP_LIMIT, STALLED, FORCE_LIMIT)
_PULL_FAILURE = {
    STOP_DISTANCE: "",
    STOP_STEPS: STEP_LIMIT,
    STOP_LOST: LOST_CONTACT,
    STOP_STALLED: STALLED,
    STOP_FORCE: FORCE_LIMIT,
}

APPROACH_SPEED = 0.05  # m/s onto the surface, as the trial's approach
RELEASE_TIME = 1.0  # s the vacuum may take to report it is off
APPROACH, SEAL, PULL, RELEASE, RETREAT = "approach", "seal", "pull", "release", "retreat"


@dataclass(frozen=True)
class Contact:
    """A contact pose in the base frame: the TCP there (z = ``up``) and ``up`` itself.

    Attributes:
        pose: the TCP at the contact point (its z axis is the cup's axis, into the surface).
        up: the approach direction, unit (ManipLLM's "up"); the pull starts along ``-up``.
    """

    pose: Pose
    up: np.ndarray

    def __post_init__(self) -> None:
        up = np.asarray(self.up, float)
        if up.shape != (3,) or not np.all(np.isfinite(up)) or np.linalg.norm(up) < 1e-9:
            raise RtGraspError(f"Contact.up must be 3 finite numbers, not all zero: {self.up!r}")
        if not np.all(np.isfinite(self.pose.position)):
            raise RtGraspError(f"Contact.pose position must be finite: {self.pose.position}")
        object.__setattr__(self, "up", up / np.linalg.norm(up))


@dataclass(frozen=True)
class OperateConfig:
    """How a contact is operated over Motion.

    Attributes:
        pull: the trial's parameters (pre_contact, press, reach, the AIA config, adaptive).
        clearance: the via point lies this far behind the start along ``-up`` (m).
        approach_speed: speed to the via point and the start (m/s).
        retreat: how far the tool backs off along ``-up`` after a release (m).
        workspace: where a contact may lie (base frame).
    """

    pull: PullConfig = field(default_factory=PullConfig)
    clearance: float = 0.1
    approach_speed: float = 0.15
    retreat: float = 0.05
    workspace: Workspace = field(default_factory=Workspace)

    def __post_init__(self) -> None:
        for name in ("clearance", "retreat"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(
                    f"OperateConfig.{name} must be in [0, 1) m, got {getattr(self, name)}"
                )
        if not self.approach_speed > 0:
            raise ConfigError(
                f"OperateConfig.approach_speed must be > 0, got {self.approach_speed}"
            )


@dataclass
class OperateOutcome:
    """How operating a contact ended (``failure`` '' on success: the target distance held)."""

    success: bool = False
    failure: str = ""
    message: str = ""
    distance: float = 0.0
    steps: int = 0
    pull: PullResult | None = None


Feedback = Callable[[str, PullResult], None]


@dataclass(frozen=True)
class TrialLabel:
    """What a goal's outcome teaches the contact model (ManipLLM's test-time adaptation).

    Attributes:
        trial: whether the outcome is a trial of the model's contact (adapt on it).
        moved: the label: the part moved, the tool's travel above
            :data:`~rt_grasp_ros.manip.trial.INITIAL_DELTA` (the initial-movement success of
            the paper's Table 1).
        reason: why the outcome is no trial ('' when it is one).
    """

    trial: bool
    moved: bool = False
    reason: str = ""


def trial_label(failure: str, distance: float, session_id: str) -> TrialLabel:
    """Whether a goal that ended with ``failure`` ('' = success) after ``distance`` is a trial.

    A trial operated on the part: it succeeded, or failed with one of :data:`TRIAL_FAILURES`;
    it adapts the planner session ``session_id`` that answered the contact (empty: a contact
    no planner answered, such as the oracle's, teaches nothing). ``moved`` is ``distance``
    (m, the tool's travel with the part held) above ``INITIAL_DELTA``.
    """
    if failure and failure not in TRIAL_FAILURES:
        kind = "did not operate on the part" if failure in FAILURES else "is no known failure"
        return TrialLabel(False, reason=f"failure {failure!r} {kind}")
    if not session_id:
        return TrialLabel(False, reason="the contact has no session_id (no planner answered it)")
    return TrialLabel(True, moved=bool(distance > INITIAL_DELTA))


# A goal's limits (ImpedanceAdaptation.action): name -> the largest value it may take.
LIMITS = {
    "target_distance": 1.0,
    "n_perturbations": 32,
    "epsilon1": 1.0,
    "epsilon2": math.inf,
    "step_length": 0.05,
    "max_steps": 200,
}


def with_limits(config: OperateConfig, **limits: float) -> OperateConfig:
    """``config`` with the policy limits of a goal (0 = keep the config's value).

    Raises:
        ConfigError: a limit is not finite, negative, above its bound (:data:`LIMITS`), or
            the AIA config refuses it (e.g. epsilon1 >= 1, epsilon2 above max_force).
    """
    changes = {}
    for name, value in limits.items():
        if name not in LIMITS:
            raise ConfigError(f"unknown limit {name!r}; known: {', '.join(LIMITS)}")
        if not (math.isfinite(value) and 0 <= value <= LIMITS[name]):
            raise ConfigError(
                f"{name} must be in [0, {LIMITS[name]:g}] (0 = default), got {value}"
            )
        if value:
            changes[name] = (
                int(value) if isinstance(getattr(config.pull.aia, name), int) else value
            )
    aia = replace(config.pull.aia, **changes)
    if aia.epsilon2 >= aia.max_force:
        raise ConfigError(
            f"epsilon2 {aia.epsilon2} N must be below the server's max_force {aia.max_force} N"
        )
    return replace(config, pull=replace(config.pull, aia=aia))


def check_contact(contact: Contact, config: OperateConfig) -> str | None:
    """Why ``contact`` cannot be operated (outside the workspace), or None."""
    if not config.workspace.contains(contact.pose.position):
        p = ", ".join(f"{v:.3f}" for v in contact.pose.position)
        return (
            f"the contact ({p}) m is outside the workspace "
            f"{config.workspace.lower}..{config.workspace.upper}"
        )
    return None


def nearest_roll(contact: Contact, rotation: Rotation) -> Pose:
    """The contact's TCP turned about ``up`` so that its x axis is nearest ``rotation``'s."""
    r = contact.pose.rotation.as_matrix()
    x, up = r[:, 0], contact.up
    ref = rotation.as_matrix()[:, 0]
    ref = ref - (ref @ up) * up
    if np.linalg.norm(ref) < 1e-6:
        return contact.pose
    angle = math.atan2(float(np.cross(x, ref) @ up), float(x @ ref))
    return Pose(contact.pose.position, Rotation.from_rotvec(angle * up) * contact.pose.rotation)


class ContactOperation:
    """One contact operated on ``motion``: :meth:`run`, and :meth:`abandon` on a cancel.

    ``feedback(stage, pull)`` is called as each stage begins and after each pull step.
    """

    def __init__(
        self,
        motion: Motion,
        contact: Contact,
        config: OperateConfig | None = None,
        rng: np.random.Generator | None = None,
        feedback: Feedback | None = None,
    ) -> None:
        self.motion, self.contact = motion, contact
        self.config = config or OperateConfig()
        self.rng = rng or np.random.default_rng(0)
        self.feedback = feedback or (lambda stage, pull: None)
        self.progress = PullResult()

    def _stage(self, stage: str) -> None:
        self.feedback(stage, self.progress)

    def run(self, cancelled: Callable[[], bool] | None = None) -> OperateOutcome:
        """Approach, seal and pull; the outcome (robot failures become failure kinds).

        Raises:
            CancelledError: ``cancelled()`` (or the motion's own check) became true; call
                :meth:`abandon`.
        """
        try:
            return self._run(cancelled)
        except CancelledError:
            raise
        except UnreachableError as exc:
            return self._failed(UNREACHABLE, str(exc), release=True)
        except RobotTimeoutError as exc:
            return self._failed(TIMEOUT, str(exc), release=False)
        except GripperError as exc:
            return self._failed(GRIPPER_ERROR, str(exc), release=False)

    def _run(self, cancelled: Callable[[], bool] | None) -> OperateOutcome:
        m, c, pull = self.motion, self.contact, self.config.pull
        pose = nearest_roll(c, m.tcp_pose().rotation)
        fast = LinearMove(linear_speed=self.config.approach_speed, settle=0.5)
        self._stage(APPROACH)
        behind = pull.pre_contact + self.config.clearance
        move_linear(m, pose.translated(-behind * c.up), fast, cancelled)
        move_linear(m, pose.translated(-pull.pre_contact * c.up), fast, cancelled)
        self._stage(SEAL)
        m.close_gripper(0.0, 0.0)
        sealed = self._approach(pose, cancelled)
        if not sealed:
            return self._failed(NO_SEAL, "the cup did not seal on the surface", release=True)
        self._stage(PULL)

        def on_step(result: PullResult) -> None:
            self.progress = result
            self._stage(PULL)

        if pull.adaptive:
            result = active_impedance_adaptation(m, -c.up, pull.aia, self.rng, cancelled, on_step)
        else:
            result = straight_pull(m, -c.up, pull.aia, cancelled, on_step)
        self.progress = result
        failure = _PULL_FAILURE[result.stop]
        message = (
            f"pulled {100 * result.distance:.1f} cm in {result.steps} steps, stop: {result.stop}"
        )
        return OperateOutcome(not failure, failure, message, result.distance, result.steps, result)

    def _approach(self, pose: Pose, cancelled: Callable[[], bool] | None) -> bool:
        """Move along ``up`` onto the surface until the cup seals; whether it did."""
        m, pull, up = self.motion, self.config.pull, self.contact.up
        start, goal = m.target_pose(), pose.translated((pull.press + pull.reach) * up)
        duration = max(0.1, start.distance_to(goal)[0] / APPROACH_SPEED)
        # streamed (not handed over whole), so that it stops the moment the cup seals
        path = linear_path(start, goal, duration, m.control_period)
        try:
            stream(m, path, lambda: m.gripper_status().grasped)
            wait(m, 0.3, lambda: m.gripper_status().grasped)
        except CancelledError:
            if cancelled is not None and cancelled():
                raise
        wait(m, 0.1)  # the seal settles with the tool held where it sealed
        return m.gripper_status().grasped

    def _failed(self, failure: str, message: str, release: bool) -> OperateOutcome:
        if release:
            try:
                self._release()
            except RtGraspError as exc:
                message += f" (and the release failed: {exc})"
        p = self.progress
        return OperateOutcome(False, failure, message, p.distance, p.steps, p)

    def abandon(self) -> OperateOutcome:
        """After a cancel: release the vacuum, back off along ``-up``; the cancelled outcome.

        Call with the motion's cancel check cleared (the release must not be cancelled).
        """
        return self._failed(CANCELLED, "cancelled: the vacuum released, the tool backed off", True)

    def _release(self) -> None:
        m = self.motion
        self._stage(RELEASE)
        m.open_gripper()
        end = m.now() + RELEASE_TIME
        while m.gripper_status().vacuum and m.now() < end:
            m.wait(m.control_period)
        wait(m, 0.1)  # the cup lets go of the surface before the tool moves
        self._stage(RETREAT)
        here = m.tcp_pose()
        back = LinearMove(linear_speed=self.config.approach_speed, settle=0.3, check=False)
        move_linear(m, here.translated(-self.config.retreat * self.contact.up), back)
