from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.sim.affordance import affordance_map
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.transforms import Pose


def grasp_handle(kind: str, seed: int = 0):
    world = World(generate_scene(seed, SceneConfig(n_objects=0, articulated=kind)))
    robot = SimRobot(world)
    robot.run(0.2)
    spec = world.spec.articulated
    rot = np.array(spec.grasp_rotation)
    handle = np.array(spec.handle_center)
    robot.move_to(Pose.from_rotation_matrix(handle - 0.08 * rot[:, 2], rot))
    robot.move_to(Pose.from_rotation_matrix(handle, rot), settle=0.5)
    robot.close_gripper(0.0, 40.0)
    robot.wait(0.8)
    state = robot.gripper_state()
    assert state.holding == spec.moving_body, f"the hand does not hold the {kind} handle"
    return world, robot


@pytest.mark.parametrize(("kind", "opened"), [("drawer", 0.02), ("door", 0.1), ("lid", 0.1)])
def test_pull_along_the_free_axis_opens_and_a_blocked_push_does_not(kind, opened):
    world, robot = grasp_handle(kind)
    spec = world.spec.articulated
    assert world.part_position() == pytest.approx(0.0, abs=2e-3)
    free = spec.opening_direction(world.part_position())
    blocked = (
        np.cross(free, spec.axis) if spec.joint_type == "hinge" else np.array([0.0, 1.0, 0.0])
    )
    blocked /= np.linalg.norm(blocked)
    if kind == "lid":
        blocked = np.array(spec.axis)  # along the hinge
    push = robot.probe(blocked, 15.0, 0.6, stiffness=300.0)
    after_push = world.part_position()
    pull = robot.probe(free, 15.0, 0.6, stiffness=300.0)
    after_pull = world.part_position()
    world.close()
    assert abs(after_push) < opened / 5, f"{kind} moved {after_push:.3f} under a blocked push"
    assert after_pull - after_push > opened, f"{kind} opened only {after_pull - after_push:.3f}"
    assert pull.along > 4 * abs(push.along)


def test_affordance_of_a_drawer_is_uniform_and_along_its_axis():
    world = World(generate_scene(1, SceneConfig(n_objects=0, articulated="drawer")))
    amap = affordance_map(world, world.render(segmentation=True))
    world.close()
    assert amap.movable.sum() > 1000
    np.testing.assert_allclose(amap.magnitude[amap.movable], 1.0)
    assert (amap.magnitude[~amap.movable] == 0).all()
    directions = amap.direction[amap.movable]
    np.testing.assert_allclose(
        directions, np.broadcast_to([-1.0, 0.0, 0.0], directions.shape), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["door", "lid"])
def test_affordance_of_a_hinged_part_grows_away_from_its_axis(kind):
    world = World(generate_scene(2, SceneConfig(n_objects=0, articulated=kind)))
    frame = world.render(segmentation=True)
    amap = affordance_map(world, frame)
    spec = world.spec.articulated
    rows, cols = np.nonzero(amap.movable)
    points = frame.camera.back_project(
        np.column_stack([cols + 0.5, rows + 0.5]), frame.depth[rows, cols]
    )
    axis = np.array(spec.axis)
    rel = points - np.array(spec.anchor)
    distance = np.linalg.norm(rel - np.outer(rel @ axis, axis), axis=1)
    world.close()
    # Magnitude grows with the distance from the hinge, normalised to [0, 1] over the part.
    expected = (distance - distance.min()) / (distance.max() - distance.min())
    np.testing.assert_allclose(amap.magnitude[rows, cols], expected, atol=1e-4)
    assert amap.magnitude.max() == pytest.approx(1.0)
    directions = amap.direction[rows, cols]
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        directions @ axis, 0.0, atol=1e-5
    )  # motion is perpendicular to the axis
    pos, neg = amap.sample(20, np.random.default_rng(0))
    assert len(pos) == 20 and len(neg) == 20
    assert (amap.magnitude[pos[:, 1].astype(int), pos[:, 0].astype(int)] > 0.8).all()


def test_affordance_needs_an_articulated_scene_and_segmentation():
    world = World(generate_scene(0, SceneConfig(n_objects=1)))
    with pytest.raises(RtGraspError, match="articulated"):
        affordance_map(world, world.render(segmentation=True))
    world.close()
    world = World(generate_scene(0, SceneConfig(n_objects=0, articulated="door")))
    with pytest.raises(RtGraspError, match="segmentation"):
        affordance_map(world, world.render())
    world.close()
