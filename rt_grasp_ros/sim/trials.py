"""Grasp trials: pre-grasp, approach, close (or suction on), lift, hold; success if still held."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import Enum

import numpy as np
from tqdm import tqdm

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.grasp.target import GripperKind, ImageGrasp
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import image_grasp_to_target
from rt_grasp_ros.sim.grasps import ground_truth_grasps, suction_targets
from rt_grasp_ros.sim.objects import CATEGORIES, SUCTION_CATEGORIES
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, SceneSpec, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.grasp import GraspConfig, GraspFailure, GraspOutcome, execute_grasp


class GraspSource(str, Enum):
    """Where a trial's grasp comes from."""

    ORACLE = "oracle"
    RANDOM = "random"
    MODEL = "model"


@dataclass(frozen=True)
class TrialConfig:
    """How trials are run.

    Attributes:
        gripper: ``parallel`` or ``suction``.
        source: ``oracle`` (ground truth), ``random`` (uniform over the workspace crop) or
            ``model`` (a grasp model on the workspace crop; its chooser is passed to
            :func:`run_trials`).
        categories: object categories to draw from (default: every category the gripper can
            pick: all for the parallel gripper, those with suction points for suction).
        grasp_force: squeeze force of the Franka Hand (N).
        lift: how high the object is lifted (m); success needs at least half of it.
        hold: how long it is held after lifting (s).
    """

    gripper: GripperKind = GripperKind.PARALLEL
    source: GraspSource = GraspSource.ORACLE
    categories: tuple[str, ...] | None = None
    grasp_force: float = 40.0
    lift: float = 0.10
    hold: float = 1.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "gripper", GripperKind(self.gripper))
            object.__setattr__(self, "source", GraspSource(self.source))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if self.categories is None:
            cats = SUCTION_CATEGORIES if self.gripper is GripperKind.SUCTION else tuple(CATEGORIES)
            object.__setattr__(self, "categories", cats)
        self.grasp_config()  # validates lift, hold and force

    def grasp_config(self) -> GraspConfig:
        """The grasp skill's parameters."""
        return GraspConfig(lift=self.lift, hold=self.hold, grasp_force=self.grasp_force)


class Failure(str, Enum):
    """Why a trial failed, in kinds that can be counted."""

    INVALID_GRASP = "invalid grasp (outside the image or no depth)"
    OUTSIDE_WORKSPACE = "outside the workspace"
    UNREACHABLE = "unreachable"
    COLLISION = "would collide"
    NOT_PICKED = "object not picked up"
    DROPPED = "dropped during the hold"
    LOW_LIFT = "held but not lifted"


@dataclass
class TrialResult:
    """The outcome of one trial: ``failure`` is its kind, ``reason`` the details.

    Model trials also keep the model's ``answer`` and the object category its reasoning
    ``named`` (None if it named none).
    """

    seed: int
    gripper: str
    source: str
    category: str
    success: bool
    reason: str
    lift: float
    failure: str | None = None
    grasp: dict[str, float] = field(default_factory=dict)
    sim_time: float = 0.0
    wall_time: float = 0.0
    answer: str = ""
    named: str | None = None


def execute_image_grasp(
    robot: SimRobot, frame: RGBDFrame, grasp: ImageGrasp, config: TrialConfig
) -> GraspOutcome:
    """Place an image-space grasp in 3D with the pixel's depth and run the grasp skill.

    Raises:
        PlanningError: the pixel is outside the image or has no depth.
    """
    target = image_grasp_to_target(frame, grasp, config.gripper)
    return execute_grasp(robot, target, config.grasp_config())


def choose_grasp(
    world: World, frame: RGBDFrame, config: TrialConfig, rng: np.random.Generator
) -> ImageGrasp:
    """A ground-truth grasp of the target object, or a uniformly random one in the crop."""
    if config.source is GraspSource.MODEL:
        raise ConfigError("model grasps need the model's chooser (see pipeline.trials)")
    if config.source is GraspSource.RANDOM:
        x0, y0 = world.workspace_crop(frame).origin
        size = world.spec.config.camera.crop
        return ImageGrasp(
            x0 + rng.uniform(0, size),
            y0 + rng.uniform(0, size),
            rng.uniform(-math.pi / 2, math.pi / 2),
        )
    if config.gripper is GripperKind.SUCTION:
        targets = suction_targets(world, frame)
        if not targets:
            raise RtGraspError("the object has no visible suction point")
        u, v = targets[int(rng.integers(len(targets)))].pixel
        return ImageGrasp(u, v)
    grasps = ground_truth_grasps(world, frame)
    if not grasps:
        raise RtGraspError("the object has no visible ground-truth grasp")
    rect = grasps[int(rng.integers(len(grasps)))].rectangle
    cx, cy = rect.center
    return ImageGrasp(cx, cy, rect.theta, rect.width)


Chooser = Callable[[World, RGBDFrame, np.random.Generator], ImageGrasp]


def run_trial(seed: int, config: TrialConfig, chooser: Chooser | None = None) -> TrialResult:
    """One seeded trial on a one-object scene; deterministic for a seed."""
    spec = generate_scene(
        seed, SceneConfig(n_objects=1, categories=config.categories, gripper=config.gripper)
    )
    return run_scene_trial(spec, config, chooser)


def run_scene_trial(
    spec: SceneSpec, config: TrialConfig, chooser: Chooser | None = None
) -> TrialResult:
    """A trial on ``spec`` (its first object is the target); ``chooser`` picks the grasp.

    The default chooser follows ``config.source`` (ground truth or random); a model-driven
    chooser is how the grasp model is tried on the robot.
    """
    start = time.perf_counter()
    category = spec.objects[0].spec.category
    with World(spec) as world:
        robot = SimRobot(world)
        robot.wait(0.3)  # let the object settle
        z0 = world.object_com("obj0")[2]
        frame = world.render()
        rng = np.random.default_rng([spec.seed, 1])
        grasp_info: dict[str, float] = {}
        try:
            grasp = (chooser or (lambda w, f, r: choose_grasp(w, f, config, r)))(world, frame, rng)
            grasp_info = {k: round(float(v), 4) for k, v in asdict(grasp).items()}
            outcome = execute_image_grasp(robot, frame, grasp, config)
            failure, reason, lift = _outcome(world, robot, z0, config, outcome)
        except RtGraspError as exc:  # no grasp to try: the chooser or planning gave none
            failure = Failure.INVALID_GRASP
            reason, lift = str(exc), world.object_com("obj0")[2] - z0
        return TrialResult(
            spec.seed,
            config.gripper.value,
            config.source.value,
            category,
            failure is None,
            reason,
            float(lift),
            failure.value if failure else None,
            grasp_info,
            world.time,
            time.perf_counter() - start,
        )


_SKILL_FAILURES = {
    GraspFailure.OUTSIDE_WORKSPACE: Failure.OUTSIDE_WORKSPACE,
    GraspFailure.UNREACHABLE: Failure.UNREACHABLE,
    GraspFailure.COLLISION: Failure.COLLISION,
    GraspFailure.INVALID: Failure.INVALID_GRASP,
}


def _outcome(
    world: World, robot: SimRobot, z0: float, config: TrialConfig, outcome: GraspOutcome
) -> tuple[Failure | None, str, float]:
    """The ground truth's verdict: did the object rise and stay in the gripper."""
    lift = world.object_com("obj0")[2] - z0
    if outcome.failure in _SKILL_FAILURES:
        return _SKILL_FAILURES[outcome.failure], outcome.message, lift
    held = robot.gripper_state().holding
    if held != "obj0":
        if lift > 0.01:
            return Failure.DROPPED, f"not held after the hold ({100 * lift:.1f} cm up)", lift
        return Failure.NOT_PICKED, "the object stayed on the table", lift
    if lift < config.lift / 2:
        return Failure.LOW_LIFT, f"held but lifted only {100 * lift:.1f} cm", lift
    return None, "lifted and held", lift


@dataclass(frozen=True)
class TrialSummary:
    """Success rate over a set of trials, overall and per category."""

    config: TrialConfig
    results: list[TrialResult]

    @property
    def successes(self) -> int:
        """Successful trials."""
        return sum(r.success for r in self.results)

    @property
    def success_rate(self) -> float:
        """Successes / trials."""
        return self.successes / len(self.results) if self.results else 0.0

    def per_category(self) -> dict[str, tuple[int, int]]:
        """Category -> (successes, trials)."""
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.results:
            table[r.category][0] += r.success
            table[r.category][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def to_json(self, with_trials: bool = False) -> dict[str, object]:
        """JSON-ready summary."""
        out: dict[str, object] = {
            "gripper": self.config.gripper.value,
            "source": self.config.source.value,
            "success_rate": self.success_rate,
            "trials": len(self.results),
            "successes": self.successes,
            "per_category": {
                k: {"successes": s, "trials": n} for k, (s, n) in self.per_category().items()
            },
            "mean_wall_time_s": float(np.mean([r.wall_time for r in self.results]))
            if self.results
            else 0.0,
            "failures": dict(
                sorted(Counter(r.failure for r in self.results if r.failure).items())
            ),
        }
        named = [r for r in self.results if r.answer]
        if self.config.source is GraspSource.MODEL:
            out["object_named"] = sum(r.named == r.category for r in self.results)
            out["object_named_rate"] = out["object_named"] / len(self.results)
            out["answered"] = len(named)
        if with_trials:
            out["results"] = [asdict(r) for r in self.results]
        return out


def run_trials(
    n: int,
    config: TrialConfig,
    seed: int = 0,
    progress: bool = True,
    trial: Callable[[int, TrialConfig], TrialResult] = run_trial,
) -> TrialSummary:
    """Run ``n`` trials with seeds ``seed .. seed + n - 1``.

    ``trial`` runs one seed (default :func:`run_trial`; model trials pass their own).
    """
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    results = []
    bar = tqdm(
        range(seed, seed + n),
        desc=f"{config.gripper.value}/{config.source.value}",
        disable=not progress,
    )
    for s in bar:
        results.append(trial(s, config))
        bar.set_postfix(success=f"{sum(r.success for r in results)}/{len(results)}")
    return TrialSummary(config, results)
