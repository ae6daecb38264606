"""The free-flying suction cup: its scene, its impedance and its contact with the world."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.sim.control import ImpedanceGains
from rt_grasp_ros.sim.flying import FlyingCup
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.motion import CollisionError, Tolerance
from rt_grasp_ros.transforms import Pose


def flying(spec):
    return replace(spec, config=replace(spec.config, mount="flying"))


@pytest.fixture
def cup():
    with World(flying(manip_scene(0, "drawer"))) as world:
        yield FlyingCup(world)


def test_the_flying_scene_looks_like_the_arms_and_starts_at_its_tcp():
    spec = manip_scene(3, "microwave")
    with World(spec) as arm, World(flying(spec), shared_gl=True) as fly:
        assert fly.model.nu == 0 and len(fly.arm_qpos) == 0
        np.testing.assert_allclose(fly.tcp_pose()[0], arm.tcp_pose()[0], atol=1e-9)
        np.testing.assert_allclose(fly.tcp_pose()[1], arm.tcp_pose()[1], atol=1e-9)
        a, f = arm.render(segmentation=True), fly.render(segmentation=True)
        np.testing.assert_allclose(f.depth, a.depth, atol=1e-5)
        part = lambda w, fr: w.model.geom_bodyid[np.maximum(fr.segmentation, 0)] == w.part_body  # noqa: E731
        np.testing.assert_array_equal(part(fly, f), part(arm, a))


def test_the_cup_holds_still_and_follows_its_target(cup):
    start = cup.tcp_pose()
    cup.wait(0.5)
    assert np.linalg.norm(cup.tcp_pose().position - start.position) < 1e-4  # weight carried
    goal = Pose(start.position + np.array([0.05, -0.03, 0.02]), start.rotation)
    cup.move_to(goal, settle=1.0)
    assert cup.reached(Tolerance())
    cup.wait(0.5)
    assert np.linalg.norm(cup.tcp_pose().position - goal.position) < 5e-4
    assert cup.controller.error()[1] < 1e-3


def test_a_force_moves_it_by_force_over_stiffness_like_the_arm(cup):
    stiffness = ImpedanceGains().translational
    probe = cup.probe(np.array([0.0, 1.0, 0.0]), 12.0, duration=1.5)
    assert probe.along == pytest.approx(12.0 / stiffness, rel=0.05)
    softer = cup.probe(np.array([1.0, 0.0, 0.0]), 12.0, duration=1.5, stiffness=600.0)
    assert softer.along == pytest.approx(12.0 / 600.0, rel=0.05)
    assert cup.controller.gains.translational == stiffness  # restored after the probe


def test_pressing_on_the_table_reads_the_table_pushing_back(cup):
    down = Pose.from_rotation_matrix([0.3, 0.3, 0.05], np.diag([1.0, -1.0, -1.0]))
    cup.place_at(down)
    target = down.translated([0.0, 0.0, -0.06])  # 1 cm into the table top
    cup.set_target(target)
    cup.wait(1.0)
    force = cup.wrench()[:3]
    assert force[2] == pytest.approx(ImpedanceGains().translational * 0.01, rel=0.15)
    assert np.linalg.norm(force[:2]) < 1.0


def test_a_start_inside_a_fixed_body_is_refused(cup):
    inside = Pose.from_rotation_matrix([0.3, 0.3, -0.02], np.diag([1.0, -1.0, -1.0]))
    with pytest.raises(CollisionError, match="table"):
        cup.place_at(inside)


def test_only_the_suction_tool_flies_and_only_in_a_flying_scene():
    with pytest.raises(ConfigError, match=r"SceneConfig\.mount"):
        SceneConfig(gripper="suction", mount="crane")
    with pytest.raises(ConfigError, match="suction"):
        SceneConfig(gripper="parallel", mount="flying")
    with World(manip_scene(0, "drawer")) as world:
        SimRobot(world)
        with pytest.raises(ConfigError, match="mount='flying'"):
            FlyingCup(world)
