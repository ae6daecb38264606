from __future__ import annotations

import math

import numpy as np
import pytest

from rt_grasp_ros.grasp import GraspPose, GraspRectangle, angle_difference, wrap_angle
from rt_grasp_ros.grasp.rectangle import corners_from_params, params_from_corners


@pytest.mark.parametrize(
    ("theta", "expected"),
    [
        (0.0, 0.0),
        (math.pi / 2, -math.pi / 2),
        (-math.pi / 2, -math.pi / 2),
        (math.pi, 0.0),
        (2.0, 2.0 - math.pi),
    ],
)
def test_wrap_angle_into_half_open_range(theta, expected):
    assert wrap_angle(theta) == pytest.approx(expected)
    assert -math.pi / 2 <= wrap_angle(theta) < math.pi / 2


def test_angle_difference_is_modulo_pi():
    assert angle_difference(1.5, -1.5) == pytest.approx(math.pi - 3.0)
    assert angle_difference(0.1, 0.1 + math.pi) == pytest.approx(0.0)


def test_pose_pixels_round_trip_for_any_image_size():
    for w, h in [(640, 480), (400, 400), (1024, 768)]:
        pose = GraspPose.from_pixels(123.5, 77.25, 0.4, w, h)
        assert pose.to_pixels(w, h) == pytest.approx((123.5, 77.25))


@pytest.mark.parametrize(
    ("field", "kwargs"), [("x", dict(x=1.2, y=0.5, theta=0)), ("y", dict(x=0.5, y=-0.1, theta=0))]
)
def test_pose_rejects_coordinates_outside_unit_square(field, kwargs):
    with pytest.raises(ValueError, match=f"GraspPose.{field}"):
        GraspPose(**kwargs)


def test_pose_rejects_unwrapped_angle_but_wrapped_builds_it():
    with pytest.raises(ValueError, match="theta"):
        GraspPose(0.5, 0.5, math.pi / 2)
    assert GraspPose.wrapped(0.5, 0.5, math.pi / 2).theta == pytest.approx(-math.pi / 2)


def test_rectangle_first_edge_defines_angle_counter_clockwise_on_screen():
    # p0 -> p1 goes right and up on screen (y decreases): a positive angle.
    rect = GraspRectangle(np.array([[0, 10], [10, 0], [15, 5], [5, 15]], float))
    assert rect.theta == pytest.approx(math.pi / 4)
    assert rect.width == pytest.approx(math.hypot(10, 10))
    assert rect.height == pytest.approx(math.hypot(5, 5))
    assert rect.center == pytest.approx((7.5, 7.5))


def test_rectangle_from_center_round_trips_parameters():
    rect = GraspRectangle.from_center(100, 50, 0.3, 40, 20)
    assert rect.center == pytest.approx((100, 50))
    assert rect.theta == pytest.approx(0.3)
    assert (rect.width, rect.height) == pytest.approx((40, 20))
    pose = rect.to_pose(200, 100)
    assert (pose.x, pose.y, pose.theta) == pytest.approx((0.5, 0.5, 0.3))


def test_batch_conversions_match_scalar_ones():
    rng = np.random.default_rng(0)
    params = rng.uniform([0, 0, -1.5, 5, 5], [640, 480, 1.5, 80, 30], size=(50, 5))
    corners = corners_from_params(*params.T)
    back = np.stack(params_from_corners(corners), axis=1)
    np.testing.assert_allclose(back, params, atol=1e-9)


def test_jacquard_angle_sign_is_opposite():
    # Jacquard's +30 degrees is clockwise on screen: our -30 degrees.
    rect = GraspRectangle.from_jacquard(50, 60, 30.0, 40, 10)
    assert rect.theta == pytest.approx(-math.radians(30))
    x, y, theta_deg, w, h = rect.to_jacquard()
    assert (x, y, theta_deg, w, h) == pytest.approx((50, 60, 30.0, 40, 10))


def test_affine_transform_rotates_angle_with_image():
    import cv2

    rect = GraspRectangle.from_center(100, 100, 0.2, 30, 10)
    m = cv2.getRotationMatrix2D((100, 100), 25.0, 1.0)  # 25 degrees CCW on screen
    moved = rect.transformed(m)
    assert moved.theta == pytest.approx(0.2 + math.radians(25))
    assert moved.center == pytest.approx((100, 100))


def test_rectangle_validates_shape_and_finiteness():
    with pytest.raises(ValueError, match="shape"):
        GraspRectangle(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        GraspRectangle(np.array([[0, 0], [1, 0], [1, np.nan], [0, 1]]))
