"""Angle conventions shared by every grasp representation.

A planar grasp angle is the direction of the gripper's opening (closing) axis, measured
counter-clockwise *on screen* from the image +x axis. Because image rows grow downwards, the
unit vector of angle ``theta`` in pixel coordinates is ``(cos theta, -sin theta)``. A parallel
gripper is symmetric, so angles are equal modulo pi and live in ``[-pi/2, pi/2)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

HALF_PI = np.pi / 2


def wrap_angle(theta: ArrayLike) -> np.ndarray | float:
    """Wrap an angle (or array of angles) in radians into ``[-pi/2, pi/2)`` modulo pi."""
    wrapped = np.mod(np.asarray(theta, dtype=np.float64) + HALF_PI, np.pi) - HALF_PI
    # np.mod can return exactly pi for tiny negative inputs; fold that back.
    wrapped = np.where(wrapped >= HALF_PI, wrapped - np.pi, wrapped)
    return float(wrapped) if wrapped.ndim == 0 else wrapped


def angle_difference(a: ArrayLike, b: ArrayLike) -> np.ndarray | float:
    """Smallest difference between two grasp angles modulo pi, in ``[0, pi/2]``."""
    return np.abs(wrap_angle(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def direction(theta: ArrayLike) -> np.ndarray:
    """Unit vector(s) of grasp angle ``theta`` in pixel coordinates (x right, y down)."""
    theta = np.asarray(theta, dtype=np.float64)
    return np.stack([np.cos(theta), -np.sin(theta)], axis=-1)
