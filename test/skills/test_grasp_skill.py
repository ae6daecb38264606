"""The grasp skill over the Motion protocol, on the simulated robot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.sim.grasps import ground_truth_grasps
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.grasp import GraspConfig, GraspFailure, Stage, Workspace, execute_grasp
from rt_grasp_ros.skills.motion import GripperError, GripperStatus, Motion, RobotTimeoutError
from rt_grasp_ros.transforms import Pose, top_down_rotation


@pytest.fixture
def setup():
    world = World(generate_scene(2, SceneConfig(n_objects=1, categories=("can",))))
    robot = SimRobot(world)
    robot.wait(0.3)
    yield world, robot, ground_truth_grasps(world, world.render())[0].target
    world.close()


def test_the_sim_robot_is_a_motion(setup):
    _, robot, _ = setup
    assert isinstance(robot, Motion)
    assert robot.wrench().shape == (6,)


def test_stages_are_reported_in_order_and_the_verdict_is_sensed(setup):
    _, robot, target = setup
    stages = []
    outcome = execute_grasp(robot, target, on_stage=stages.append)
    assert outcome.success and outcome.failure is None
    assert stages == [
        Stage.OPEN,
        Stage.PRE_GRASP,
        Stage.APPROACH,
        Stage.CLOSE,
        Stage.LIFT,
        Stage.HOLD,
    ]
    assert robot.gripper_status().grasped


def test_a_target_outside_the_workspace_is_refused_before_anything_moves(setup):
    _, robot, target = setup
    start = robot.tcp_pose().position
    box = Workspace(lower=(0.2, -0.5, 0.1), upper=(0.8, 0.5, 0.6))  # grasp below its floor
    outcome = execute_grasp(robot, target, GraspConfig(workspace=box))
    assert outcome.failure is GraspFailure.OUTSIDE_WORKSPACE and "grasp point" in outcome.message
    assert np.linalg.norm(robot.tcp_pose().position - start) < 1e-3


def test_cancellation_stops_the_motion_and_opens_the_tool(setup):
    _, robot, target = setup
    polls = {"n": 0}

    def cancelled() -> bool:
        polls["n"] += 1
        return polls["n"] > 400  # during the approach to the pre-grasp

    outcome = execute_grasp(robot, target, cancelled=cancelled)
    assert outcome.failure is GraspFailure.CANCELLED and outcome.stage is Stage.PRE_GRASP
    held = robot.tcp_pose().position
    robot.wait(0.5)
    assert np.linalg.norm(robot.tcp_pose().position - held) < 0.01  # it stays put
    assert robot.gripper_status().width > 0.07


def test_unreachable_and_wrong_tool_fail_with_their_kind(setup):
    _, robot, target = setup
    far = GraspTarget(Pose([0.79, 0.45, 0.05], top_down_rotation(0.0)), 0.04)
    assert execute_grasp(robot, far).failure is GraspFailure.UNREACHABLE
    suction = GraspTarget(target.pose, 0.0, GripperKind.SUCTION)
    outcome = execute_grasp(robot, suction)
    assert outcome.failure is GraspFailure.INVALID and "suction" in outcome.message


def test_release_opens_the_fingers_and_retreats_straight_up(setup):
    _, robot, target = setup
    stages = []
    config = GraspConfig(release=True, hold=0.3)
    outcome = execute_grasp(robot, target, config, on_stage=stages.append)
    assert outcome.success and "released" in outcome.message
    assert stages[-3:] == [Stage.HOLD, Stage.RELEASE, Stage.RETREAT]
    assert robot.gripper_status().width > 0.07 and not robot.gripper_status().grasped
    top = target.pose.position[2] + config.lift + config.pre_grasp_height
    assert robot.tcp_pose().position[2] == pytest.approx(top, abs=0.01)


class SlippingRobot(SimRobot):
    """The fingers close a little further at every look once the object is held: a slip."""

    def __init__(self, world):
        super().__init__(world)
        self.looks = 0

    def gripper_status(self) -> GripperStatus:
        status = super().gripper_status()
        if not status.grasped:
            return status
        self.looks += 1
        return GripperStatus(status.width - 0.002 * self.looks, True)


def test_fingers_closing_further_while_held_is_a_slip(setup):
    world, _, target = setup
    outcome = execute_grasp(SlippingRobot(world), target, GraspConfig(hold=1.0))
    assert outcome.failure is GraspFailure.SLIPPED and outcome.stage is Stage.HOLD
    assert "slid" in outcome.message


class BrokenGripperRobot(SimRobot):
    def close_gripper(self, width: float = 0.0, force: float = 40.0) -> None:
        raise GripperError("the gripper driver reported a fault")


class DeadClockRobot(SimRobot):
    def wait(self, seconds: float) -> None:
        if self.now() > 0.5:
            raise RobotTimeoutError("the robot's clock stood still")
        super().wait(seconds)


def test_driver_faults_end_the_grasp_with_their_kind(setup):
    world, _, target = setup
    broken = execute_grasp(BrokenGripperRobot(world), target)
    assert broken.failure is GraspFailure.GRIPPER_ERROR and broken.stage is Stage.CLOSE
    assert "fault" in broken.message
    dead = execute_grasp(DeadClockRobot(world), target)
    assert dead.failure is GraspFailure.TIMEOUT and "clock" in dead.message


@pytest.mark.parametrize(
    "field, value", [("hold", float("nan")), ("lift", float("inf")), ("max_width", 0.0)]
)
def test_a_bad_grasp_config_names_its_field(field, value):
    with pytest.raises(ConfigError, match=field):
        GraspConfig(**{field: value})


def test_a_negative_width_is_invalid(setup):
    _, robot, target = setup
    outcome = execute_grasp(robot, GraspTarget(target.pose, -0.01, GripperKind.PARALLEL))
    assert outcome.failure is GraspFailure.INVALID and "width" in outcome.message


def test_closing_beside_the_object_is_not_grasped(setup):
    _, robot, target = setup
    beside = GraspTarget(target.pose.translated([0.0, 0.15, 0.0]), target.width)
    outcome = execute_grasp(robot, beside)
    assert outcome.failure is GraspFailure.NOT_GRASPED and outcome.stage is Stage.LIFT


class LosingRobot(SimRobot):
    """The object is lost a few looks into the hold."""

    def __init__(self, world):
        super().__init__(world)
        self.looks = 0

    def gripper_status(self) -> GripperStatus:
        status = super().gripper_status()
        self.looks += status.grasped
        return GripperStatus(status.width, status.grasped and self.looks < 3)


def test_losing_the_object_while_holding_it_is_dropped(setup):
    world, _, target = setup
    outcome = execute_grasp(LosingRobot(world), target)
    assert outcome.failure is GraspFailure.DROPPED and outcome.stage is Stage.HOLD


def test_a_grasp_into_the_table_is_a_collision(setup):
    _, robot, target = setup
    deep = GraspTarget(target.pose.translated([0.0, 0.0, -target.pose.position[2] - 0.05]), 0.04)
    low = Workspace(lower=(0.2, -0.5, -0.3), upper=(0.8, 0.5, 0.6))
    outcome = execute_grasp(robot, deep, GraspConfig(workspace=low))
    assert outcome.failure is GraspFailure.COLLISION, outcome.message


def test_suction_beside_the_object_is_no_contact():
    config = SceneConfig(n_objects=1, categories=("box",), gripper="suction")
    world = World(generate_scene(2, config))
    try:
        robot = SimRobot(world)
        robot.wait(0.3)
        target = ground_truth_grasps(world, world.render())[0].target
        beside = GraspTarget(target.pose.translated([0.0, 0.18, 0.0]), 0.0, GripperKind.SUCTION)
        outcome = execute_grasp(robot, beside)
        assert outcome.failure is GraspFailure.NO_CONTACT, outcome.message
    finally:
        world.close()


class RecordingRobot(SimRobot):
    def __init__(self, world):
        super().__init__(world)
        self.closes = []

    def close_gripper(self, width: float = 0.0, force: float = 40.0) -> None:
        self.closes.append((width, force))
        super().close_gripper(width, force)


def test_the_close_command_expects_the_grasp_width_within_the_hand(setup):
    world, _, target = setup
    for width, expected in ((0.03, 0.03), (0.12, 0.08)):
        robot = RecordingRobot(world)
        execute_grasp(robot, GraspTarget(target.pose, width), GraspConfig(hold=0.1))
        assert robot.closes == [(expected, 40.0)]
        robot.open_gripper()
        robot.wait(0.5)
