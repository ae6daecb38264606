"""FrameMatcher: colour, depth and camera_info of one exact stamp, in any arrival order."""

import itertools

import pytest

pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from sensor_msgs.msg import CameraInfo, Image

from rt_grasp_ros.ros.frame_sync import FrameMatcher

pytestmark = pytest.mark.ros


def part(kind, sec, nanosec=0):
    msg = CameraInfo() if kind == "info" else Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    msg.header.frame_id = f"{kind}@{sec}.{nanosec}"
    return msg


def names(parts):
    return None if parts is None else tuple(m.header.frame_id for m in parts)


@pytest.mark.parametrize("order", list(itertools.permutations(("color", "depth", "info"))))
def test_the_three_parts_of_a_stamp_match_in_any_order_once(order):
    matcher = FrameMatcher()
    results = [matcher.add(kind, part(kind, 5)) for kind in order]
    assert results[:2] == [None, None]
    assert names(results[2]) == ("color@5.0", "depth@5.0", "info@5.0")
    assert matcher.add("info", part("info", 5)) is None  # each stamp is returned once


def test_interleaved_stamps_still_match_and_the_stamp_is_exact():
    matcher = FrameMatcher()
    assert matcher.add("color", part("color", 1)) is None
    assert matcher.add("color", part("color", 2)) is None  # frame 2 overtakes frame 1
    assert matcher.add("depth", part("depth", 1)) is None
    assert matcher.add("depth", part("depth", 2, 1)) is None  # 1 ns apart: another stamp
    assert names(matcher.add("info", part("info", 1))) == ("color@1.0", "depth@1.0", "info@1.0")
    assert matcher.add("depth", part("depth", 2)) is None
    assert names(matcher.add("info", part("info", 2)))[0] == "color@2.0"


def test_a_completed_stamp_drops_the_older_incomplete_ones_and_history_is_bounded():
    matcher = FrameMatcher(history=2)
    matcher.add("color", part("color", 1))
    for kind in ("color", "depth", "info"):
        done = matcher.add(kind, part(kind, 2))
    assert names(done)[0] == "color@2.0"
    # frame 1's colour is gone: its late depth and info do not complete it
    assert matcher.add("depth", part("depth", 1)) is None
    assert matcher.add("info", part("info", 1)) is None
    for sec in (10, 11, 12):  # only the newest two pending stamps are kept
        matcher.add("color", part("color", sec))
    matcher.add("depth", part("depth", 10))
    assert matcher.add("info", part("info", 10)) is None
    matcher.add("depth", part("depth", 12))
    assert names(matcher.add("info", part("info", 12)))[0] == "color@12.0"
    with pytest.raises(ValueError, match="kind"):
        matcher.add("ir", part("color", 1))
