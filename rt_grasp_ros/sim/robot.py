"""The simulated Panda: impedance-controlled motions, gripper actions and force probes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.sim.control import CartesianImpedanceController, ImpedanceGains, rotation_error
from rt_grasp_ros.sim.gripper import GripperState, ParallelGripper, SuctionGripper
from rt_grasp_ros.sim.ik import check_reachable
from rt_grasp_ros.sim.tools import FrankaHand

LINEAR_SPEED = 0.25  # m/s along planned motions
ANGULAR_SPEED = 1.2  # rad/s


@dataclass(frozen=True)
class MoveResult:
    """How a motion ended: whether the tool settled at the target, and the residual error."""

    reached: bool
    position_error: float
    rotation_error: float
    duration: float


@dataclass(frozen=True)
class ProbeResult:
    """End-effector displacement (m) caused by a force probe."""

    direction: np.ndarray
    force: float
    displacement: np.ndarray

    @property
    def along(self) -> float:
        """Displacement along the probed direction (m)."""
        return float(self.displacement @ self.direction)


def rodrigues(vec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis-angle vector."""
    angle = float(np.linalg.norm(vec))
    if angle < 1e-12:
        return np.eye(3)
    k = vec / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def top_down_rotation(yaw: float) -> np.ndarray:
    """Tool orientation pointing down with the opening axis at ``yaw`` in the table plane."""
    y = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    z = np.array([0.0, 0.0, -1.0])
    return np.column_stack([np.cross(y, z), y, z])


def min_jerk(s: float) -> float:
    """Minimum-jerk time scaling of ``s`` in [0, 1]."""
    return s**3 * (10 - 15 * s + 6 * s * s)


class SimRobot:
    """A Panda in a :class:`World`, stepped with the impedance controller every physics step."""

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        self.world = world
        self.controller = CartesianImpedanceController(world, gains)
        if isinstance(world.tool, FrankaHand):
            self.gripper: ParallelGripper | SuctionGripper = ParallelGripper(world, world.tool)
        else:
            self.gripper = SuctionGripper(world, world.tool)

    # -- stepping ------------------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps with the controller in the loop."""
        w = self.world
        for _ in range(n):
            w.mj.mj_step1(w.model, w.data)
            # Control between step1 and step2 so that a saved state replays exactly.
            w.data.ctrl[w.arm_actuators] = self.controller.torques()
            self.gripper.apply()
            w.mj.mj_step2(w.model, w.data)

    def run(self, seconds: float) -> None:
        """Advance ``seconds`` of simulated time."""
        self.step(max(1, round(seconds / self.world.model.opt.timestep)))

    # -- motions ---------------------------------------------------------------------------

    def pose_error(self) -> tuple[float, float]:
        """Distance (m) and angle (rad) between the tool and the controller's target."""
        pos, rot = self.world.tcp_pose()
        c = self.controller
        return float(np.linalg.norm(c.target_pos - pos)), float(
            np.linalg.norm(rotation_error(c.target_rot, rot))
        )

    def move_to(
        self,
        pos: np.ndarray,
        rot: np.ndarray,
        duration: float | None = None,
        check: bool = True,
        settle: float = 1.0,
        position_tol: float = 0.004,
        rotation_tol: float = 0.03,
    ) -> MoveResult:
        """Move the tool to a pose along a minimum-jerk straight line, then let it settle.

        Raises:
            UnreachableError, CollisionError: when ``check`` finds the target unreachable.
        """
        pos, rot = np.asarray(pos, float), np.asarray(rot, float)
        c = self.controller
        if check:
            c.posture = check_reachable(self.world, pos, rot).q
        start_pos, start_rot = c.target_pos.copy(), c.target_rot.copy()
        turn = rotation_error(rot, start_rot)
        if duration is None:
            duration = max(
                0.3,
                float(np.linalg.norm(pos - start_pos)) / LINEAR_SPEED,
                float(np.linalg.norm(turn)) / ANGULAR_SPEED,
            )
        dt = self.world.model.opt.timestep
        steps = max(1, round(duration / dt))
        t0 = self.world.time
        for k in range(1, steps + 1):
            s = min_jerk(k / steps)
            c.set_target(start_pos + s * (pos - start_pos), rodrigues(s * turn) @ start_rot)
            self.step()
        c.set_target(pos, rot)
        for _ in range(round(settle / dt)):
            pe, re = self.pose_error()
            if (
                pe < position_tol
                and re < rotation_tol
                and np.linalg.norm(self.world.data.qvel[self.world.arm_dofs]) < 0.05
            ):
                break
            self.step()
        pe, re = self.pose_error()
        return MoveResult(pe < position_tol and re < rotation_tol, pe, re, self.world.time - t0)

    def move_by(self, offset: np.ndarray, **kwargs: object) -> MoveResult:
        """Move the tool by ``offset`` (m, base frame), keeping its orientation."""
        c = self.controller
        return self.move_to(c.target_pos + np.asarray(offset, float), c.target_rot, **kwargs)

    def probe(
        self,
        direction: np.ndarray,
        force: float,
        duration: float = 0.6,
        stiffness: float | None = None,
    ) -> ProbeResult:
        """Push with ``force`` (N) along ``direction`` around the current pose; report the motion.

        The controller keeps its equilibrium where the tool was, so in free space the tool
        moves by ``force / stiffness``; a constrained direction moves less. The building block
        of ManipLLM's active impedance adaptation. The tool stays where the probe left it.
        """
        d = np.asarray(direction, float)
        d = d / np.linalg.norm(d)
        c = self.controller
        gains = c.gains
        if stiffness is not None:
            c.gains = ImpedanceGains(
                stiffness, gains.rotational, gains.damping_ratio, gains.nullspace_stiffness
            )
        start, _ = self.world.tcp_pose()
        c.set_target(start, c.target_rot)
        c.external_force = np.concatenate([force * d, np.zeros(3)])
        try:
            self.run(duration)
        finally:
            c.external_force = np.zeros(6)
            c.gains = gains
        end, _ = self.world.tcp_pose()
        c.set_target(end, c.target_rot)
        return ProbeResult(d, force, end - start)

    # -- gripper ---------------------------------------------------------------------------

    def open_gripper(self, wait: float = 0.6) -> None:
        """Open fully (parallel) or switch the vacuum off (suction)."""
        if isinstance(self.gripper, ParallelGripper):
            self.gripper.move(self.gripper.hand.max_width)
        else:
            self.gripper.off()
        self.run(wait)

    def close_gripper(self, force: float = 40.0, wait: float = 0.8) -> GripperState:
        """Grasp with ``force`` (parallel) or switch the vacuum on (suction)."""
        if isinstance(self.gripper, ParallelGripper):
            self.gripper.grasp(force)
        else:
            self.gripper.on()
        self.run(wait)
        return self.gripper.state()

    def gripper_state(self) -> GripperState:
        """Width, vacuum and held object."""
        return self.gripper.state()
