"""Franka arm kinematics from the published DH parameters: flange pose and a reachability check.

Franka documents the FR3's and the Panda's kinematics as modified (Craig) Denavit-Hartenberg
parameters (the same chain for both; the joint limits differ). The driver uses them to refuse
a target pose the arm cannot reach (a numerical inverse kinematics within the joint limits)
before handing it to the impedance controller, which would otherwise stretch towards it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# a (m), d (m), alpha (rad) of joints 1..7, then the flange (d = 0.107 m).
_A = (0.0, 0.0, 0.0, 0.0825, -0.0825, 0.0, 0.088, 0.0)
_D = (0.333, 0.0, 0.316, 0.0, 0.384, 0.0, 0.0, 0.107)
_ALPHA = (0.0, -np.pi / 2, np.pi / 2, np.pi / 2, -np.pi / 2, np.pi / 2, np.pi / 2, 0.0)

# Joint limits (rad), from Franka's robot specifications.
LIMITS = {
    "fr3": (
        np.array([-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159]),
        np.array([2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159]),
    ),
    "panda": (
        np.array([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973]),
        np.array([2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973]),
    ),
}


def _dh(a, d, alpha, theta):
    ca, sa, ct, st = np.cos(alpha), np.sin(alpha), np.cos(theta), np.sin(theta)
    return np.array(
        [
            [ct, -st, 0.0, a],
            [st * ca, ct * ca, -sa, -d * sa],
            [st * sa, ct * sa, ca, d * ca],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


def flange_frames(q) -> list:
    """Return the 4x4 poses of joint frames 1..7 and of the flange in the base frame."""
    out, pose = [], np.eye(4)
    for k in range(8):
        pose = pose @ _dh(_A[k], _D[k], _ALPHA[k], q[k] if k < 7 else 0.0)
        out.append(pose)
    return out


def flange_pose(q) -> np.ndarray:
    """Return the flange's 4x4 pose in the base frame for joint positions ``q`` (7,)."""
    return flange_frames(q)[-1]


def _jacobian(frames, tip) -> np.ndarray:
    """Geometric Jacobian (6x7: linear, angular) of point ``tip`` for the joint frames."""
    jac = np.zeros((6, 7))
    for k in range(7):
        z, p = frames[k][:3, 2], frames[k][:3, 3]
        jac[:3, k] = np.cross(z, tip - p)
        jac[3:, k] = z
    return jac


def _rotation_error(current, target) -> np.ndarray:
    """Rotation vector taking ``current`` to ``target`` (base frame)."""
    r = target @ current.T
    angle = np.arccos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))
    axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    if angle < 1e-9:
        return 0.5 * axis
    if np.pi - angle < 1e-6:  # half a turn: axis from the symmetric part
        w, v = np.linalg.eigh((r + np.eye(3)) / 2.0)
        return angle * v[:, np.argmax(w)]
    return angle / (2.0 * np.sin(angle)) * axis


@dataclass(frozen=True)
class IkResult:
    """Joint positions that reach the pose (None if none found) and the residual errors."""

    q: np.ndarray | None
    position_error: float
    rotation_error: float


def solve_flange(
    target: np.ndarray,
    seeds,
    robot: str = "fr3",
    iterations: int = 80,
    position_tol: float = 1e-3,
    rotation_tol: float = 1e-2,
) -> IkResult:
    """Find joint positions within the limits that put the flange at ``target`` (4x4).

    Damped least squares from each seed (7,) in turn, joints clamped to the limits at every
    step; the first solution within the tolerances wins.
    """
    low, high = LIMITS[robot]
    best = (np.inf, np.inf)
    for seed in seeds:
        q = np.clip(np.asarray(seed, dtype=float), low, high)
        for _ in range(iterations):
            frames = flange_frames(q)
            pose = frames[-1]
            dp = target[:3, 3] - pose[:3, 3]
            dr = _rotation_error(pose[:3, :3], target[:3, :3])
            pos_err, rot_err = float(np.linalg.norm(dp)), float(np.linalg.norm(dr))
            if pos_err < best[0] + best[1]:
                best = min(best, (pos_err, rot_err), key=sum)
            if pos_err < position_tol and rot_err < rotation_tol:
                return IkResult(q, pos_err, rot_err)
            jac = _jacobian(frames, pose[:3, 3])
            err = np.concatenate([dp, dr])
            step = jac.T @ np.linalg.solve(jac @ jac.T + 1e-4 * np.eye(6), err)
            scale = min(1.0, 0.5 / max(1e-9, np.max(np.abs(step))))
            q = np.clip(q + scale * step, low, high)
    return IkResult(None, *best)
