"""The camera sources without hardware.

RealSense: pyrealsense2's software device stands in for the camera (frames injected into its
sensors), so the source's own path runs: the syncer, depth aligned to colour by the SDK with
the registered extrinsics, the colour intrinsics and the depth scale. Kinect: pyk4a and the
Azure Kinect SDK are not installed here; the source must say so.
"""

from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.errors import MissingDependencyError, RtGraspError
from rt_grasp_ros.optional import available
from rt_grasp_ros.perception.sources import KinectSource, RealSenseSource, open_source

W, H = 640, 480


def _intrinsics(rs, fx, fy, ppx, ppy):
    i = rs.intrinsics()
    i.width, i.height, i.fx, i.fy, i.ppx, i.ppy = W, H, fx, fy, ppx, ppy
    i.model, i.coeffs = rs.distortion.none, [0.0] * 5
    return i


def _stream(rs, kind, fmt, bpp, uid, intrinsics):
    s = rs.video_stream()
    s.type, s.index, s.uid, s.width, s.height, s.fps = kind, 0, uid, W, H, 30
    s.bpp, s.fmt, s.intrinsics = bpp, fmt, intrinsics
    return s


@pytest.fixture
def software_camera():
    rs = pytest.importorskip("pyrealsense2", reason="pyrealsense2 is not installed")
    dev = rs.software_device()
    depth_sensor, color_sensor = dev.add_sensor("Depth"), dev.add_sensor("Color")
    dp = depth_sensor.add_video_stream(
        _stream(rs, rs.stream.depth, rs.format.z16, 2, 0, _intrinsics(rs, 600, 600, 320, 240))
    )
    dp = dp.as_video_stream_profile()
    cp = color_sensor.add_video_stream(
        _stream(rs, rs.stream.color, rs.format.rgb8, 3, 1, _intrinsics(rs, 615, 616, 318, 242))
    )
    cp = cp.as_video_stream_profile()
    depth_sensor.add_read_only_option(rs.option.depth_units, 0.0001)  # 0.1 mm per unit
    ext = rs.extrinsics()
    ext.rotation, ext.translation = [1, 0, 0, 0, 1, 0, 0, 0, 1], [0.025, 0.0, 0.0]
    dp.register_extrinsics_to(cp, ext)
    dev.create_matcher(rs.matchers.default)

    def inject(depth, color, k):
        for sensor, profile, pixels, bpp in (
            (depth_sensor, dp, depth, 2),
            (color_sensor, cp, color, 3),
        ):
            f = rs.software_video_frame()
            f.pixels, f.bpp, f.stride = pixels, bpp, W * bpp
            f.timestamp, f.frame_number = 33.0 * k, k
            f.domain, f.profile = rs.timestamp_domain.hardware_clock, profile
            sensor.on_video_frame(f)

    return dev, inject


def test_realsense_aligns_depth_to_colour_with_the_sdks_intrinsics_and_scale(software_camera):
    dev, inject = software_camera
    source = RealSenseSource(device=dev)
    try:
        assert source.depth_scale == pytest.approx(0.0001)
        # the colour intrinsics, principal point moved to continuous pixels (+0.5)
        assert np.allclose(source.camera.k, [[615, 0, 318.5], [0, 616, 242.5], [0, 0, 1]])
        depth = np.full((H, W), 10000, np.uint16)  # a wall at 1 m
        depth[200:280, 280:360] = 5000  # a box face at 0.5 m
        depth[0:10, 0:10] = 0  # no reading
        color = np.zeros((H, W, 3), np.uint8)
        color[..., 1] = 200
        for k in range(3):  # the syncer pairs colour and depth of one time stamp
            inject(depth, color, k)
        frame = source.read(timeout=2.0)
    finally:
        source.close()
    assert frame.rgb.shape == (H, W, 3) and frame.rgb[0, 0, 1] == 200
    assert frame.depth.dtype == np.float32
    assert frame.depth[240, 100] == pytest.approx(1.0, abs=1e-4)
    # the box in the colour camera: x in depth frame (u - 320) / 600 * 0.5, shifted 25 mm,
    # projected with the colour intrinsics
    cols = np.flatnonzero(np.isclose(frame.depth[240], 0.5, atol=1e-4))
    expected = [
        615 * ((280 - 320) / 600 * 0.5 + 0.025) / 0.5 + 318,
        615 * ((360 - 320) / 600 * 0.5 + 0.025) / 0.5 + 318,
    ]
    assert abs(cols.min() - expected[0]) <= 1.5 and abs(cols.max() + 1 - expected[1]) <= 1.5
    assert frame.stamp == pytest.approx(0.0, abs=0.1)  # ms of the injected frames, in s


def test_a_device_without_the_streams_is_refused():
    rs = pytest.importorskip("pyrealsense2", reason="pyrealsense2 is not installed")
    dev = rs.software_device()
    dev.add_sensor("Depth")
    with pytest.raises(RtGraspError, match="rgb8"):
        RealSenseSource(device=dev)


@pytest.mark.skipif(available("pyk4a"), reason="pyk4a is installed here")
def test_kinect_without_the_sdk_names_what_to_install():
    with pytest.raises(MissingDependencyError, match=r"Azure Kinect SDK.*pip install pyk4a"):
        KinectSource()
    with pytest.raises(MissingDependencyError, match="pyk4a"):
        open_source("kinect")


def test_an_unknown_source_is_named():
    with pytest.raises(RtGraspError, match="not one of"):
        open_source("zed")
