"""A consensus grasp from several sampled answers, and how much they agree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.grasp.angles import wrap_angle
from rt_grasp_ros.grasp.pose import GraspPose


@dataclass(frozen=True)
class Consensus:
    """The consensus pose of k samples.

    Attributes:
        pose: median centre and circular-mean angle (angles are axial: equal modulo pi).
        x_std, y_std: spread of the centres (normalised units).
        theta_std_deg: circular standard deviation of the angles, in degrees.
        agreement: mean resultant length of the doubled angles, in [0, 1] (1 = all equal).
        nearest: index of the sample closest to the consensus (its reasoning is reported).
    """

    pose: GraspPose
    x_std: float
    y_std: float
    theta_std_deg: float
    agreement: float
    nearest: int


def consensus(poses: Sequence[GraspPose]) -> Consensus:
    """Combine poses: medians for x and y, the axial circular mean for theta."""
    if not poses:
        raise ValueError("consensus needs at least one pose")
    xy = np.array([[p.x, p.y] for p in poses])
    doubled = 2 * np.array([p.theta for p in poses])
    c, s = np.cos(doubled).mean(), np.sin(doubled).mean()
    agreement = float(math.hypot(c, s))
    theta = float(wrap_angle(math.atan2(s, c) / 2))
    x, y = np.median(xy, axis=0)
    spread = math.degrees(math.sqrt(max(-2 * math.log(max(agreement, 1e-12)), 0.0)) / 2)
    pose = GraspPose(float(x), float(y), theta)
    distance = (
        np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        + np.abs([wrap_angle(p.theta - theta) for p in poses]) / math.pi
    )
    return Consensus(
        pose,
        float(xy[:, 0].std()),
        float(xy[:, 1].std()),
        spread,
        agreement,
        int(np.argmin(distance)),
    )
