from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.sim.camera import CameraConfig
from rt_grasp_ros.sim.objects import CATEGORIES
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.world import World


@pytest.fixture(scope="module")
def scene():
    w = World(generate_scene(4, SceneConfig(n_objects=3)))
    SimRobot(w).run(0.3)
    frame = w.render(segmentation=True)
    yield w, frame
    w.close()


def test_depth_of_the_table_plane_is_the_camera_height(scene):
    world, frame = scene
    table = world.mj.mj_name2id(world.model, world.mj.mjtObj.mjOBJ_GEOM, "table")
    on_table = frame.segmentation == table
    assert on_table.mean() > 0.5
    # A camera 0.75 m above the table looking straight down sees the plane at depth 0.75.
    np.testing.assert_allclose(frame.depth[on_table], 0.75, atol=2e-4)
    assert frame.rgb.shape == (480, 640, 3) and frame.depth.dtype == np.float32


def test_intrinsics_match_the_configured_focal_length():
    cam = CameraConfig()
    assert cam.fovy_deg == pytest.approx(42.64, abs=0.01)
    world = World(generate_scene(0, SceneConfig(n_objects=0)))
    assert world.model.cam_fovy[0] == pytest.approx(cam.fovy_deg)
    world.close()


def test_pixel_and_depth_to_3d_and_back(scene):
    world, frame = scene
    cam = frame.camera
    rng = np.random.default_rng(0)
    uv = rng.uniform([0, 0], [640, 480], (50, 2))
    depth = frame.depth[uv[:, 1].astype(int), uv[:, 0].astype(int)]
    points = cam.back_project(uv, depth)
    back, d = cam.project(points)
    np.testing.assert_allclose(back, uv, atol=1e-9)
    np.testing.assert_allclose(d, depth, atol=1e-6)
    # Each ground-truth grasp centre projects next to pixels that show its object (a centre
    # may fall in a gap, e.g. between the two handles of scissors).
    from rt_grasp_ros.sim.grasps import ground_truth_grasps

    grasps = ground_truth_grasps(world, frame)
    assert {g.object_name for g in grasps} == set(world.object_bodies)
    for g in grasps:
        ((u, v),) = cam.project(g.target.pose.position[None])[0]
        window = frame.segmentation[int(v) - 4 : int(v) + 5, int(u) - 4 : int(u) + 5]
        bodies = {world.body_of_geom(geom) for geom in window.ravel() if geom >= 0}
        assert world.object_bodies[g.object_name] in bodies


def test_workspace_crop_is_400_pixels_centred_on_the_table(scene):
    world, frame = scene
    crop = world.workspace_crop(frame)
    assert crop.frame.rgb.shape == (400, 400, 3) and crop.frame.depth.shape == (400, 400)
    assert crop.origin == (120, 40)
    # The crop's camera projects a 3D point to the full image's pixel shifted by the origin.
    point = frame.camera.back_project([[300.5, 200.5]], [frame.depth[200, 300]])
    ((u, v),), _ = crop.frame.camera.project(point)
    assert (u, v) == pytest.approx((300.5 - 120, 200.5 - 40))


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_object_crop_holds_the_whole_object_and_its_grasps(seed):
    from rt_grasp_ros.sim.export import settled_world
    from rt_grasp_ros.sim.grasps import ground_truth_grasps
    from rt_grasp_ros.sim.scene import object_view

    world, _ = settled_world(object_view(seed, 0))
    with world:
        frame = world.render(segmentation=True)
        crop = world.object_crop(frame)
        grasps = ground_truth_grasps(world, frame)
        body = world.object_bodies[world.spec.objects[0].name]
        seg = frame.segmentation
        geoms = [g for g in np.unique(seg) if g >= 0 and world.body_of_geom(g) == body]
        on_object = np.isin(seg, geoms)
    side = crop.size[0]
    assert crop.size == (side, side) and 120 <= side < 400
    x0, y0 = crop.origin
    v, u = np.nonzero(on_object)
    assert u.min() >= x0 and u.max() < x0 + side and v.min() >= y0 and v.max() < y0 + side
    for g in grasps:
        (cu, cv) = g.rectangle.center
        assert x0 <= cu < x0 + side and y0 <= cv < y0 + side


def test_bad_pixels_raise_clear_errors():
    world = World(generate_scene(0, SceneConfig(n_objects=0, articulated="lid")))
    frame = world.render()
    world.close()
    with pytest.raises(RtGraspError, match="outside the 640x480 image"):
        frame.depth_at(650, 10)
    with pytest.raises(RtGraspError, match="no depth"):
        frame.depth_at(1, 1)  # the sky, beyond the far clip plane


def test_same_seed_same_scene_and_pixels():
    a = World(generate_scene(11, SceneConfig(n_objects=2)))
    b = World(generate_scene(11, SceneConfig(n_objects=2)))
    assert a.spec.to_mjcf() == b.spec.to_mjcf()
    assert np.array_equal(a.render().rgb, b.render().rgb)
    c = generate_scene(12, SceneConfig(n_objects=2))
    assert c.to_mjcf() != a.spec.to_mjcf()
    a.close()
    b.close()


def test_objects_do_not_overlap_and_stay_in_the_workspace():
    for seed in range(20):
        spec = generate_scene(seed, SceneConfig(n_objects=3))
        for i, p in enumerate(spec.objects):
            assert abs(p.xy[0] - 0.5) <= 0.12 and abs(p.xy[1]) <= 0.16
            for q in spec.objects[i + 1 :]:
                assert np.hypot(*np.subtract(p.xy, q.xy)) > p.spec.footprint + q.spec.footprint


def test_every_category_has_reasoning_templates():
    assert len(CATEGORIES) >= 12
    lib = load_templates()
    assert all(lib.canonical(c) == c for c in CATEGORIES)


def test_unknown_category_and_bad_config_are_rejected():
    with pytest.raises(ConfigError, match="unknown object categories"):
        SceneConfig(categories=("teapot-ish",))
    with pytest.raises(ConfigError, match="unknown gripper"):
        SceneConfig(gripper="magnet")
    with pytest.raises(ConfigError, match="unknown articulated"):
        SceneConfig(articulated="window")


def test_rendering_falls_back_to_osmesa_when_egl_fails():
    code = (
        "from rt_grasp_ros.sim.scene import generate_scene, SceneConfig\n"
        "from rt_grasp_ros.sim.world import World\n"
        "import os\n"
        "w = World(generate_scene(0, SceneConfig(n_objects=0)))\n"
        "f = w.render()\n"
        "print(os.environ['MUJOCO_GL'], round(float(f.depth[240, 320]), 3))\n"
    )
    env = {**os.environ, "MUJOCO_GL": "egl", "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"}
    env.pop("PYOPENGL_PLATFORM", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["osmesa", "0.75"]
    assert "falling back to OSMESA" in result.stderr
