"""A free-flying suction cup: the arm's tool without the arm, as ManipLLM's data collection.

The cup is the arm's suction tool (same geoms, TCP site, bellows seal and welds; the same
:class:`~rt_grasp_ros.sim.gripper.SuctionGripper` decides when it seals, peels and breaks) on
a free body of its own, in a scene whose arm is only a picture (fixed, colliding with nothing).
A Cartesian impedance controller with the arm's gains pulls the TCP towards its target as the
arm's does: the force and torque at the TCP are applied to the body directly, with its weight
compensated, so a part resisting the pull loads the seal and the force guard as it does on
the arm. What the arm adds and the cup has not: its reach and joint limits, its links'
collisions and its inertia.
"""

from __future__ import annotations

import numpy as np

from rt_grasp_ros.sim.control import ImpedanceGains
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.skills.motion import CollisionError, Tolerance
from rt_grasp_ros.transforms import Pose

COLLISION_TOLERANCE = 0.002  # m of penetration into a fixed body that counts as a collision


class FreeToolController:
    """Spring-damper of the TCP towards its target, as force and torque on the free body.

    ``F = K_x e - D_x v + f_ext`` and ``T = K_r e_r - D_r w + t_ext`` at the TCP, damping
    critical for the body's task-space inertia (it is rigid: computed where it is placed), plus
    MuJoCo's bias forces (its weight).
    """

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        self.world = world
        mj, m = world.mj, world.model
        self._mj = mj
        self.posture = np.zeros(0)  # no joints to hold: the arm controller's field, unused
        self.external_force = np.zeros(6)
        self._qfrc = np.zeros(m.nv)
        self._vel = np.zeros(6)
        self._quat = np.zeros(4)
        self._target_quat = np.zeros(4)
        self._err_rot = np.zeros(3)
        self.set_target(*world.tcp_pose())
        self.gains = gains or ImpedanceGains()

    @property
    def gains(self) -> ImpedanceGains:
        """Stiffness and damping ratio (the damping follows them)."""
        return self._gains

    @gains.setter
    def gains(self, gains: ImpedanceGains) -> None:
        self._gains = gains
        self.update_damping()

    def update_damping(self) -> None:
        """Critical damping per axis for the task-space inertia where the tool is now."""
        g = self._gains
        stiffness = np.array([g.translational] * 3 + [g.rotational] * 3)
        self._damping = 2 * g.damping_ratio * np.sqrt(stiffness * self._task_inertia())

    def _task_inertia(self) -> np.ndarray:
        """Diagonal of the TCP's task-space inertia (6,): linear rows first."""
        w = self.world
        jacp, jacr = np.zeros((3, w.model.nv)), np.zeros((3, w.model.nv))
        w.mj.mj_jacSite(w.model, w.data, jacp, jacr, w.tcp_site)
        jac = np.vstack([jacp, jacr])[:, w.tool_dofs]
        full = np.zeros((w.model.nv, w.model.nv))
        w.mj.mj_fullM(w.model, w.data, full)
        mass = full[np.ix_(w.tool_dofs, w.tool_dofs)]
        lam = np.linalg.inv(jac @ np.linalg.solve(mass, jac.T))
        return np.maximum(np.diag(lam), 1e-4)

    def set_target(self, pos: np.ndarray, rot: np.ndarray) -> None:
        """Equilibrium pose of the tool centre point."""
        self.target_pos = np.asarray(pos, float).copy()
        self.target_rot = np.asarray(rot, float).copy()
        self._mj.mju_mat2Quat(self._target_quat, self.target_rot.flatten())

    def error(self) -> tuple[float, float]:
        """Distance (m) and angle (rad) of the TCP from the target."""
        d, w = self.world.data, self.world
        self._mj.mju_mat2Quat(self._quat, d.site_xmat[w.tcp_site])
        self._mj.mju_subQuat(self._err_rot, self._target_quat, self._quat)
        pos_err = float(np.linalg.norm(self.target_pos - d.site_xpos[w.tcp_site]))
        return pos_err, float(np.linalg.norm(self._err_rot))

    def apply(self) -> None:
        """Write the step's generalised forces on the tool's dofs (between step1 and step2)."""
        w, mj = self.world, self._mj
        d = w.data
        pos = d.site_xpos[w.tcp_site]
        mj.mju_mat2Quat(self._quat, d.site_xmat[w.tcp_site])
        # Rotation from the TCP to the target, in the TCP frame, then in the base frame.
        mj.mju_subQuat(self._err_rot, self._target_quat, self._quat)
        err_rot = d.site_xmat[w.tcp_site].reshape(3, 3) @ self._err_rot
        mj.mj_objectVelocity(w.model, d, mj.mjtObj.mjOBJ_SITE, w.tcp_site, self._vel, 0)
        g, damp = self._gains, self._damping
        force = g.translational * (self.target_pos - pos) - damp[:3] * self._vel[3:]
        torque = g.rotational * err_rot - damp[3:] * self._vel[:3]
        if self.external_force.any():
            force += self.external_force[:3]
            torque += self.external_force[3:]
        self._qfrc[:] = 0.0
        mj.mj_applyFT(w.model, d, force, torque, pos, w.tool_body, self._qfrc)
        dofs = w.tool_dofs
        d.qfrc_applied[dofs] = self._qfrc[dofs] + d.qfrc_bias[dofs]


class FlyingCup(SimRobot):
    """The suction cup alone, behind the same interface as :class:`SimRobot` (the arm).

    It reaches every pose: :meth:`check_target` accepts all, :meth:`place_at` only refuses
    a start inside a fixed body.
    """

    free_flying = True

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        if not getattr(world, "flying", False):
            raise ValueError("FlyingCup needs a scene with mount='flying'")
        super().__init__(world, gains)
        self.controller = FreeToolController(world, gains)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps with the controller in the loop."""
        w = self.world
        for _ in range(n):
            w.mj.mj_step1(w.model, w.data)
            self.controller.apply()
            self.gripper.apply()
            w.mj.mj_step2(w.model, w.data)
            self.gripper.after_step()

    def check_target(self, pose: Pose) -> None:
        """Every pose is reachable by a flying tool."""

    def place_at(self, pose: Pose, q0: np.ndarray | None = None) -> None:
        """Put the TCP at ``pose`` at once, at rest, the controller holding it there.

        Raises:
            CollisionError: the cup there is inside a body fixed to the world.
        """
        w = self.world
        rot = pose.rotation_matrix
        body = pose.position - rot[:, 2] * w.tool.tcp_offset
        quat = np.zeros(4)
        w.mj.mju_mat2Quat(quat, rot.flatten())
        w.data.qpos[w.tool_qpos] = np.concatenate([body, quat])
        w.data.qvel[w.tool_dofs] = 0.0
        w.mj.mj_forward(w.model, w.data)
        hits = self._fixed_collisions()
        if hits:
            raise CollisionError(
                f"placing the cup at {np.round(pose.position, 3).tolist()} puts it into "
                + ", ".join(sorted(hits))
            )
        self.controller.set_target(*w.tcp_pose())
        self.controller.update_damping()

    def _fixed_collisions(self) -> set[str]:
        w = self.world
        hits = set()
        for c in w.contacts():
            robot = [g for g in (c.geom1, c.geom2) if g in w.robot_geoms]
            if len(robot) != 1 or c.distance > -COLLISION_TOLERANCE:
                continue
            other = c.geom2 if robot[0] == c.geom1 else c.geom1
            if w.model.body_weldid[w.body_of_geom(other)] == 0:
                hits.add(f"{w.geom_name(robot[0])}/{w.geom_name(other)}")
        return hits

    def reached(self, tolerance: Tolerance) -> bool:
        """TCP within ``tolerance`` of the target and nearly at rest (m/s and rad/s)."""
        pos_err, rot_err = self.controller.error()
        speed = float(np.linalg.norm(self.world.data.qvel[self.world.tool_dofs]))
        return (
            pos_err < tolerance.position
            and rot_err < tolerance.rotation
            and speed < tolerance.speed
        )

    def wrench(self) -> np.ndarray:
        """External wrench at the TCP (6,), from the constraint forces on the free body."""
        w = self.world
        d = w.data
        gen = d.qfrc_constraint[w.tool_dofs]
        force = gen[:3]  # the free joint's linear dofs: world-frame force at the body origin
        body_rot = d.xmat[w.tool_body].reshape(3, 3)
        arm = d.site_xpos[w.tcp_site] - d.xpos[w.tool_body]
        moment = np.array(
            [
                arm[1] * force[2] - arm[2] * force[1],
                arm[2] * force[0] - arm[0] * force[2],
                arm[0] * force[1] - arm[1] * force[0],
            ]
        )  # arm x force; np.cross costs more than the rest of the step
        return np.concatenate([force, body_rot @ gen[3:] - moment])
