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

    @property
    def margin(self) -> float:
        """Smallest distance of a joint to its limit (rad)."""
        return float(np.min(np.minimum(self.q - panda.Q_MIN, panda.Q_MAX - self.q)))


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


# Fallback starting postures when IK from the current one gets stuck: the ready pose, a
# posture with the flange pointing forward (front approaches) and two with the elbow turned.
RESTART_POSTURES = (
    panda.Q_READY,
    np.array([0.0, 0.2, 0.0, -2.0, 0.0, 2.2, 0.785]),
    np.array([0.6, -0.3, -0.6, -2.2, 0.0, 2.0, 0.0]),
    np.array([-0.6, -0.3, 0.6, -2.2, 0.0, 2.0, 1.57]),
)


RANDOM_RESTARTS = 12


def solve_ik_restarts(
    world: object,
    pos: np.ndarray,
    rot: np.ndarray,
    q0: np.ndarray | None = None,
    min_margin: float = 0.0,
) -> IKResult:
    """IK from ``q0`` (default: the current posture), then from :data:`RESTART_POSTURES`.

    Damped least squares can stall in a local minimum far from a reachable target (e.g. a
    front approach started from the ready pose); the restarts are deterministic. They go on
    until a solution keeps every joint ``min_margin`` (rad) from its limits (with a margin asked
    for, from :data:`RANDOM_RESTARTS` random postures as well); of the solutions found, the one
    farthest from the limits is returned.
    """
    best = solve_ik(world, pos, rot, q0)
    seeds = list(RESTART_POSTURES)
    if min_margin > 0:  # random postures too (the same ones every call: deterministic)
        rng = np.random.default_rng(0)
        seeds += list(rng.uniform(panda.Q_MIN + 0.3, panda.Q_MAX - 0.3, (RANDOM_RESTARTS, 7)))
    for seed in seeds:
        if best.converged and best.margin >= min_margin:
            break
        result = solve_ik(world, pos, rot, seed, max_iters=150 if min_margin > 0 else 300)
        better = result.margin > best.margin if best.converged else result.converged
        if better or (not best.converged and result.position_error < best.position_error):
            best = result
    return best


def check_reachable(
    world: object,
    pos: np.ndarray,
    rot: np.ndarray,
    q0: np.ndarray | None = None,
    check_collisions: bool = True,
    min_margin: float = 0.0,
) -> IKResult:
    """IK for the target; raise a clear error if it cannot be reached or collides.

    ``min_margin``: see :func:`solve_ik_restarts`.

    Raises:
        UnreachableError: the closest configuration misses the target (distance given).
        CollisionError: the reaching configuration puts a robot link into a fixed body.
    """
    result = solve_ik_restarts(world, pos, rot, q0, min_margin)
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
