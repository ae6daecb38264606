"""Torque-level Cartesian impedance control with nullspace posture control.

    tau = J^T (K_x e - D_x v + f_ext) + N^T (K_n (q_n - q) - D_n dq) + c(q, dq) + g(q)

``e`` is the pose error of the tool centre point (position, and rotation as an axis-angle
vector), ``v`` its twist, ``c + g`` MuJoCo's bias forces (Coriolis and gravity), and ``N`` the
dynamically consistent nullspace projector, so the posture task never disturbs the end
effector: at rest, an external force f moves the tool by exactly K_x^-1 f.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim import panda
from rt_grasp_ros.transforms import rotation_error

__all__ = ["CartesianImpedanceController", "ImpedanceGains", "rotation_error"]


@dataclass(frozen=True)
class ImpedanceGains:
    """Stiffness and damping of the controller.

    Attributes:
        translational: N/m along each axis.
        rotational: Nm/rad about each axis.
        damping_ratio: damping relative to critical, for the effective end-effector mass.
        nullspace_stiffness: Nm/rad pulling the joints towards the posture target.
    """

    translational: float = 1200.0
    rotational: float = 80.0
    damping_ratio: float = 1.0
    nullspace_stiffness: float = 8.0

    def __post_init__(self) -> None:
        for name in ("translational", "rotational", "damping_ratio", "nullspace_stiffness"):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"ImpedanceGains.{name} must be positive, got {getattr(self, name)}"
                )


class CartesianImpedanceController:
    """Computes arm torques that make the tool behave like a spring-damper around a target."""

    def __init__(self, world: object, gains: ImpedanceGains | None = None) -> None:
        self.world = world
        self.gains = gains or ImpedanceGains()
        self._jacp = np.zeros((3, world.model.nv))
        self._jacr = np.zeros((3, world.model.nv))
        self._mass = np.zeros((world.model.nv, world.model.nv))
        pos, rot = world.tcp_pose()
        self.target_pos, self.target_rot = pos, rot
        self.posture = world.q()
        self.external_force = np.zeros(6)

    def set_target(self, pos: np.ndarray, rot: np.ndarray) -> None:
        """Equilibrium pose of the tool centre point."""
        self.target_pos = np.asarray(pos, float).copy()
        self.target_rot = np.asarray(rot, float).copy()

    def jacobian(self) -> np.ndarray:
        """6x7 Jacobian of the tool centre point (linear rows first)."""
        w = self.world
        w.mj.mj_jacSite(w.model, w.data, self._jacp, self._jacr, w.tcp_site)
        return np.vstack([self._jacp[:, w.arm_dofs], self._jacr[:, w.arm_dofs]])

    def torques(self) -> np.ndarray:
        """Joint torques (7,) for the current state, clipped to the Panda's limits."""
        w, g = self.world, self.gains
        dofs = w.arm_dofs
        jac = self.jacobian()
        w.mj.mj_fullM(w.model, w.data, self._mass)
        mass = self._mass[np.ix_(dofs, dofs)]
        mass_inv = np.linalg.inv(mass)
        # Task-space inertia; damped inverse stays finite near singularities.
        lam = np.linalg.inv(jac @ mass_inv @ jac.T + 1e-6 * np.eye(6))

        pos, rot = w.tcp_pose()
        dq = w.data.qvel[dofs]
        twist = jac @ dq
        error = np.concatenate([self.target_pos - pos, rotation_error(self.target_rot, rot)])
        stiffness = np.array([g.translational] * 3 + [g.rotational] * 3)
        # Critical damping per axis for the diagonal of the task-space inertia.
        damping = 2 * g.damping_ratio * np.sqrt(stiffness * np.maximum(np.diag(lam), 1e-4))
        wrench = stiffness * error - damping * twist + self.external_force
        tau = jac.T @ wrench

        q = w.data.qpos[w.arm_qpos]
        kn = g.nullspace_stiffness
        tau_posture = kn * (self.posture - q) - 2 * np.sqrt(kn) * dq
        jbar = mass_inv @ jac.T @ lam
        tau += (np.eye(7) - jac.T @ jbar.T) @ tau_posture
        tau += w.data.qfrc_bias[dofs]
        return np.clip(tau, -panda.TAU_MAX, panda.TAU_MAX)
