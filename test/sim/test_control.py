from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.control import ImpedanceGains
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.motion import CollisionError, UnreachableError
from rt_grasp_ros.transforms import Pose, top_down_rotation


@pytest.fixture
def robot():
    world = World(generate_scene(0, SceneConfig(n_objects=0)))
    yield SimRobot(world, ImpedanceGains(translational=500.0, rotational=60.0))
    world.close()


@pytest.mark.parametrize("direction", [(1, 0, 0), (0, 1, 0), (0, 0, -1), (0.6, -0.8, 0)])
def test_displacement_under_an_external_force_matches_the_stiffness(robot, direction):
    """A 10 N push on the tool centre point against 500 N/m moves it 20 mm."""
    world = robot.world
    mj = world.mj
    force = 10.0 * np.asarray(direction, float) / np.linalg.norm(direction)
    start, _ = world.tcp_pose()
    hand = world.model.site_bodyid[world.tcp_site]
    for _ in range(int(2.0 / world.model.opt.timestep)):
        world.data.qfrc_applied[:] = 0
        tcp, _ = world.tcp_pose()
        mj.mj_applyFT(
            world.model, world.data, force, np.zeros(3), tcp, hand, world.data.qfrc_applied
        )
        robot.step()
    moved = world.tcp_pose()[0] - start
    np.testing.assert_allclose(moved, force / 500.0, atol=0.05 * 0.02)


def test_probe_in_free_space_moves_force_over_stiffness(robot):
    result = robot.probe([0, 1, 0], force=15.0, duration=1.5, stiffness=300.0)
    assert result.along == pytest.approx(0.05, rel=0.05)
    assert np.linalg.norm(result.displacement - result.along * result.direction) < 0.002


def test_move_to_reaches_a_pose_and_reports_the_error(robot):
    target = np.array([0.5, 0.1, 0.2])
    result = robot.move_to(Pose(target, top_down_rotation(-1.2)))
    assert result.reached and result.position_error < 0.004
    pos, rot = robot.world.tcp_pose()
    assert np.linalg.norm(pos - target) < 0.004
    np.testing.assert_allclose(rot[:, 2], [0, 0, -1], atol=0.03)


def test_unreachable_and_colliding_targets_fail_clearly(robot):
    with pytest.raises(UnreachableError, match="out of reach"):
        robot.move_to(Pose([1.4, 0.0, 0.3], top_down_rotation(0.0)))
    with pytest.raises(CollisionError, match="table"):
        robot.move_to(Pose([0.5, 0.0, -0.03], top_down_rotation(0.0)))
    # Nothing moved: the checks run before the motion.
    assert np.linalg.norm(robot.world.tcp_pose()[0] - [0.3069, 0, 0.4869]) < 1e-3


def test_gripper_opens_closes_and_limits_its_force(robot):
    assert robot.gripper_state().width == pytest.approx(0.08, abs=1e-3)
    robot.close_gripper(0.0, force=30.0)
    robot.wait(1.0)
    state = robot.gripper_state()
    assert state.width < 0.002 and state.holding is None
    assert not robot.gripper_status().grasped  # closed on nothing
    robot.open_gripper()
    robot.wait(1.0)
    assert robot.gripper_state().width == pytest.approx(0.08, abs=2e-3)
    with pytest.raises(ConfigError, match="continuous force"):
        robot.gripper.grasp(100.0)


def test_gains_are_validated():
    with pytest.raises(ConfigError, match="translational"):
        ImpedanceGains(translational=-1.0)
