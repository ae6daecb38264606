"""RGB-D cameras read directly: Intel RealSense (pyrealsense2) and Azure Kinect (pyk4a).

Both give colour with depth registered to it, in metres with NaN for no reading, and a camera
model from the device's factory calibration. The SDKs are imported through the one optional
dependency guard, so a missing SDK names what to install.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.optional import require
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame, depth_from_millimetres
from rt_grasp_ros.transforms import Pose


class FrameSource(Protocol):
    """A camera that delivers registered RGB-D frames."""

    camera: PinholeCamera

    def read(self, timeout: float = 1.0) -> RGBDFrame:
        """The next frame."""
        ...

    def close(self) -> None:
        """Stop streaming."""
        ...


def _camera(width, height, fx, fy, cx, cy, coeffs, pose, frame_id) -> PinholeCamera:
    # The SDKs give the principal point with pixel centres at integers (OpenCV): +0.5 px.
    k = np.array([[fx, 0.0, cx + 0.5], [0.0, fy, cy + 0.5], [0.0, 0.0, 1.0]])
    d = np.asarray(coeffs, float)
    model = "rational_polynomial" if d.size == 8 else "plumb_bob"
    return PinholeCamera(width, height, k, d, model, pose or Pose(), frame_id)


class RealSenseSource:
    """An Intel RealSense (D400 series): colour and depth aligned to colour.

    ``device``: an already opened ``pyrealsense2`` device to read instead of a pipeline on the
    first (or ``serial``) camera, e.g. a ``software_device`` whose sensors have a colour
    (rgb8) and a depth (z16) stream of this size and rate: that is how the source is tested
    without hardware.
    """

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        serial: str = "",
        base_from_camera: Pose | None = None,
        frame_id: str = "camera_color_optical_frame",
        device: object | None = None,
    ) -> None:
        rs = require("pyrealsense2", "the RealSense camera source")
        self._rs = rs
        self.align = rs.align(rs.stream.color)
        if device is None:
            self.pipeline = rs.pipeline()
            config = rs.config()
            if serial:
                config.enable_device(serial)
            config.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
            config.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
            try:
                profile = self.pipeline.start(config)
            except RuntimeError as exc:
                which = f"serial {serial}" if serial else "any"
                raise RtGraspError(
                    f"no RealSense camera ({which}) streams colour and depth at {width}x"
                    f"{height} {fps} Hz: {exc}; check the USB 3 cable and `rs-enumerate-devices`"
                ) from None
            device = profile.get_device()
            color = profile.get_stream(rs.stream.color)
            self._wait, self._stop = self.pipeline.wait_for_frames, self.pipeline.stop
        else:
            color = self._start_device(device, width, height, fps)
        self.depth_scale = device.first_depth_sensor().get_depth_scale()
        i = color.as_video_stream_profile().get_intrinsics()
        self.camera = _camera(
            i.width, i.height, i.fx, i.fy, i.ppx, i.ppy, i.coeffs, base_from_camera, frame_id
        )

    def _start_device(self, device: object, width: int, height: int, fps: int) -> object:
        """Open the colour and depth streams of ``device`` into a syncer; the colour profile."""
        rs = self._rs
        wanted = {rs.stream.color: rs.format.rgb8, rs.stream.depth: rs.format.z16}
        syncer, found, sensors = rs.syncer(), {}, []
        for sensor in device.query_sensors():
            for p in sensor.get_stream_profiles():
                v = p.as_video_stream_profile()
                if (
                    wanted.get(p.stream_type()) == p.format()
                    and (v.width(), v.height(), p.fps()) == (width, height, fps)
                    and p.stream_type() not in found
                ):
                    found[p.stream_type()] = p
                    sensor.open(p)
                    sensors.append(sensor)
                    break
        if set(found) != set(wanted):
            for sensor in sensors:
                sensor.close()
            raise RtGraspError(
                f"the RealSense device has no colour rgb8 and depth z16 streams at {width}x"
                f"{height} {fps} Hz"
            )
        for sensor in sensors:  # all open before any starts: the syncer matches them all
            sensor.start(syncer)

        def stop() -> None:
            for sensor in sensors:
                sensor.stop()
                sensor.close()

        self._syncer, self._sensors = syncer, sensors  # alive while streaming
        self._wait, self._stop = syncer.wait_for_frames, stop
        return found[rs.stream.color]

    def read(self, timeout: float = 1.0) -> RGBDFrame:
        """The next colour frame with depth aligned to it (metres, NaN = no reading)."""
        deadline = time.monotonic() + timeout
        while True:  # a frameset may hold one stream only (the syncer found no match yet)
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            try:
                frames = self._wait(left_ms)
            except RuntimeError as exc:
                raise RtGraspError(f"no RealSense frame within {timeout:g} s: {exc}") from None
            if frames.get_color_frame() and frames.get_depth_frame():
                break
            if time.monotonic() > deadline:
                raise RtGraspError(f"no RealSense colour and depth pair within {timeout:g} s")
        frames = self.align.process(frames)
        color = np.asanyarray(frames.get_color_frame().get_data()).copy()
        raw = np.asanyarray(frames.get_depth_frame().get_data())
        depth = raw.astype(np.float32) * np.float32(self.depth_scale)
        depth[raw == 0] = np.nan
        return RGBDFrame(color, depth, self.camera, frames.get_timestamp() / 1000.0)

    def close(self) -> None:
        """Stop streaming."""
        self._stop()


class KinectSource:
    """An Azure Kinect: colour (BGRA from the SDK) and depth transformed to the colour camera."""

    def __init__(
        self,
        device: int = 0,
        base_from_camera: Pose | None = None,
        frame_id: str = "rgb_camera_link_optical",
    ) -> None:
        pyk4a = require("pyk4a", "the Azure Kinect camera source")
        if not pyk4a.connected_device_count():
            raise RtGraspError(
                "no Azure Kinect is connected (pyk4a.connected_device_count() is 0): plug it "
                "into USB 3 and power, and check `k4aviewer` from the Azure Kinect SDK"
            )
        config = pyk4a.Config(
            color_resolution=pyk4a.ColorResolution.RES_720P,
            depth_mode=pyk4a.DepthMode.NFOV_UNBINNED,
            synchronized_images_only=True,
        )
        self.device = pyk4a.PyK4A(config=config, device_id=device)
        self.device.start()
        calibration = self.device.calibration
        k = calibration.get_camera_matrix(pyk4a.CalibrationType.COLOR)
        coeffs = calibration.get_distortion_coefficients(pyk4a.CalibrationType.COLOR)
        capture = self.device.get_capture()
        h, w = capture.color.shape[:2]
        self.camera = _camera(
            w, h, k[0, 0], k[1, 1], k[0, 2], k[1, 2], coeffs[:8], base_from_camera, frame_id
        )

    def read(self, timeout: float = 1.0) -> RGBDFrame:
        """The next colour frame with ``transformed_depth`` (metres, NaN = no reading)."""
        capture = self.device.get_capture(timeout=int(timeout * 1000))
        rgb = np.ascontiguousarray(capture.color[..., 2::-1])  # BGRA -> RGB
        depth = depth_from_millimetres(capture.transformed_depth)
        return RGBDFrame(rgb, depth, self.camera, time.time())

    def close(self) -> None:
        """Stop the device."""
        self.device.stop()


SOURCES = {"realsense": RealSenseSource, "kinect": KinectSource}


def open_source(name: str, **options: object) -> FrameSource:
    """Open camera source ``name`` (``realsense`` or ``kinect``)."""
    from rt_grasp_ros.errors import ConfigError

    if name not in SOURCES:
        raise ConfigError(f"camera source {name!r} is not one of {sorted(SOURCES)}")
    return SOURCES[name](**options)
