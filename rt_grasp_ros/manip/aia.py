"""ManipLLM's active impedance adaptation policy (Sec. 3.2) and its straight-pull baseline.

After the suction cup holds the part, the policy pulls in small steps. Before each step it
tries the current direction ``d`` and ``N`` perturbed ones ``d + zeta`` (``|zeta| < eps1``):
it pushes with a force of ``eps2`` along each through the impedance controller and measures how
far the tool moves; the direction that moved it most is the next step's. It stops at a target
distance, at a step limit, when the part stops giving way, when the force on the tool during a
step passes a limit (the part at its end, or an arm that cannot follow: the part stays held),
or when the cup loses the part.

The :class:`~rt_grasp_ros.skills.motion.Motion` protocol has no "apply a force" call. Under a
Cartesian impedance controller of stiffness ``K`` a force ``f`` along ``d`` is the same as
moving the target by ``f / K`` along ``d``: the controller pushes with ``K x offset`` until the
tool gives way. The probes do exactly that, so the policy runs over the same protocol as the
grasp skill, on the simulator and on a Franka. ``AIAConfig.stiffness`` must be the
controller's translational stiffness.

The paper calls ``d`` the forward direction; it is the direction of motion (ManipLLM's pull
moves the gripper along ``-up``, so the first ``d`` is ``-up``). With ``align_tool`` the cup
turns with ``d`` (its axis along ``-d``), as the chosen direction "determines the current
end-effector's pose": a door's surface turns as it swings, and the cup stays square to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.skills.motion import (
    CancelCheck,
    CancelledError,
    LinearMove,
    Motion,
    hold_here,
    move_linear,
    wait,
)
from rt_grasp_ros.transforms import Pose

STOP_DISTANCE = "distance"
STOP_STEPS = "step limit"
STOP_LOST = "lost contact"
STOP_STALLED = "stalled"
STOP_FORCE = "force limit"
STOPS = (STOP_DISTANCE, STOP_STEPS, STOP_LOST, STOP_STALLED, STOP_FORCE)


@dataclass(frozen=True)
class AIAConfig:
    """Parameters of the active impedance adaptation policy.

    Attributes:
        n_perturbations: N, perturbed directions tried besides the current one.
        epsilon1: bound on a perturbation's norm, ``|zeta| < epsilon1``.
        epsilon2: the probing force (N).
        stiffness: the impedance controller's translational stiffness (N/m); a force f is
            applied by offsetting the target by f / stiffness.
        probe_time: how long each probe pushes (s).
        settle: how long the tool returns after a probe (s).
        rest_time: the longest the tool is left to come to rest before the probes (s).
        step_length: how far each step moves the target (m).
        target_distance: stop once the tool has travelled this far (m).
        max_steps: stop after this many steps.
        min_motion: stop when the best probe moved the tool less than this (m): the part
            no longer gives way (e.g. fully open).
        align_tool: turn the cup with the chosen direction.
        step_speed: speed of a step (m/s).
        turn_speed: how fast a step turns the tool (rad/s).
        step_settle: how long the tool may settle after a step (s); a fast turn or an early
            hold would jolt the seal.
        max_force: a step stops (and a probe ends) when the external force on the tool
            exceeds this (N); keep it below what the suction cup holds.
        force_filter: time constant of the low-pass filter on that force (s).
    """

    n_perturbations: int = 6
    epsilon1: float = 0.5
    epsilon2: float = 12.0
    stiffness: float = 1200.0
    probe_time: float = 0.12
    settle: float = 0.12
    rest_time: float = 0.4
    step_length: float = 0.015
    target_distance: float = 0.12
    max_steps: int = 12
    min_motion: float = 0.0004
    align_tool: bool = True
    step_speed: float = 0.05
    turn_speed: float = 0.5
    step_settle: float = 0.3
    max_force: float = 20.0
    force_filter: float = 0.05

    def __post_init__(self) -> None:
        positive = (
            "epsilon1",
            "epsilon2",
            "stiffness",
            "probe_time",
            "step_length",
            "target_distance",
            "step_speed",
            "turn_speed",
            "max_force",
            "force_filter",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(f"AIAConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("n_perturbations", "max_steps"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"AIAConfig.{name} must be an integer >= 1")
        if self.epsilon1 >= 1:
            raise ConfigError(
                f"AIAConfig.epsilon1 must be < 1 (a perturbation must not reverse the direction), "
                f"got {self.epsilon1}"
            )
        for name in ("settle", "rest_time", "min_motion", "step_settle"):
            if getattr(self, name) < 0:
                raise ConfigError(f"AIAConfig.{name} must be >= 0, got {getattr(self, name)}")

    def step_move(self) -> LinearMove:
        """The straight-line motion of one step."""
        return LinearMove(
            linear_speed=self.step_speed,
            angular_speed=self.turn_speed,
            min_duration=0.1,
            settle=self.step_settle,
            check=False,
        )

    @property
    def probe_offset(self) -> float:
        """Target offset that applies the probing force (m)."""
        return self.epsilon2 / self.stiffness

    @property
    def max_hold(self) -> float:
        """Largest offset kept between probes to carry the part's load (m).

        A probe on top of it stays under ``max_force``.
        """
        return max(0.0, self.max_force - self.epsilon2) / self.stiffness


@dataclass
class PullResult:
    """How a pull went: tool travel, steps, why it stopped, the directions taken (base)."""

    distance: float = 0.0
    steps: int = 0
    stop: str = STOP_STEPS
    directions: list[np.ndarray] = field(default_factory=list)


StepCallback = Callable[[PullResult], None]


def perturbations(
    direction: np.ndarray, n: int, epsilon1: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """``direction`` and ``n`` unit directions ``d + zeta``, ``|zeta| < epsilon1`` (uniform)."""
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    out = [d]
    for _ in range(n):
        zeta = rng.normal(size=3)
        zeta *= epsilon1 * rng.random() ** (1 / 3) / np.linalg.norm(zeta)
        v = d + zeta
        out.append(v / np.linalg.norm(v))
    return out


def probe(
    motion: Motion, hold: Pose, rest: np.ndarray, direction: np.ndarray, config: AIAConfig
) -> np.ndarray:
    """Push along ``direction`` with ``epsilon2``; the tool's displacement from ``rest`` (m).

    ``hold`` is the controller's equilibrium and ``rest`` where the tool came to rest at it:
    every probe is measured from that one state. The push offsets the equilibrium by
    ``epsilon2 / stiffness`` for ``probe_time``; then it returns to ``hold`` for ``settle``.
    """
    motion.set_target(hold.translated(config.probe_offset * direction))
    guard = ForceGuard(motion, config)
    for _ in range(max(1, round(config.probe_time / motion.control_period))):
        if guard.tripped():
            break  # a blocked direction: it has shown what it moves
        motion.wait(motion.control_period)
    moved = motion.tcp_pose().position - rest
    motion.set_target(hold)
    wait(motion, config.settle)
    return moved


def wait_still(motion: Motion, timeout: float, speed: float = 0.004, period: float = 0.05) -> None:
    """Wait until the tool moves slower than ``speed`` (m/s), at most ``timeout`` (s)."""
    waited = 0.0
    while waited < timeout:
        before = motion.tcp_pose().position
        wait(motion, period)
        waited += period
        if np.linalg.norm(motion.tcp_pose().position - before) < speed * period:
            return


def active_impedance_adaptation(
    motion: Motion,
    direction: np.ndarray,
    config: AIAConfig | None = None,
    rng: np.random.Generator | None = None,
    cancelled: CancelCheck | None = None,
    on_step: StepCallback | None = None,
) -> PullResult:
    """Pull the held part from ``direction`` (base frame), adapting it at every step.

    ``on_step(result)`` is called after each step (its direction is ``result.directions[-1]``).

    Raises:
        CancelledError: ``cancelled()`` became true.
    """
    config = config or AIAConfig()
    rng = rng or np.random.default_rng(0)
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    result = PullResult()
    hold_here(motion)  # start from rest: no press left over from sealing
    while (stop := _stop(motion, result, config)) is None:
        start = motion.tcp_pose().position
        hold = _recentre(motion, d, config.max_hold)
        wait_still(motion, config.rest_time)
        rest = motion.tcp_pose().position
        candidates = perturbations(d, config.n_perturbations, config.epsilon1, rng)
        # A first push after a step meets the joint's friction already sliding the opening
        # way; the later ones, after a return, must turn it round. One uncounted push evens it.
        probe(motion, hold, rest, d, config)
        moves = [float(np.linalg.norm(probe(motion, hold, rest, c, config))) for c in candidates]
        best = int(np.argmax(moves))
        if moves[best] < config.min_motion:
            result.stop = STOP_STALLED
            return result
        d = candidates[best]
        result.directions.append(d)
        done = _step(motion, hold, d, config, cancelled)
        result.steps += 1
        result.distance += float(np.linalg.norm(motion.tcp_pose().position - start))
        if on_step is not None:
            on_step(result)
        if not done:
            result.stop = STOP_FORCE
            return result
    result.stop = stop
    return result


def _recentre(motion: Motion, d: np.ndarray, max_hold: float) -> Pose:
    """The equilibrium moved onto the tool, except for its offset along the pull ``d``.

    That offset (at most ``max_hold``) carries the part's load along the motion (a lid's
    weight); offsets across it only press the held part against its joint, so they are dropped.
    """
    target, tool = motion.target_pose(), motion.tcp_pose().position
    along = float(np.clip((target.position - tool) @ d, 0.0, max_hold))
    hold = Pose(tool + along * d, target.rotation)
    motion.set_target(hold)
    return hold


def _stop(motion: Motion, result: PullResult, config: AIAConfig) -> str | None:
    if not motion.gripper_status().grasped:
        return STOP_LOST
    if result.distance >= config.target_distance:
        return STOP_DISTANCE
    if result.steps >= config.max_steps:
        return STOP_STEPS
    return None


def _step(
    motion: Motion, hold: Pose, d: np.ndarray, config: AIAConfig, cancelled: CancelCheck | None
) -> bool:
    """Move the equilibrium ``step_length`` along ``d`` (the cup turned to ``-d``)."""
    rotation = hold.rotation
    if config.align_tool:
        up = hold.rotation.as_matrix()[:, 2]
        turn, _ = Rotation.align_vectors([-d], [up])
        rotation = turn * hold.rotation
    goal = Pose(hold.position + config.step_length * d, rotation)
    return guarded_move(motion, goal, config, cancelled)


def guarded_move(
    motion: Motion, goal: Pose, config: AIAConfig, cancelled: CancelCheck | None = None
) -> bool:
    """One step's straight-line motion; False if it stopped at ``max_force`` (TCP held there).

    The part at the end of its travel, or an arm that cannot follow, makes the force on the
    tool grow; stopping then keeps the part held instead of tearing the cup off.

    Raises:
        CancelledError: ``cancelled()`` became true.
    """
    guard = ForceGuard(motion, config)

    def stop() -> bool:
        return (cancelled is not None and cancelled()) or guard.tripped()

    try:
        move_linear(motion, goal, config.step_move(), stop)
    except CancelledError:
        if not guard.over:
            raise
        return False
    return True


class ForceGuard:
    """Whether the external force on the tool, low-pass filtered, exceeds ``max_force``.

    The filter runs on the robot's clock: each update weighs the new force by the time passed
    since the last one (``dt / force_filter``), so a caller that checks more often than once a
    control period (a ROS client polling in wall-clock steps while the sim runs slower than
    real time) filters as much as one that checks once a period, not less.
    """

    def __init__(self, motion: Motion, config: AIAConfig) -> None:
        self.motion, self.limit, self.tau = motion, config.max_force, config.force_filter
        self.force, self.over = 0.0, False
        self._last: float | None = None

    def tripped(self) -> bool:
        """Update the filtered force with the time passed; whether it is over."""
        now = self.motion.now()
        dt = self.motion.control_period if self._last is None else now - self._last
        if dt > 0:
            self._last = now
            alpha = min(1.0, dt / self.tau)
            force = float(np.linalg.norm(self.motion.wrench()[:3]))
            self.force += alpha * (force - self.force)
            self.over = self.force > self.limit
        return self.over


def straight_pull(
    motion: Motion,
    direction: np.ndarray,
    config: AIAConfig | None = None,
    cancelled: CancelCheck | None = None,
    on_step: StepCallback | None = None,
) -> PullResult:
    """The "w/o AIA" baseline: pull straight along ``direction``, the tool not turning.

    In steps of ``step_length`` to ``target_distance``, until contact is lost or a step meets
    ``max_force`` (the same guard as the policy's); ``on_step(result)`` after each step.
    """
    config = config or AIAConfig()
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    hold_here(motion)
    start = motion.tcp_pose()
    result = PullResult(directions=[d])
    n = int(np.ceil(config.target_distance / config.step_length - 1e-9))
    for k in range(1, n + 1):
        if not motion.gripper_status().grasped:
            result.stop = STOP_LOST
            break
        along = min(k * config.step_length, config.target_distance)
        result.steps = k
        moved = guarded_move(motion, start.translated(along * d), config, cancelled)
        result.distance = float(np.linalg.norm(motion.tcp_pose().position - start.position))
        if on_step is not None:
            on_step(result)
        if not moved:
            result.stop = STOP_FORCE
            break
    else:
        result.stop = STOP_DISTANCE if motion.gripper_status().grasped else STOP_LOST
    result.distance = float(np.linalg.norm(motion.tcp_pose().position - start.position))
    return result
