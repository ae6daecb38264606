"""The simulated Panda behind the :class:`~rt_grasp_ros.skills.motion.Motion` protocol.

Physics advances only when asked (:meth:`SimRobot.step`, :meth:`SimRobot.wait`), with the
impedance controller and the gripper in the loop every step, so the same robot serves skills
in-process (they wait, the world steps) and a ROS node (a timer steps it, topics set targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.sim.control import CartesianImpedanceController, ImpedanceGains
from rt_grasp_ros.sim.gripper import GripperState, ParallelGripper, SuctionGripper
from rt_grasp_ros.sim.ik import IKResult, check_reachable
from rt_grasp_ros.sim.tools import FrankaHand
from rt_grasp_ros.skills.motion import (
    CancelCheck,
    GripperStatus,
    LinearMove,
    MoveOutcome,
    TargetPath,
    Tolerance,
    move_linear,
    stream,
)
from rt_grasp_ros.transforms import Pose

PLACE_MARGIN = 0.3  # rad from the joint limits that place_at looks for


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


class SimRobot:
    """A Panda in a :class:`World`, stepped with the impedance controller every physics step."""

    free_flying = False  # the tool is on the arm: its reach and joint limits apply

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        self.world = world
        self.controller = CartesianImpedanceController(world, gains)
        if isinstance(world.tool, FrankaHand):
            self.gripper: ParallelGripper | SuctionGripper = ParallelGripper(world, world.tool)
            self.gripper_kind = GripperKind.PARALLEL
        else:
            self.gripper = SuctionGripper(world, world.tool)
            self.gripper_kind = GripperKind.SUCTION

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
            self.gripper.after_step()

    @property
    def control_period(self) -> float:
        """One physics step (s): targets are streamed every step."""
        return float(self.world.model.opt.timestep)

    def now(self) -> float:
        """Simulated time (s)."""
        return self.world.time

    def wait(self, seconds: float) -> None:
        """Advance ``seconds`` of simulated time (at least one step)."""
        self.step(max(1, round(seconds / self.control_period)))

    run = wait

    # -- Motion: arm -----------------------------------------------------------------------

    def tcp_pose(self) -> Pose:
        """Measured TCP pose in the base frame."""
        return Pose.from_rotation_matrix(*self.world.tcp_pose())

    def target_pose(self) -> Pose:
        """The impedance controller's target pose."""
        c = self.controller
        return Pose.from_rotation_matrix(c.target_pos, c.target_rot)

    def set_target(self, pose: Pose) -> None:
        """New equilibrium pose of the impedance controller."""
        self.controller.set_target(pose.position, pose.rotation_matrix)

    def follow(self, path: TargetPath, cancelled: CancelCheck | None = None) -> None:
        """Set each of the path's targets when it is due (the controller runs every step)."""
        stream(self, path, cancelled)

    def check_target(self, pose: Pose) -> None:
        """Solve IK for ``pose``; its joint angles become the nullspace posture target.

        Raises:
            UnreachableError, CollisionError: with the reason.
        """
        self.controller.posture = check_reachable(
            self.world, pose.position, pose.rotation_matrix
        ).q

    def place_at(self, pose: Pose, q0: np.ndarray | None = None) -> IKResult:
        """Put the TCP at ``pose`` at once, the arm at rest, the controller holding it there.

        A simulator shortcut, like the flying gripper that ManipLLM's data collection sets at
        its start pose: the arm jumps to an IK solution (from ``q0`` if given, keeping the
        joints away from their limits where it can) instead of travelling there.

        Raises:
            UnreachableError, CollisionError: with the reason.
        """
        w = self.world
        result = check_reachable(
            w, pose.position, pose.rotation_matrix, q0, min_margin=PLACE_MARGIN
        )
        w.data.qpos[w.arm_qpos] = result.q
        w.data.qvel[w.arm_dofs] = 0.0
        w.mj.mj_forward(w.model, w.data)
        self.controller.set_target(*w.tcp_pose())
        self.controller.posture = result.q.copy()
        return result

    def reached(self, tolerance: Tolerance) -> bool:
        """TCP within ``tolerance`` of the target and the joints nearly at rest."""
        pos_err, rot_err = self.tcp_pose().distance_to(self.target_pose())
        speed = float(np.linalg.norm(self.world.data.qvel[self.world.arm_dofs]))
        return (
            pos_err < tolerance.position
            and rot_err < tolerance.rotation
            and speed < tolerance.speed
        )

    def wrench(self) -> np.ndarray:
        """External wrench at the TCP (6,), from the contact torques on the arm joints."""
        jac = self.controller.jacobian()
        tau_ext = self.world.data.qfrc_constraint[self.world.arm_dofs]
        return np.linalg.pinv(jac.T) @ tau_ext

    def move_to(self, pose: Pose, **move: object) -> MoveOutcome:
        """Move the TCP along a straight line to ``pose`` (see :class:`LinearMove`)."""
        return move_linear(self, pose, LinearMove(**move))

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
            self.wait(duration)
        finally:
            c.external_force = np.zeros(6)
            c.gains = gains
        end, _ = self.world.tcp_pose()
        c.set_target(end, c.target_rot)
        return ProbeResult(d, force, end - start)

    # -- Motion: gripper -------------------------------------------------------------------

    def open_gripper(self) -> None:
        """Open fully (parallel) or switch the vacuum off (suction)."""
        if isinstance(self.gripper, ParallelGripper):
            self.gripper.move(self.gripper.hand.max_width)
        else:
            self.gripper.off()

    def close_gripper(self, width: float = 0.0, force: float = 40.0) -> None:
        """Grasp towards ``width`` with ``force`` (parallel) or switch the vacuum on."""
        if isinstance(self.gripper, ParallelGripper):
            self.gripper.grasp(force)
        else:
            self.gripper.on()

    def gripper_status(self) -> GripperStatus:
        """What the gripper senses: the fingers stopped on an object, or a sealed part."""
        s = self.gripper.state()
        return GripperStatus(s.width, s.holding is not None, s.vacuum)

    def gripper_state(self) -> GripperState:
        """Width, vacuum and the name of the held object (simulator ground truth)."""
        return self.gripper.state()
