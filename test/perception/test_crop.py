from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.perception import PinholeCamera, RGBDFrame, crop_workspace
from rt_grasp_ros.perception.crop import ObjectCrop, above_table, crop_object
from rt_grasp_ros.transforms import Pose

# 0.75 m above the table (z = 0), looking straight down: the table is at depth 0.75.
DOWN = Pose([0.5, 0.0, 0.75], Rotation.from_euler("x", np.pi))
CAMERA = PinholeCamera.ideal(640, 480, 615.0, DOWN, "cam")


def frame_with(*blocks: tuple[int, int, int, int, float]) -> RGBDFrame:
    """A table seen from above with blocks ``(u0, v0, u1, v1, height in m)`` standing on it."""
    depth = np.full((480, 640), 0.75, np.float32)
    for u0, v0, u1, v1, height in blocks:
        depth[v0:v1, u0:u1] = 0.75 - height
    return RGBDFrame(np.zeros((480, 640, 3), np.uint8), depth, CAMERA)


def test_only_what_stands_within_the_height_band_counts():
    block, arm, sheet = (
        (300, 200, 340, 260, 0.05),
        (10, 10, 40, 40, 0.6),
        (500, 300, 520, 320, 1e-3),
    )
    frame = frame_with(block, arm, sheet)
    mask = above_table(frame, ObjectCrop())
    assert mask[200:260, 300:340].all()
    assert mask.sum() == 40 * 60  # not the arm-high block, not the 1 mm sheet


def test_a_small_object_gets_the_smallest_square_centred_on_it():
    workspace = crop_workspace(frame_with((300, 200, 340, 260, 0.05)), 400)
    crop, found = crop_object(workspace, ObjectCrop(min_size=120))
    assert found and crop.size == (120, 120)
    assert crop.origin == (260, 170)  # centred on the block's centre (320, 230)
    assert crop.frame.rgb.shape == (120, 120, 3)
    # The crop's camera still projects base-frame points to the crop's pixels.
    point = CAMERA.back_project([[320.0, 230.0]], [0.7])
    (uv,), _ = crop.frame.camera.project(point)
    np.testing.assert_allclose(uv, [60.0, 60.0], atol=1e-6)


def test_a_large_object_fits_with_the_margin_and_the_square_stays_in_the_workspace():
    workspace = crop_workspace(frame_with((150, 100, 350, 250, 0.1)), 400)
    crop, found = crop_object(workspace, ObjectCrop(margin=1.5))
    side = crop.size[0]
    assert found and crop.size == (side, side) and 290 <= side <= 300  # 1.5 x 200 px
    x0, y0 = crop.origin
    assert (x0, y0) == workspace.origin  # pushed in: the block sits at the workspace's corner
    assert x0 <= 150 and y0 <= 100 and x0 + side >= 350 and y0 + side >= 250


def test_an_empty_table_keeps_the_whole_workspace():
    workspace = crop_workspace(frame_with(), 400)
    crop, found = crop_object(workspace)
    assert not found and crop is workspace


def test_bad_object_crop_settings_name_the_field():
    with pytest.raises(ConfigError, match="min_height"):
        ObjectCrop(min_height=0.5, max_height=0.1)
    with pytest.raises(ConfigError, match="margin"):
        ObjectCrop(margin=0.5)
    with pytest.raises(ConfigError, match="min_size"):
        ObjectCrop(min_size=500, max_size=400)


def test_heights_follow_the_camera_model_of_each_frame():
    frame = frame_with((300, 200, 340, 260, 0.05))
    assert above_table(frame, ObjectCrop()).sum() == 40 * 60
    # The same depth seen from 5 cm higher: the table itself now stands 5 cm above the plane.
    raised = Pose([0.5, 0.0, 0.8], Rotation.from_euler("x", np.pi))
    lifted = RGBDFrame(frame.rgb, frame.depth, CAMERA.with_pose(raised))
    assert above_table(lifted, ObjectCrop()).all()
    assert above_table(frame, ObjectCrop()).sum() == 40 * 60
