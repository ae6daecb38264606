"""The Franka Emika Panda, described once from its published parameters.

Kinematics: Franka's modified (Craig) Denavit-Hartenberg table. Inertials: the feasible
identified parameters of Gaz et al., "Dynamic Identification of the Franka Emika Panda Robot
With Retrieval of Feasible Parameters Using Penalty-Based Optimization", IEEE RA-L 2019, as
published in franka_description. Limits: Franka's datasheet. Collision and visual geometry are
capsules along the kinematic chain, so that the model renders fast on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DHRow:
    """Modified DH parameters of joint i: ``a`` and ``alpha`` of link i-1, ``d`` of joint i."""

    a: float
    d: float
    alpha: float


# Franka's table: rows are (a_{i-1}, d_i, alpha_{i-1}); theta_i is the joint angle.
DH = (
    DHRow(0.0, 0.333, 0.0),
    DHRow(0.0, 0.0, -np.pi / 2),
    DHRow(0.0, 0.316, np.pi / 2),
    DHRow(0.0825, 0.0, np.pi / 2),
    DHRow(-0.0825, 0.384, -np.pi / 2),
    DHRow(0.0, 0.0, np.pi / 2),
    DHRow(0.088, 0.0, np.pi / 2),
)
FLANGE = DHRow(0.0, 0.107, 0.0)
# One joint naming for the MuJoCo model, the URDF and /joint_states (franka_description's).
ARM_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")  # left (+y), right (-y)
HAND_YAW = -np.pi / 4  # the Franka Hand is mounted turned by -45 degrees about the flange z

Q_MIN = np.array([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973])
Q_MAX = np.array([2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973])
DQ_MAX = np.array([2.1750, 2.1750, 2.1750, 2.1750, 2.6100, 2.6100, 2.6100])
TAU_MAX = np.array([87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0])
Q_READY = np.array([0.0, -np.pi / 4, 0.0, -3 * np.pi / 4, 0.0, np.pi / 2, np.pi / 4])


@dataclass(frozen=True)
class Inertial:
    """Mass (kg), centre of mass (m) and inertia about it (kg m^2) in the link frame.

    ``inertia`` is ``(ixx, iyy, izz, ixy, ixz, iyz)`` (MuJoCo's ``fullinertia`` order).
    """

    mass: float
    com: tuple[float, float, float]
    inertia: tuple[float, float, float, float, float, float]


LINK_INERTIALS = (
    Inertial(
        0.629769,
        (-0.041018, -0.00014, 0.049974),
        (0.00315, 0.00388, 0.004285, 8.2904e-7, 1.5e-4, 8.2299e-6),
    ),
    Inertial(
        4.970684,
        (0.003875, 0.002081, -0.04762),
        (0.70337, 0.70661, 0.009117, -1.39e-4, 6.772e-3, 0.019169),
    ),
    Inertial(
        0.646926,
        (-0.003141, -0.02872, 0.003495),
        (0.007962, 0.02811, 0.025995, -3.925e-3, 0.010254, 7.04e-4),
    ),
    Inertial(
        3.228604,
        (0.027518, 0.039252, -0.066502),
        (0.037242, 0.036155, 0.01083, -4.761e-3, -0.011396, -0.012805),
    ),
    Inertial(
        3.587895,
        (-0.05317, 0.104419, 0.027454),
        (0.025853, 0.019552, 0.028323, 7.796e-3, -1.332e-3, 8.641e-3),
    ),
    Inertial(
        1.225946,
        (-0.011953, 0.041065, -0.038437),
        (0.035549, 0.029474, 0.008627, -2.117e-3, -4.037e-3, 2.29e-4),
    ),
    Inertial(
        1.666555,
        (0.060149, -0.014117, -0.010517),
        (0.001964, 0.004354, 0.005433, 1.09e-4, -1.158e-3, 3.41e-4),
    ),
    Inertial(
        0.735522,
        (0.010517, -0.004252, 0.061597),
        (0.012516, 0.010027, 0.004815, -4.28e-4, -1.196e-3, -7.41e-4),
    ),
)


@dataclass(frozen=True)
class Capsule:
    """A capsule from ``start`` to ``end`` (link frame, metres) of ``radius``."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    radius: float


# Simple geometry following the real links: segments between joint axes, in link frames.
LINK_CAPSULES: tuple[tuple[Capsule, ...], ...] = (
    (Capsule((-0.04, 0.0, 0.03), (0.0, 0.0, 0.14), 0.07),),  # link0: base
    (Capsule((0.0, 0.0, -0.19), (0.0, 0.0, -0.02), 0.065),),  # link1: shoulder
    (
        Capsule((0.0, 0.0, -0.06), (0.0, 0.0, 0.06), 0.06),
        Capsule((0.0, 0.0, 0.0), (0.0, -0.14, 0.0), 0.06),
    ),
    (
        Capsule((0.0, 0.0, -0.14), (0.0, 0.0, -0.02), 0.06),
        Capsule((0.0, 0.0, 0.0), (0.0825, 0.0, 0.0), 0.055),
    ),
    (
        Capsule((0.0, 0.0, -0.06), (0.0, 0.0, 0.06), 0.055),
        Capsule((0.0, 0.0, 0.0), (-0.0825, 0.12, 0.0), 0.055),
    ),
    (
        Capsule((0.0, 0.0, -0.25), (0.0, 0.0, -0.02), 0.055),
        Capsule((0.0, 0.06, -0.24), (0.0, 0.07, -0.12), 0.035),
    ),
    (
        Capsule((0.0, 0.0, -0.04), (0.0, 0.0, 0.04), 0.05),
        Capsule((0.0, 0.0, 0.0), (0.088, 0.0, 0.0), 0.045),
    ),
    (Capsule((0.0, 0.0, -0.04), (0.0, 0.0, 0.08), 0.045),),  # link7: wrist and flange
)


def dh_transform(row: DHRow, theta: float) -> np.ndarray:
    """Transform of link i in link i-1: ``RotX(alpha) TransX(a) RotZ(theta) TransZ(d)``."""
    ca, sa = np.cos(row.alpha), np.sin(row.alpha)
    ct, st = np.cos(theta), np.sin(theta)
    return np.array(
        [
            [ct, -st, 0.0, row.a],
            [st * ca, ct * ca, -sa, -row.d * sa],
            [st * sa, ct * sa, ca, row.d * ca],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


def link_offset(row: DHRow) -> tuple[np.ndarray, np.ndarray]:
    """Position and quaternion (w, x, y, z) of link i in link i-1 at zero joint angle."""
    pos = np.array([row.a, -row.d * np.sin(row.alpha), row.d * np.cos(row.alpha)])
    quat = np.array([np.cos(row.alpha / 2), np.sin(row.alpha / 2), 0.0, 0.0])
    return pos, quat


def forward_kinematics(q: np.ndarray, tcp_offset: float = 0.0) -> list[np.ndarray]:
    """Link frames 1..7, the flange, and the tool frame ``tcp_offset`` beyond the flange.

    Returns 9 homogeneous transforms in the base frame; the last is the tool centre point,
    including the hand's -45 degree mounting yaw.
    """
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (7,):
        raise ValueError(f"expected 7 joint angles, got shape {q.shape}")
    frames, t = [], np.eye(4)
    for row, theta in zip(DH, q, strict=True):
        t = t @ dh_transform(row, theta)
        frames.append(t)
    t = t @ dh_transform(FLANGE, 0.0)
    frames.append(t)
    tool = t @ dh_transform(DHRow(0.0, tcp_offset, 0.0), HAND_YAW)
    frames.append(tool)
    return frames
