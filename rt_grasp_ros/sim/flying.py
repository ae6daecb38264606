"""A free-flying suction cup: the arm's tool without the arm, as ManipLLM's data collection.

The cup is the arm's suction tool (the same geoms, TCP site, bellows seal and welds; the same
:class:`~rt_grasp_ros.sim.gripper.SuctionGripper` decides when it seals, peels and breaks)
flying on joints of its own (see :func:`rt_grasp_ros.sim.mjcf.add_flying_tool`), in a scene
whose arm is only a picture (fixed in its ready pose, colliding with nothing), so the camera
sees what it sees in the arm's scene. The joints' springs are a Cartesian impedance at the
TCP with the arm controller's gains, their rest pose moved to the target, so a part resisting
the pull loads the seal and the force guard as on the arm, while MuJoCo does the control.

What the arm adds and the cup has not: its reach and joint limits (the start pose, and the
end of the pull), its links' collisions with the object and the table, the roll the arm picks
to keep away from its limits, and an inertia that changes with its posture (the cup carries
the arm's at its ready pose).
"""

from __future__ import annotations

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.control import ImpedanceGains
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.skills.motion import CollisionError, Tolerance
from rt_grasp_ros.transforms import Pose

COLLISION_TOLERANCE = 0.002  # m of penetration into a fixed body that counts as a collision


class SpringController:
    """The flying tool's impedance: its joints' springs, their rest pose moved to the target.

    The slides' and ball joint's stiffness are the gains' translational and rotational ones,
    damped critically for the tool's inertia at the TCP (MuJoCo integrates the damping
    implicitly: stable at the arm's 2 ms step). ``external_force`` (N, Nm at the TCP, base
    frame) is applied at the wrist, whose centre of mass is the TCP.
    """

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        self.world = world
        self._mj = world.mj
        m = world.model
        self.posture = np.zeros(0)  # no joints to hold: the arm controller's field, unused
        self.external_force = np.zeros(6)
        self._slides = m.jnt_qposadr[world.tool_joints[:3]]
        self._ball = int(m.jnt_qposadr[world.tool_joints[3]])
        # The joints' zero: the carrier's place and the wrist's rest turn (base frame).
        self._origin = m.body_pos[m.body_parentid[world.tool_body]].copy()
        self._rest = np.zeros(9)
        self._mj.mju_quat2Mat(self._rest, m.body_quat[world.tool_body])
        self._rest = self._rest.reshape(3, 3)
        self._quat = np.zeros(4)
        self._err = np.zeros(3)
        self._inertia = (
            float(m.body_subtreemass[world.tool_body]),
            float(m.body_inertia[world.tool_body][0]),
        )
        self.target_pos, self.target_rot = world.tcp_pose()
        self.gains = gains or ImpedanceGains()
        self.set_target(self.target_pos, self.target_rot)

    @property
    def gains(self) -> ImpedanceGains:
        """Stiffness and damping ratio, written into the model's joints."""
        return self._gains

    @gains.setter
    def gains(self, gains: ImpedanceGains) -> None:
        self._gains = gains
        w, (mass, inertia) = self.world, self._inertia
        m = w.model
        slides, ball = w.tool_joints[:3], w.tool_joints[3]
        m.jnt_stiffness[slides] = gains.translational
        m.jnt_stiffness[ball] = gains.rotational
        ratio = gains.damping_ratio
        m.dof_damping[w.tool_dofs[:3]] = 2 * ratio * np.sqrt(gains.translational * mass)
        m.dof_damping[w.tool_dofs[3:]] = 2 * ratio * np.sqrt(gains.rotational * inertia)

    def set_target(self, pos: np.ndarray, rot: np.ndarray) -> None:
        """Equilibrium pose of the tool centre point (base frame)."""
        self.target_pos = np.asarray(pos, float).copy()
        self.target_rot = np.asarray(rot, float).copy()
        m = self.world.model
        m.qpos_spring[self._slides] = self.target_pos - self._origin
        self._mj.mju_mat2Quat(self._quat, (self._rest.T @ self.target_rot).flatten())
        m.qpos_spring[self._ball : self._ball + 4] = self._quat

    def joint_pose(self, pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
        """The tool joints' positions (7,) that put the TCP at ``pos``, ``rot``."""
        quat = np.zeros(4)
        self._mj.mju_mat2Quat(quat, (self._rest.T @ np.asarray(rot, float)).flatten())
        return np.concatenate([np.asarray(pos, float) - self._origin, quat])

    def error(self) -> tuple[float, float]:
        """Distance (m) and angle (rad) of the TCP from the target."""
        w = self.world
        m, d = w.model, w.data
        self._mj.mju_subQuat(
            self._err,
            m.qpos_spring[self._ball : self._ball + 4],
            d.qpos[self._ball : self._ball + 4],
        )
        pos_err = float(np.linalg.norm(self.target_pos - d.site_xpos[w.tcp_site]))
        return pos_err, float(np.linalg.norm(self._err))


class FlyingCup(SimRobot):
    """The suction cup alone, behind the same interface as :class:`SimRobot` (the arm).

    It reaches every pose: :meth:`check_target` accepts all, :meth:`place_at` only refuses
    a start inside a fixed body.
    """

    free_flying = True

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        if not getattr(world, "flying", False):
            raise ConfigError("FlyingCup needs a scene with SceneConfig.mount='flying'")
        super().__init__(world, gains)
        self.controller = SpringController(world, gains)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps (the springs pull in MuJoCo; the gripper checks each)."""
        w, g = self.world, self.gripper
        w.data.xfrc_applied[w.tool_body] = self.controller.external_force
        if not g.vacuum and g.attached is None:  # nothing for the gripper to watch
            w.mj.mj_step(w.model, w.data, n)
            return
        for _ in range(n):
            w.mj.mj_step1(w.model, w.data)
            g.apply()
            w.mj.mj_step2(w.model, w.data)
            g.after_step()

    def check_target(self, pose: Pose) -> None:
        """Every pose is reachable by a flying tool."""

    def place_at(self, pose: Pose, q0: np.ndarray | None = None) -> None:
        """Put the TCP at ``pose`` at once, at rest, the controller holding it there.

        Raises:
            CollisionError: the cup there is inside a body fixed to the world.
        """
        w = self.world
        w.data.qpos[w.tool_qpos] = self.controller.joint_pose(pose.position, pose.rotation_matrix)
        w.data.qvel[w.tool_dofs] = 0.0
        w.mj.mj_forward(w.model, w.data)
        hits = self._fixed_collisions()
        if hits:
            raise CollisionError(
                f"placing the cup at {np.round(pose.position, 3).tolist()} puts it into "
                + ", ".join(sorted(hits))
            )
        self.controller.set_target(*w.tcp_pose())

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
        """External wrench at the TCP (6,), from the constraint forces on the tool's joints.

        The slides carry the force along the base axes, the ball joint the torque about the
        TCP (in the wrist's frame).
        """
        w = self.world
        gen = w.data.qfrc_constraint[w.tool_dofs]
        wrist = w.data.xmat[w.tool_body].reshape(3, 3)
        return np.concatenate([gen[:3], wrist @ gen[3:]])
