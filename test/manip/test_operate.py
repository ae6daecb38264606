"""Operating a contact over Motion (manip/operate.py): limits, roll, the sequence on SimRobot."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.operate import (
    CANCELLED,
    FAILURES,
    TRIAL_FAILURES,
    Contact,
    ContactOperation,
    OperateConfig,
    check_contact,
    nearest_roll,
    trial_label,
    with_limits,
)
from rt_grasp_ros.manip.trial import INITIAL_DELTA
from rt_grasp_ros.skills.motion import CancelledError
from rt_grasp_ros.transforms import Pose

UP = np.array([1.0, 0.0, 0.0])


def contact_at(position, roll_deg=0.0):
    base = Rotation.from_matrix(np.column_stack([[0, 0, -1.0], np.cross(UP, [0, 0, -1.0]), UP]))
    turn = Rotation.from_rotvec(math.radians(roll_deg) * UP)
    return Contact(Pose(np.asarray(position, float), turn * base), UP)


def test_limits_of_zero_keep_the_config_and_others_replace_it():
    config = OperateConfig()
    assert with_limits(config, target_distance=0.0, max_steps=0) == config
    changed = with_limits(config, target_distance=0.2, max_steps=20.0, n_perturbations=3)
    aia = changed.pull.aia
    assert (aia.target_distance, aia.max_steps, aia.n_perturbations) == (0.2, 20, 3)
    assert isinstance(aia.max_steps, int)


@pytest.mark.parametrize(
    "limits, words",
    [
        ({"epsilon1": 1.5}, "epsilon1"),
        ({"target_distance": math.nan}, "target_distance"),
        ({"target_distance": math.inf}, "target_distance"),
        ({"step_length": -0.01}, "step_length"),
        ({"epsilon2": 25.0}, "max_force"),
        ({"max_steps": 1000}, "max_steps"),
    ],
)
def test_a_limit_out_of_range_names_itself(limits, words):
    with pytest.raises(ConfigError, match=words):
        with_limits(OperateConfig(), **limits)


def test_a_contact_outside_the_workspace_is_refused():
    assert check_contact(contact_at([0.55, 0.0, 0.2]), OperateConfig()) is None
    assert "outside the workspace" in check_contact(contact_at([2.0, 0.0, 0.2]), OperateConfig())
    with pytest.raises(RtGraspError, match="finite"):
        Contact(contact_at([0.55, 0.0, 0.2]).pose, [math.nan, 0.0, 1.0])


@pytest.mark.parametrize(
    "failure, trial",
    [
        ("", True),  # succeeded
        ("stalled", True),
        ("step_limit", True),
        ("lost_contact", True),
        ("no_seal", True),
        ("force_limit", True),
        ("cancelled", False),
        ("timeout", False),
        ("unreachable", False),
        ("gripper_error", False),
    ],
)
def test_a_goal_that_operated_on_the_part_is_a_trial_labelled_by_its_travel(failure, trial):
    for distance, moved in ((0.0, False), (INITIAL_DELTA, False), (0.0101, True), (0.3, True)):
        label = trial_label(failure, distance, "s3")
        assert label.trial is trial, (failure, label)
        if trial:
            assert label.moved is moved and label.reason == "", (failure, distance, label)
        else:
            assert not label.moved and f"failure {failure!r} did not operate" in label.reason


def test_only_a_planned_contact_is_adapted_and_every_failure_is_classified():
    # the oracle's contact has no session: no planner to adapt
    label = trial_label("", 0.2, "")
    assert not label.trial and "no session_id" in label.reason
    assert not trial_label("bogus", 0.2, "s1").trial
    assert "is no known failure" in trial_label("bogus", 0.2, "s1").reason
    assert set(TRIAL_FAILURES) < set(FAILURES)
    assert not trial_label("no_seal", math.nan, "s1").moved  # no travel to speak of


def test_the_cup_turns_about_up_to_the_tools_roll():
    contact = contact_at([0.55, 0.0, 0.2], roll_deg=70.0)
    tool = contact_at([0.3, 0.0, 0.5], roll_deg=-20.0).pose.rotation
    turned = nearest_roll(contact, tool)
    r = turned.rotation_matrix
    assert np.allclose(r[:, 2], UP)  # still the approach axis
    assert np.allclose(r[:, 0], tool.as_matrix()[:, 0], atol=1e-9)
    assert np.allclose(turned.position, contact.pose.position)


@pytest.fixture
def drawer():
    pytest.importorskip("mujoco")
    from rt_grasp_ros.manip.policies import oracle_policy
    from rt_grasp_ros.manip.scene import manip_scene
    from rt_grasp_ros.sim.robot import SimRobot
    from rt_grasp_ros.sim.world import World

    with World(manip_scene(1_000_000, "drawer")) as world:
        robot = SimRobot(world)
        robot.wait(0.3)
        frame = world.render(segmentation=True)
        c = oracle_policy(world, np.random.default_rng(0))(frame, "")
        yield world, robot, Contact(c.tcp_pose(frame), c.up_base(frame.camera))


@pytest.mark.slow
def test_a_drawer_opens_from_the_arms_home_pose_with_feedback_per_step(drawer):
    world, robot, contact = drawer
    stages = []
    outcome = ContactOperation(
        robot, contact, feedback=lambda s, p: stages.append((s, p.steps))
    ).run()
    assert outcome.success and outcome.failure == "", outcome.message
    assert world.part_position() > 0.1
    assert stages[:3] == [("approach", 0), ("seal", 0), ("pull", 0)]
    assert [n for s, n in stages if s == "pull"][1:] == list(range(1, outcome.steps + 1))


@pytest.mark.slow
def test_a_cancel_mid_pull_releases_the_vacuum_and_backs_off(drawer):
    _, robot, contact = drawer
    steps = []
    op = ContactOperation(robot, contact, feedback=lambda s, p: steps.append(p.steps))
    with pytest.raises(CancelledError):
        op.run(cancelled=lambda: steps[-1] >= 2)
    held = robot.tcp_pose().position
    outcome = op.abandon()
    assert outcome.failure == CANCELLED and outcome.steps == 2
    status = robot.gripper_status()
    assert not status.vacuum and not status.grasped
    backed = (held - robot.tcp_pose().position) @ contact.up
    assert backed > 0.03, backed  # moved back along -up (retreat 0.05 m)
