"""ContactPose <-> rt_grasp/ContactPose: the base and camera poses, the directions, bad fields."""

import math

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from scipy.spatial.transform import Rotation

from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.transforms import Pose

pytestmark = pytest.mark.ros


def frame():
    # a camera 0.6 m in front of a wall at x = 0.6, looking along +x (optical z = base x)
    look = Rotation.from_matrix(np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], float))
    camera = PinholeCamera.ideal(64, 48, 60.0, Pose(np.array([0.0, 0.1, 0.3]), look))
    depth = np.full((48, 64), 0.6, np.float32)
    return RGBDFrame(np.zeros((48, 64, 3), np.uint8), depth, camera)


def test_a_contact_goes_to_the_message_and_back_to_the_same_tcp_pose():
    f = frame()
    contact = ContactPose.from_base((40.5, 20.5), [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], f.camera)
    msg = conv.contact_to_msg(contact, f, "panda_link0", "drawer")
    assert msg.pose.header.frame_id == "panda_link0"
    assert msg.pose_camera.header.frame_id == "camera_color_optical_frame"
    assert (msg.u, msg.v, msg.category, list(msg.chain)) == (40.5, 20.5, "drawer", [])
    assert msg.depth == pytest.approx(0.6)
    expected = contact.tcp_pose(f)
    back = conv.contact_from_msg(msg, "panda_link0")
    assert np.allclose(back.pose.position, expected.position)
    assert np.allclose(back.pose.rotation_matrix, expected.rotation_matrix, atol=1e-9)
    assert np.allclose(back.up, [1.0, 0.0, 0.0])
    in_camera = conv.pose_from_msg(msg.pose_camera.pose)
    assert np.allclose((f.camera.base_from_camera @ in_camera).position, expected.position)


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("frame", "", "frame_id is empty"),
        ("frame", "world", "in frame 'world'"),
        ("x", math.nan, "position must be finite"),
        ("up", (0.0, 0.0, 0.0), "contact.up"),
        ("forward", (1.0, 0.0, 0.0), "parallel"),
    ],
)
def test_a_bad_contact_message_names_the_field(field, value, words):
    f = frame()
    contact = ContactPose.from_base((40.5, 20.5), [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], f.camera)
    msg = conv.contact_to_msg(contact, f, "panda_link0")
    if field == "frame":
        msg.pose.header.frame_id = value
    elif field == "x":
        msg.pose.pose.position.x = value
    else:
        setattr(msg, field, conv.vector3_to_msg(value))
    with pytest.raises(conv.ConversionError, match=words):
        conv.contact_from_msg(msg, "panda_link0")
