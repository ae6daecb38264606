"""Execute a contact pose on the simulated Panda: start, seal, pull; measure the part's motion.

The sequence follows ManipLLM's: the gripper starts a few centimetres back from the contact
along its up direction, moves onto the surface with the vacuum on, and pulls along ``-up``,
straight or with active impedance adaptation. Success is judged on the part's joint: it moved
more than ``delta`` (0.01 for initial movement, 0.1 for long distance, in metres or radians).

The start is reached with :meth:`SimRobot.place_at` (ManipLLM's flying gripper is set there
too). A suction cup is symmetric about its axis, so when the predicted forward direction puts
the arm out of reach the cup is turned about its axis to the nearest reachable roll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.aia import (
    AIAConfig,
    PullResult,
    active_impedance_adaptation,
    straight_pull,
)
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim.ik import check_reachable, solve_ik
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.motion import (
    CancelledError,
    CollisionError,
    LinearMove,
    UnreachableError,
    move_linear,
)
from rt_grasp_ros.transforms import Pose

INITIAL_DELTA = 0.01
LONG_DELTA = 0.1
ROLLS_DEG = (0, 90, -90, 180, 45, -45, 135, -135)
GOOD_MARGIN = 0.5  # rad from every joint limit: a start the pull can move on from

OFF_PART = "off the movable part"
INVALID = "invalid pose"
UNREACHABLE = "unreachable"
COLLISION = "would collide"
NO_SEAL = "no seal"


@dataclass(frozen=True)
class PullConfig:
    """How a contact pose is executed.

    Attributes:
        adaptive: pull with active impedance adaptation (else straight, "w/o AIA").
        aia: the policy's parameters (its step length and target distance also bound the
            straight pull).
        pre_contact: start this far back from the contact along the normal (m).
        press: aim this far past the contact point when sealing (m).
        reach: how much farther the approach may go to find the surface (m).
    """

    adaptive: bool = True
    aia: AIAConfig = field(default_factory=AIAConfig)
    pre_contact: float = 0.05
    press: float = 0.004
    reach: float = 0.015

    def __post_init__(self) -> None:
        if not self.pre_contact > 0:
            raise ConfigError(f"PullConfig.pre_contact must be > 0, got {self.pre_contact}")
        for name in ("press", "reach"):
            if not 0 <= getattr(self, name) < 0.05:
                raise ConfigError(
                    f"PullConfig.{name} must be in [0, 0.05), got {getattr(self, name)}"
                )


@dataclass
class ContactOutcome:
    """What executing a contact pose did.

    Attributes:
        delta: the part's joint displacement when the interaction ended (m or rad): at the
            end of the pull, or where the seal let go if it did.
        failure: why nothing was pulled (None when the pull ran).
        detail: the failure's or the pull's details.
        pull: the pull's record, if it ran.
    """

    delta: float = 0.0
    failure: str | None = None
    detail: str = ""
    pull: PullResult | None = None

    @property
    def initial(self) -> bool:
        """Initial movement: the part moved more than 0.01."""
        return self.delta > INITIAL_DELTA

    @property
    def long(self) -> bool:
        """Long distance: the part moved more than 0.1."""
        return self.delta > LONG_DELTA


def on_movable_part(world: World, frame: RGBDFrame, x: float, y: float) -> bool:
    """Whether pixel ``(x, y)`` (column, row) sees the articulated object's moving part."""
    h, w = frame.depth.shape
    if frame.segmentation is None or not (0 <= x < w and 0 <= y < h):
        return False
    geom = int(frame.segmentation[int(y), int(x)])
    return geom >= 0 and world.body_of_geom(geom) == world.part_body


def execute_contact(
    world: World,
    robot: SimRobot,
    frame: RGBDFrame,
    contact: ContactPose,
    config: PullConfig | None = None,
    rng: np.random.Generator | None = None,
) -> ContactOutcome:
    """Start at ``contact``, seal, pull; the part's displacement (never raises on a bad pose)."""
    config = config or PullConfig()
    q0 = world.part_position()
    try:
        pose = contact.tcp_pose(frame)
    except RtGraspError as exc:
        return ContactOutcome(failure=INVALID, detail=str(exc))
    up = contact.up_base(frame.camera)
    try:
        pose = _start(robot, pose, up, config.pre_contact, config.aia.target_distance)
    except CollisionError as exc:
        return ContactOutcome(failure=COLLISION, detail=str(exc))
    except UnreachableError as exc:
        return ContactOutcome(failure=UNREACHABLE, detail=str(exc))
    robot.close_gripper()
    _approach(robot, pose, up, config)
    if not robot.gripper_status().grasped:
        why = robot.gripper.rejected or "the cup did not reach a surface"
        return ContactOutcome(world.part_position() - q0, NO_SEAL, why)
    if config.adaptive:
        pull = active_impedance_adaptation(robot, -up, config.aia, rng)
    else:
        pull = straight_pull(robot, -up, config.aia)
    detail = f"pulled {100 * pull.distance:.1f} cm in {pull.steps} steps, stop: {pull.stop}"
    delta = world.part_position() - q0
    if robot.gripper.lost:
        # The interaction ends where the seal let go: a lid or a flap then falls shut under
        # its own weight, which the paper's suction (it never lets go) does not model.
        held = world.part_position(robot.gripper.lost_qpos) - q0
        detail += f" ({robot.gripper.lost} at {held:+.3f}; {delta:+.3f} after release)"
        delta = held
    return ContactOutcome(delta, None, detail, pull)


def _approach(robot: SimRobot, pose: Pose, up: np.ndarray, config: PullConfig) -> None:
    """Move along ``up`` onto the surface, vacuum on, until the cup seals (a guarded move).

    The move aims ``press`` past the contact point, and as far again when the point is off
    (a pixel at an edge); it stops as soon as the vacuum reports a part.
    """
    approach = LinearMove(linear_speed=0.05, settle=0.3, check=False)
    sealed = lambda: robot.gripper_status().grasped  # noqa: E731
    try:
        move_linear(robot, pose.translated((config.press + config.reach) * up), approach, sealed)
    except CancelledError:
        robot.wait(0.1)  # the seal settles with the tool held where it sealed


def _start(robot: SimRobot, pose: Pose, up: np.ndarray, pre_contact: float, pull: float) -> Pose:
    """Place the tool ``pre_contact`` back from ``pose``; the contact pose actually used.

    Of the cup's rolls about its axis that the arm reaches, the one that keeps the joints
    farthest from their limits, at the start and after a straight pull of ``pull``. A
    free-flying cup reaches every roll: it starts as the contact pose says.
    """
    if robot.free_flying:
        robot.place_at(pose.translated(-pre_contact * up))
        robot.wait(0.1)
        return pose
    best: tuple[float, Pose, np.ndarray] | None = None
    first: UnreachableError | None = None
    for roll in ROLLS_DEG:
        turned = Pose(pose.position, Rotation.from_rotvec(math.radians(roll) * up) * pose.rotation)
        start, end = turned.translated(-pre_contact * up), turned.translated(-pull * up)
        try:
            ik = check_reachable(
                robot.world, start.position, start.rotation_matrix, min_margin=0.5
            )
            margin = min(ik.margin, _end_margin(robot, end, ik.q))
        except UnreachableError as exc:
            first = first or exc
            continue
        if best is None or margin > best[0]:
            best = (margin, turned, ik.q)
        if margin >= GOOD_MARGIN:
            break
    if best is None:
        raise first
    _, turned, q = best
    robot.place_at(turned.translated(-pre_contact * up), q)
    robot.wait(0.1)
    return turned


def _end_margin(robot: SimRobot, end: Pose, q0: np.ndarray) -> float:
    ik = solve_ik(robot.world, end.position, end.rotation_matrix, q0)
    return ik.margin if ik.converged else -1.0
