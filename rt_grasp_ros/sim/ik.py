"""Inverse kinematics (damped least squares) and the reachability / collision check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.sim import panda
from rt_grasp_ros.sim.control import rotation_error
from rt_grasp_ros.skills.motion import CollisionError, UnreachableError

__all__ = ["CollisionError", "IKResult", "UnreachableError", "check_reachable", "solve_ik"]


@dataclass(frozen=True)
class IKResult:
    """A joint configuration and how far its tool pose is from the target."""

    q: np.ndarray
    position_error: float
    rotation_error: float
    converged: bool


def solve_ik(
    world: object,
    pos: np.ndarray,
    rot: np.ndarray,
    q0: np.ndarray | None = None,
    max_iters: int = 300,
    position_tol: float = 1e-3,
    rotation_tol: float = 1e-2,
) -> IKResult:
    """Damped least-squares IK on a scratch copy of the world's data, within joint limits."""
    mj = world.mj
    data = mj.MjData(world.model)
    data.qpos[:] = world.data.qpos
    q = np.array(world.q() if q0 is None else q0, float)
    jacp, jacr = np.zeros((3, world.model.nv)), np.zeros((3, world.model.nv))
    best = None
    for _ in range(max_iters):
        data.qpos[world.arm_qpos] = q
        mj.mj_kinematics(world.model, data)
        mj.mj_comPos(world.model, data)
        cur_pos = data.site_xpos[world.tcp_site]
        cur_rot = data.site_xmat[world.tcp_site].reshape(3, 3)
        err = np.concatenate([pos - cur_pos, rotation_error(rot, cur_rot)])
        pe, re = float(np.linalg.norm(err[:3])), float(np.linalg.norm(err[3:]))
        if best is None or pe + 0.1 * re < best[1] + 0.1 * best[2]:
            best = (q.copy(), pe, re)
        if pe < position_tol and re < rotation_tol:
            return IKResult(q, pe, re, True)
        mj.mj_jacSite(world.model, data, jacp, jacr, world.tcp_site)
        jac = np.vstack([jacp[:, world.arm_dofs], jacr[:, world.arm_dofs]])
        dq = jac.T @ np.linalg.solve(jac @ jac.T + 1e-3 * np.eye(6), err)
        step = np.linalg.norm(dq)
        if step > 0.3:
            dq *= 0.3 / step
        q = np.clip(q + dq, panda.Q_MIN + 1e-3, panda.Q_MAX - 1e-3)
    q_best, pe, re = best
    return IKResult(q_best, pe, re, False)


def check_reachable(
    world: object,
    pos: np.ndarray,
    rot: np.ndarray,
    q0: np.ndarray | None = None,
    check_collisions: bool = True,
) -> IKResult:
    """IK for the target; raise a clear error if it cannot be reached or collides.

    Raises:
        UnreachableError: the closest configuration misses the target (distance given).
        CollisionError: the reaching configuration puts a robot link into a fixed body.
    """
    result = solve_ik(world, pos, rot, q0)
    if not result.converged:
        raise UnreachableError(
            f"target {np.round(pos, 3).tolist()} is out of reach: the closest configuration is "
            f"{100 * result.position_error:.1f} cm and "
            f"{np.degrees(result.rotation_error):.0f} deg away"
        )
    if check_collisions:
        hits = fixed_collisions(world, result.q)
        if hits:
            raise CollisionError(
                f"reaching {np.round(pos, 3).tolist()} puts the robot into "
                f"{', '.join(sorted(hits))}"
            )
    return result


def fixed_collisions(world: object, q: np.ndarray, tolerance: float = 0.002) -> set[str]:
    """Pairs 'robot geom/fixed geom' that penetrate by more than ``tolerance`` at ``q``."""
    mj = world.mj
    data = mj.MjData(world.model)
    data.qpos[:] = world.data.qpos
    data.qpos[world.arm_qpos] = q
    mj.mj_forward(world.model, data)
    hits = set()
    for k in range(data.ncon):
        c = data.contact[k]
        g1, g2 = int(c.geom1), int(c.geom2)
        robot = [g for g in (g1, g2) if g in world.robot_geoms]
        if len(robot) != 1 or c.dist > -tolerance:
            continue
        other = g2 if robot[0] == g1 else g1
        if world.model.body_weldid[world.body_of_geom(other)] == 0:  # welded to the world
            hits.add(f"{world.geom_name(robot[0])}/{world.geom_name(other)}")
    return hits
