"""Grasps on the crop's edge: a model's normalised 1.0 is the last pixel, not an exception."""

from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.grasp.target import ImageGrasp
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import PlanningError, _top_surface_depth
from rt_grasp_ros.planning.plan import PlanOptions, plan_from_prediction
from rt_grasp_ros.planning.sessions import whole_image
from rt_grasp_ros.transforms import Pose
from rt_grasp_ros.vlm.predictor import Prediction


def frame(size=64):
    """A flat table 0.75 m below a top-down camera (the sim's mount)."""
    k = np.array([[80.0, 0, size / 2 - 0.5], [0, 80.0, size / 2 - 0.5], [0, 0, 1]])
    mount = Pose.from_position_quat([0.5, 0.0, 0.75], [0.7071068, -0.7071068, 0.0, 0.0])
    camera = PinholeCamera(size, size, k, base_from_camera=mount)
    rgb = np.full((size, size, 3), 128, np.uint8)
    return RGBDFrame(rgb, np.full((size, size), 0.75, np.float32), camera)


@pytest.mark.parametrize("xy", [(1.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.5, 1.0)])
def test_a_pose_on_the_edge_of_the_crop_is_planned(xy):
    f = frame()
    crop = whole_image(f).apply(f)
    pose = GraspPose(*xy, 1.313)
    plan = plan_from_prediction(Prediction("t", pose, "", None, 1, 1), crop, PlanOptions())
    assert plan.ok, plan.reason
    assert plan.target.pose.position[2] == pytest.approx(0.0, abs=0.1)  # on the table plane


def test_no_depth_along_the_opening_is_a_planning_error_not_a_numpy_one():
    f = frame()
    f.depth[:] = np.nan
    with pytest.raises(PlanningError, match="no depth reading along"):
        _top_surface_depth(f, ImageGrasp(32.0, 32.0, 0.0, 40.0), np.array([1.0, 0.0]), 9)
