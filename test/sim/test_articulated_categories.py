"""Every articulated category: generated from a seed, opens along its free motion only, its
joint readout matches the part's pose, and its affordance map (ManipLLM Eq. 1) is right."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.sim.affordance import affordance_map
from rt_grasp_ros.sim.articulated import (
    ARTICULATED,
    CATEGORIES,
    TEST_CATEGORIES,
    TRAIN_CATEGORIES,
    make_articulated,
)
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World


def test_at_least_twelve_categories_split_into_train_and_test():
    assert len(ARTICULATED) >= 12
    assert len(TRAIN_CATEGORIES) >= 8 and len(TEST_CATEGORIES) >= 4
    assert not set(TRAIN_CATEGORIES) & set(TEST_CATEGORIES)
    assert set(TRAIN_CATEGORIES) | set(TEST_CATEGORIES) == set(ARTICULATED)
    for split in (TRAIN_CATEGORIES, TEST_CATEGORIES):
        kinds = {CATEGORIES[c].joint_type for c in split}
        assert kinds == {"slide", "hinge"}, "both splits hold prismatic and revolute parts"


@pytest.mark.parametrize("kind", ARTICULATED)
def test_generated_from_a_seed_with_random_sizes_and_materials(kind):
    a = make_articulated(kind, np.random.default_rng(3))
    assert a == make_articulated(kind, np.random.default_rng(3))
    others = [make_articulated(kind, np.random.default_rng(s)) for s in range(4, 8)]
    assert len({o.half_extent for o in others}) > 1
    assert len({o.materials for o in others}) > 1
    assert a.kind == kind and a.joint_type == CATEGORIES[kind].joint_type


def _pull(world: World, robot: SimRobot, direction, seconds: float, force: float = 8.0) -> float:
    """Push the part at its suction point with ``force`` N along ``direction(q)``; its q."""
    spec = world.spec.articulated
    local = _local_point(world, np.asarray(spec.suction_point))
    for _ in range(round(seconds / 0.02)):
        pos, rot = world.data.xpos[world.part_body], world.data.xmat[world.part_body]
        point = pos + rot.reshape(3, 3) @ local
        f = force * np.asarray(direction(world.part_position()), float)
        com = world.data.xipos[world.part_body]
        world.data.xfrc_applied[world.part_body] = np.concatenate([f, np.cross(point - com, f)])
        robot.step(10)
    world.data.xfrc_applied[world.part_body] = 0.0
    return world.part_position()


def _local_point(world: World, point: np.ndarray) -> np.ndarray:
    pos, rot = world.data.xpos[world.part_body], world.data.xmat[world.part_body].reshape(3, 3)
    return rot.T @ (point - pos)


def _expected_point(spec, q: float, point: np.ndarray) -> np.ndarray:
    axis = np.asarray(spec.axis, float)
    if spec.joint_type == "slide":
        return point + q * axis
    return Rotation.from_rotvec(q * axis).apply(point - spec.anchor) + spec.anchor


@pytest.mark.parametrize("kind", ARTICULATED)
def test_a_pull_along_the_free_motion_opens_and_a_blocked_push_does_not(kind):
    with World(manip_scene(0, kind)) as world:
        robot = SimRobot(world)
        robot.wait(0.2)
        spec = world.spec.articulated
        q0 = world.part_position()
        point = np.asarray(spec.suction_point, float)
        local = _local_point(world, _expected_point(spec, q0, point))
        axis = np.asarray(spec.axis, float)
        side = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
        blocked = axis if spec.joint_type == "hinge" else side / np.linalg.norm(side)
        after_blocked = _pull(world, robot, lambda q: blocked, 0.3)
        after_close = _pull(world, robot, lambda q: -spec.opening_direction(q), 0.3)
        opened = _pull(world, robot, spec.opening_direction, 0.6)
        pos, rot = world.data.xpos[world.part_body], world.data.xmat[world.part_body]
        seen = pos + rot.reshape(3, 3) @ local
    assert abs(after_blocked - q0) < 0.005, f"{kind} moved under a push along a blocked axis"
    assert after_close < q0 + 0.005, f"{kind} opened when pushed closed"
    assert opened - q0 > 0.05, f"{kind} opened only {opened - q0:.3f}"
    # The joint readout places the part where it is: the suction point moved with q.
    np.testing.assert_allclose(seen, _expected_point(spec, opened, point), atol=2e-3)


@pytest.mark.parametrize("kind", ARTICULATED)
def test_affordance_is_uniform_on_a_prismatic_part_and_grows_away_from_a_hinge(kind):
    with World(manip_scene(1, kind)) as world:
        frame = world.render(segmentation=True)
        amap = affordance_map(world, frame)
        spec = world.spec.articulated
    rows, cols = np.nonzero(amap.movable)
    assert len(rows) > 300, f"{kind}: the moving part is hardly in view ({len(rows)} px)"
    assert (amap.magnitude[~amap.movable] == 0).all()
    values = amap.magnitude[rows, cols]
    if spec.joint_type == "slide":
        np.testing.assert_allclose(values, 1.0)
        np.testing.assert_allclose(amap.direction[rows, cols] @ spec.axis, 1.0, atol=1e-5)
        return
    points = frame.camera.back_project(
        np.column_stack([cols + 0.5, rows + 0.5]), frame.depth[rows, cols]
    )
    axis = np.asarray(spec.axis, float)
    rel = points - np.asarray(spec.anchor)
    dist = np.linalg.norm(rel - np.outer(rel @ axis, axis), axis=1)
    # Eq. 1: the displacement under a small turn, normalised by its min and max over the part.
    expected = (dist - dist.min()) / (dist.max() - dist.min())
    np.testing.assert_allclose(values, expected, atol=2e-3)
    near, far = dist < np.quantile(dist, 0.1), dist > np.quantile(dist, 0.9)
    assert values[near].mean() < 0.3 < 0.7 < values[far].mean()
    np.testing.assert_allclose(amap.direction[rows, cols] @ axis, 0.0, atol=1e-5)


def test_the_view_is_randomised_per_seed_and_keeps_the_object_in_sight():
    specs = [manip_scene(seed, "microwave") for seed in range(6)]
    cameras = [s.config.camera for s in specs]
    lights = [s.config.lighting for s in specs]
    assert len({c.position for c in cameras}) == 6 and len({c.target for c in cameras}) == 6
    assert len({(li.ambient, li.key, li.key_direction) for li in lights}) == 6
    assert {c.width for c in cameras} == {336}
    assert len({s.articulated.materials for s in specs}) == 6
    for s in specs:
        cam = s.config.camera.camera()
        (uv,), _ = cam.project(np.asarray(s.articulated.center)[None])
        assert 0.2 * 336 < uv[0] < 0.8 * 336 and 0.2 * 336 < uv[1] < 0.8 * 336
    assert manip_scene(3, "microwave") == specs[3]  # the same seed, the same view
