"""The policy over the Motion protocol, on a quasi-static mechanism model (no simulator)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.manip.aia import (
    STOP_DISTANCE,
    STOP_FORCE,
    AIAConfig,
    active_impedance_adaptation,
    perturbations,
    straight_pull,
)
from rt_grasp_ros.skills.motion import GripperStatus, Motion, stream
from rt_grasp_ros.transforms import Pose


class SealedMechanism:
    """A suction cup sealed to a door (hinge on the z axis) or a drawer, under impedance.

    Quasi-static: the part turns (slides) towards the point of its path nearest the target,
    at a limited speed; the seal carries the spring force K * (target - tool) that the
    mechanism does not give way to, and breaks above ``f_break``.
    """

    gripper_kind = GripperKind.SUCTION

    def __init__(self, hinge: bool, r: float = 0.2, k: float = 1200.0, f_break: float = 25.0):
        self.hinge, self.r, self.k, self.f_break = hinge, r, k, f_break
        self.q, self.t, self.sealed = 0.0, 0.0, True
        self.targets: list[np.ndarray] = []
        self.target = Pose(self.point(0.0), Rotation.from_euler("y", math.pi / 2))

    @property
    def control_period(self) -> float:
        return 0.01

    def point(self, q: float) -> np.ndarray:
        if self.hinge:
            return self.r * np.array([-math.sin(q), math.cos(q), 0.0])
        return np.array([-q, self.r, 0.0])

    def nearest(self, p: np.ndarray) -> float:
        q = math.atan2(-p[0], p[1]) if self.hinge else -p[0]
        return float(np.clip(q, 0.0, 1.6 if self.hinge else 0.3))

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float) -> None:
        for _ in range(max(1, round(seconds / 0.01))):
            self.t += 0.01
            if not self.sealed:
                continue
            goal = self.nearest(self.target.position)
            self.q += float(np.clip(goal - self.q, -0.02, 0.02))
            load = self.k * np.linalg.norm(self.target.position - self.point(self.q))
            self.sealed = load <= self.f_break

    def tcp_pose(self) -> Pose:
        p = self.point(self.q) if self.sealed else self.target.position
        return Pose(p, self.target.rotation)

    def target_pose(self) -> Pose:
        return self.target

    def set_target(self, pose: Pose) -> None:
        self.target = pose
        self.targets.append(pose.position.copy())

    def follow(self, path, cancelled=None) -> None:
        stream(self, path, cancelled)

    def wrench(self) -> np.ndarray:
        if not self.sealed:
            return np.zeros(6)
        pull = self.k * (self.target.position - self.point(self.q))
        return np.concatenate([pull, np.zeros(3)])

    def check_target(self, pose: Pose) -> None:
        pass

    def reached(self, tolerance) -> bool:
        return np.linalg.norm(self.tcp_pose().position - self.target.position) < 1e-3

    def open_gripper(self) -> None:
        self.sealed = False

    def close_gripper(self, width: float = 0.0, force: float = 0.0) -> None:
        pass

    def gripper_status(self) -> GripperStatus:
        return GripperStatus(0.0, self.sealed, True)


def test_the_fake_mechanism_is_a_motion():
    assert isinstance(SealedMechanism(True), Motion)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="epsilon1"):
        AIAConfig(epsilon1=1.2)
    with pytest.raises(ConfigError, match="n_perturbations"):
        AIAConfig(n_perturbations=0)
    with pytest.raises(ConfigError, match="epsilon2"):
        AIAConfig(epsilon2=-1)
    with pytest.raises(ConfigError, match="step_length"):
        AIAConfig(step_length=0)
    with pytest.raises(ConfigError, match="settle"):
        AIAConfig(settle=-0.1)


def test_perturbations_stay_within_epsilon1_of_the_direction():
    d = np.array([0.0, 0.0, 1.0])
    dirs = perturbations(d, 50, 0.3, np.random.default_rng(0))
    assert len(dirs) == 51 and np.array_equal(dirs[0], d)
    assert all(np.linalg.norm(v) == pytest.approx(1) for v in dirs)
    # |(d + zeta) / |d + zeta| - d| <= asin(eps1) bounds the turn.
    assert max(math.acos(v @ d) for v in dirs) < math.asin(0.3) + 1e-9
    assert min(math.acos(v @ d) for v in dirs[1:]) > 0


def test_a_probe_is_a_target_offset_of_force_over_stiffness():
    m = SealedMechanism(True)
    config = AIAConfig(epsilon2=12.0, stiffness=1200.0, max_steps=1)
    start = m.tcp_pose().position
    active_impedance_adaptation(m, np.array([-1.0, 0, 0]), config)
    offsets = [np.linalg.norm(t - start) for t in m.targets[:3]]
    assert max(offsets) == pytest.approx(0.01, rel=1e-6)  # 12 N / 1200 N/m


def test_aia_follows_a_door_that_a_straight_pull_cannot():
    config = AIAConfig(target_distance=0.15)
    aia_door = SealedMechanism(True)
    result = active_impedance_adaptation(
        aia_door, np.array([-1.0, 0, 0]), config, np.random.default_rng(0)
    )
    straight_door = SealedMechanism(True)
    baseline = straight_pull(straight_door, np.array([-1.0, 0, 0]), config)
    assert baseline.stop == STOP_FORCE and straight_door.sealed  # stopped, still holding
    assert result.stop == STOP_DISTANCE
    assert aia_door.q > straight_door.q + 0.2, (aia_door.q, straight_door.q)
    assert aia_door.q > 0.6


def test_on_a_drawer_both_pull_the_full_distance():
    config = AIAConfig(target_distance=0.15)
    a, s = SealedMechanism(False), SealedMechanism(False)
    active_impedance_adaptation(a, np.array([-1.0, 0, 0]), config, np.random.default_rng(1))
    straight_pull(s, np.array([-1.0, 0, 0]), config)
    assert s.q == pytest.approx(0.15, abs=0.005)
    assert a.q >= s.q - 0.005
