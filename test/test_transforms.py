from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.transforms import (
    Pose,
    closing_yaw,
    nearest_symmetric,
    quat_from_wxyz,
    quat_to_wxyz,
    rotation_error,
    top_down_rotation,
)


def test_pose_composition_inverse_and_matrix_agree():
    a = Pose([1.0, 2.0, 3.0], Rotation.from_euler("xyz", [0.1, -0.4, 2.0]))
    b = Pose([-0.5, 0.2, 0.0], Rotation.from_euler("z", 0.7))
    np.testing.assert_allclose((a @ b).matrix, a.matrix @ b.matrix, atol=1e-12)
    np.testing.assert_allclose((a @ a.inverse()).matrix, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(Pose.from_matrix(a.matrix).matrix, a.matrix, atol=1e-12)


def test_known_quaternions_in_ros_order():
    # 90 degrees about z: (x, y, z, w) = (0, 0, sin 45, cos 45), as geometry_msgs writes it.
    pose = Pose.from_position_quat([0, 0, 0], [0, 0, math.sin(math.pi / 4), math.cos(math.pi / 4)])
    np.testing.assert_allclose(pose.apply([1.0, 0, 0]), [0, 1.0, 0], atol=1e-12)
    np.testing.assert_allclose(
        quat_to_wxyz(pose.quat_xyzw), [math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)]
    )
    np.testing.assert_allclose(
        quat_from_wxyz(quat_to_wxyz([0.1, 0.2, 0.3, 0.9])), [0.1, 0.2, 0.3, 0.9]
    )
    assert pose.quat_xyzw[3] >= 0


def test_top_down_rotation_points_down_and_closes_along_yaw():
    r = top_down_rotation(0.3).as_matrix()
    np.testing.assert_allclose(r[:, 2], [0, 0, -1], atol=1e-12)  # approach axis
    np.testing.assert_allclose(r[:, 1], [math.cos(0.3), math.sin(0.3), 0], atol=1e-12)
    assert closing_yaw(top_down_rotation(0.3)) == pytest.approx(0.3)


def test_rotation_error_and_its_half_turn_are_deterministic():
    a, b = Rotation.from_euler("z", 0.5), Rotation.from_euler("z", -0.2)
    np.testing.assert_allclose(
        rotation_error(a.as_matrix(), b.as_matrix()), [0, 0, 0.7], atol=1e-9
    )
    flip = np.diag([1.0, -1.0, -1.0])
    noisy = flip + 1e-11 * np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    goal = np.array([[0, 0, 1.0], [0, 1, 0], [-1, 0, 0]])
    np.testing.assert_allclose(rotation_error(goal, flip), rotation_error(goal, noisy), atol=1e-6)


def test_nearest_symmetric_turns_the_wrist_the_short_way():
    ref = top_down_rotation(0.0)
    assert nearest_symmetric(top_down_rotation(3.0), ref).magnitude() == pytest.approx(
        top_down_rotation(3.0 - math.pi).magnitude()
    )
    assert closing_yaw(nearest_symmetric(top_down_rotation(0.2), ref)) == pytest.approx(0.2)


def test_bad_poses_name_the_field():
    with pytest.raises(ValueError, match="position"):
        Pose([0.0, float("nan"), 0.0])
    with pytest.raises(ValueError, match="quaternion"):
        Pose.from_position_quat([0, 0, 0], [0, 0, 0, 0])


def test_tcp_rotation_is_the_one_tcp_convention():
    from rt_grasp_ros.transforms import tcp_rotation

    r = tcp_rotation([0, 0, -2.0], [1.0, 0.0, 0.5]).as_matrix()
    np.testing.assert_allclose(r[:, 2], [0, 0, -1], atol=1e-12)  # z: the approach
    np.testing.assert_allclose(r[:, 0], [1, 0, 0], atol=1e-12)  # x: forward, made square
    np.testing.assert_allclose(r[:, 1], np.cross(r[:, 2], r[:, 0]), atol=1e-12)  # y = z x x
    assert np.linalg.det(r) == pytest.approx(1)
    for yaw in (0.0, 0.7, -2.1):  # the top-down grasp is a case of it
        down = top_down_rotation(yaw).as_matrix()
        np.testing.assert_allclose(tcp_rotation(down[:, 2], down[:, 0]).as_matrix(), down)
        np.testing.assert_allclose(down[:, 1], [np.cos(yaw), np.sin(yaw), 0], atol=1e-12)
    with pytest.raises(ValueError, match="parallel"):
        tcp_rotation([0, 0, 1], [0, 0, -3])
    with pytest.raises(ValueError, match="approach"):
        tcp_rotation([0, 0, 0], [1, 0, 0])
