from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import AnswerParseError, RtGraspError
from rt_grasp_ros.manip.answers import ContactSpec
from rt_grasp_ros.manip.contact import BIN, ContactPose, parse_contact
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.transforms import Pose


def camera() -> PinholeCamera:
    # Looking along base +x from 0.4 m in front of the origin: optical z = base x.
    rot = np.column_stack([[0, -1, 0], [0, 0, -1], [1, 0, 0]]).astype(float)
    return PinholeCamera.ideal(64, 48, 50.0, Pose.from_rotation_matrix([-0.4, 0, 0.1], rot))


def test_directions_are_made_unit_and_perpendicular():
    c = ContactPose(10, 20, (0, 0, 2.0), (1.0, 0, 1.0))
    assert np.linalg.norm(c.up) == pytest.approx(1)
    assert np.dot(c.up, c.forward) == pytest.approx(0, abs=1e-12)
    assert c.forward == pytest.approx((1, 0, 0))
    with pytest.raises(RtGraspError, match="parallel"):
        ContactPose(0, 0, (0, 0, 1), (0, 0, 3))
    with pytest.raises(RtGraspError, match="up"):
        ContactPose(0, 0, (0, 0, 0), (1, 0, 0))


def test_base_frame_round_trip_and_tcp_rotation():
    cam = camera()
    up, forward = np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
    c = ContactPose.from_base((30, 20), up, forward, cam)
    assert c.up == pytest.approx((0, 0, 1))  # the camera looks along base +x
    r = c.rotation(cam).as_matrix()
    np.testing.assert_allclose(r[:, 2], up, atol=1e-12)
    np.testing.assert_allclose(r[:, 0], forward, atol=1e-12)
    np.testing.assert_allclose(r[:, 1], np.cross(up, forward), atol=1e-12)
    assert Rotation.from_matrix(r).magnitude() >= 0  # a proper rotation


def test_tcp_pose_back_projects_the_pixel_with_its_depth():
    cam = camera()
    depth = np.full((48, 64), 0.5, np.float32)
    frame = RGBDFrame(np.zeros((48, 64, 3), np.uint8), depth, cam)
    c = ContactPose.from_base((32.0, 24.0), (1, 0, 0), (0, 0, -1), cam)
    np.testing.assert_allclose(c.tcp_pose(frame).position, [0.1, 0.0, 0.1], atol=1e-9)
    with pytest.raises(RtGraspError, match="outside"):
        ContactPose(99, 1, (1, 0, 0), (0, 1, 0)).point(frame)


def test_text_uses_bins_of_0_02_and_parses_back():
    c = ContactPose(140.4, 109.6, (0.7, -0.68, -0.22), (0.58, 0.72, 0.34))
    (x, y), up, forward = c.bins()
    assert (x, y) == (140, 110)
    assert all(-50 <= v <= 50 for v in (*up, *forward))
    assert up == tuple(round(v / BIN) for v in c.up)
    text = ContactSpec(load_task_formats(), 336, 336).render(c)
    assert text.startswith("The contact point is (140, 110), the gripper up direction is (")
    back = parse_contact(text)
    assert (back.x, back.y) == (140, 110)
    assert np.dot(back.up, c.up) > 0.999 and np.dot(back.forward, c.forward) > 0.99


def test_malformed_answers_are_rejected():
    with pytest.raises(AnswerParseError, match="contact point"):
        parse_contact("The contact point is (1, 2) and nothing else")
    with pytest.raises(AnswerParseError, match="up"):
        parse_contact("(1, 2) (0, 0, 0) (1, 0, 0)")


def tilted_camera() -> PinholeCamera:
    """A camera looking down and sideways at (0.55, -0.1, 0.12), rolled about its axis."""
    eye, target = np.array([0.5, -0.3, 0.8]), np.array([0.55, -0.1, 0.12])
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    look = Rotation.from_matrix(np.column_stack([x, np.cross(z, x), z]))
    return PinholeCamera.ideal(80, 60, 70.0, Pose(eye, look * Rotation.from_euler("z", 0.4)))


def test_a_known_contact_is_found_in_3d_from_pixel_depth_and_intrinsics():
    cam = tilted_camera()
    point = np.array([0.7, 0.02, 0.05])  # a known contact point on a surface, base frame
    (uv,), (depth,) = cam.project(point[None])
    assert np.linalg.norm(uv - cam.k[:2, 2]) > 5  # off the optical axis: intrinsics matter
    frame = RGBDFrame(np.zeros((60, 80, 3), np.uint8), np.full((60, 80), depth, np.float32), cam)
    up, forward = np.array([0.0, 0.6, -0.8]), np.array([1.0, 0.0, 0.0])
    c = ContactPose.from_base(tuple(uv), up, forward, cam)
    tcp = c.tcp_pose(frame)
    np.testing.assert_allclose(tcp.position, point, atol=1e-6)  # depth is float32
    axes = tcp.rotation_matrix
    np.testing.assert_allclose(axes[:, 2], up, atol=1e-12)  # z = up, the approach
    np.testing.assert_allclose(axes[:, 0], forward, atol=1e-12)  # x = forward (already square)
    np.testing.assert_allclose(axes[:, 1], np.cross(up, forward), atol=1e-12)
    # the same pose as the model saw it, in the optical frame, composes back to the base frame
    seen = cam.base_from_camera @ c.tcp_pose_camera(frame)
    np.testing.assert_allclose(seen.matrix, tcp.matrix, atol=1e-12)


def test_directions_round_trip_through_the_tcp_rotation():
    cam = tilted_camera()
    rng = np.random.default_rng(3)
    for _ in range(20):
        rotation = Rotation.random(random_state=rng)
        forward, _, up = rotation.as_matrix().T  # the TCP's columns: forward, left, up
        c = ContactPose.from_base((10.0, 20.0), up, forward, cam)
        assert c.rotation(cam).approx_equal(rotation, atol=1e-9)
        back = ContactPose.from_base((10.0, 20.0), c.up_base(cam), c.forward_base(cam), cam)
        np.testing.assert_allclose(back.up, c.up, atol=1e-12)
        np.testing.assert_allclose(back.forward, c.forward, atol=1e-12)


def test_the_contact_and_the_suction_planner_share_the_pixel_to_3d_step():
    from rt_grasp_ros.grasp.target import GripperKind, ImageGrasp
    from rt_grasp_ros.planning.geometry import GraspGeometry, image_grasp_to_target

    cam = tilted_camera()
    depth = np.linspace(0.6, 0.9, 60 * 80, dtype=np.float32).reshape(60, 80)
    frame = RGBDFrame(np.zeros((60, 80, 3), np.uint8), depth, cam)
    c = ContactPose(33.3, 41.7, (0, 0, 1), (1, 0, 0))
    grasp = ImageGrasp(33.3, 41.7, 0.0, 10.0)
    target = image_grasp_to_target(
        frame, grasp, GripperKind.SUCTION, GraspGeometry(suction_press=0)
    )
    np.testing.assert_allclose(c.point(frame), target.pose.position, atol=1e-12)
    np.testing.assert_allclose(c.point(frame), frame.point_at(33.3, 41.7), atol=0)
