from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.perception import PinholeCamera, RGBDFrame, crop_workspace
from rt_grasp_ros.transforms import Pose

K = np.array([[610.0, 0, 318.2], [0, 612.0, 241.7], [0, 0, 1]])
D = np.array([0.12, -0.25, 0.001, -0.0008, 0.1])
MOUNT = Pose([0.5, 0.05, 0.8], Rotation.from_euler("xyz", [np.pi, 0.05, -0.1]))


def camera(d=D) -> PinholeCamera:
    return PinholeCamera(640, 480, K, d, "plumb_bob", MOUNT, "cam_color_optical_frame")


def test_camera_info_round_trip():
    cam = camera()
    info = cam.to_camera_info()
    # CameraInfo puts pixel centres at integers: its principal point is 0.5 px smaller.
    assert info["k"][2] == pytest.approx(K[0, 2] - 0.5) and info["k"][5] == pytest.approx(
        K[1, 2] - 0.5
    )
    assert info["p"][:3] == pytest.approx([K[0, 0], 0.0, K[0, 2] - 0.5]) and len(info["p"]) == 12
    back = PinholeCamera.from_camera_info(info, MOUNT)
    np.testing.assert_allclose(back.k, cam.k)
    np.testing.assert_allclose(back.d, cam.d)
    assert (back.width, back.height, back.frame_id) == (640, 480, "cam_color_optical_frame")


@pytest.mark.parametrize("d", [D, np.zeros(5)])
def test_project_and_back_project_are_inverse_with_distortion(d):
    cam = camera(d)
    rng = np.random.default_rng(0)
    uv = rng.uniform([20, 20], [620, 460], (200, 2))
    depth = rng.uniform(0.4, 1.2, 200)
    points = cam.back_project(uv, depth)
    back, z = cam.project(points)
    np.testing.assert_allclose(back, uv, atol=1e-6)
    np.testing.assert_allclose(z, depth, atol=1e-9)


def test_distortion_moves_pixels_away_from_the_ideal_projection():
    p = camera().base_from_camera.apply([[0.2, 0.15, 0.8]])
    assert np.linalg.norm(camera().project(p)[0] - camera(np.zeros(5)).project(p)[0]) > 1.0


def test_crop_camera_projects_the_same_point_to_the_shifted_pixel():
    cam = camera()
    frame = RGBDFrame(np.zeros((480, 640, 3), np.uint8), np.full((480, 640), 0.7, np.float32), cam)
    crop = crop_workspace(frame, 400, center_point=MOUNT.apply([0.0, 0.0, 0.7]))
    x0, y0 = crop.origin
    point = cam.back_project([[300.0, 250.0]], [0.7])
    (uv,), _ = crop.frame.camera.project(point)
    np.testing.assert_allclose(uv, [300.0 - x0, 250.0 - y0], atol=1e-6)
    assert crop.frame.camera.to_camera_info()["k"][2] == pytest.approx(K[0, 2] - 0.5 - x0)


def test_frames_and_cameras_reject_bad_input_by_name():
    cam = camera()
    with pytest.raises(RtGraspError, match="depth must be"):
        RGBDFrame(np.zeros((480, 640, 3), np.uint8), np.zeros((480, 640), np.uint16), cam)
    with pytest.raises(ConfigError, match="no field 'k'"):
        PinholeCamera.from_camera_info({"width": 640, "height": 480})
    with pytest.raises(ConfigError, match="distortion_model"):
        PinholeCamera(640, 480, K, D, "fisheye")
    depth = np.full((480, 640), np.nan, np.float32)
    frame = RGBDFrame(np.zeros((480, 640, 3), np.uint8), depth, cam)
    with pytest.raises(RtGraspError, match="no depth"):
        frame.depth_at(10, 10)


def test_a_point_on_the_far_edges_belongs_to_the_last_pixel():
    depth = np.full((480, 640), 0.7, np.float32)
    depth[-1, -1] = 0.5
    frame = RGBDFrame(np.zeros((480, 640, 3), np.uint8), depth, camera())
    assert frame.depth_at(640.0, 480.0) == pytest.approx(0.5)  # normalised (1.0, 1.0)
    for u, v in ((640.01, 10.0), (10.0, 480.5), (-0.01, 10.0)):
        with pytest.raises(RtGraspError, match="outside the 640x480 image"):
            frame.depth_at(u, v)
