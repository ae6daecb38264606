"""
Crop the RGB-D stream to the workspace and publishes the crop with its own CameraInfo.

Source ``topics`` subscribes to any driver (realsense2_camera, the Azure Kinect driver, the
sim); ``realsense`` (pyrealsense2, depth aligned to colour) and ``kinect`` (pyk4a,
``transformed_depth``) read the camera directly. The crop is the paper's 400x400 square around
a pixel, a base-frame point projected with the camera extrinsic, or the image centre; with
``object_crop`` (the default model's view) it is then narrowed to the square around what stands
above the table. Its CameraInfo has the principal point shifted and the crop's place in ``roi``.
"""

import sys
import threading

from rclpy.node import Node
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import crop_object, crop_workspace, ObjectCrop
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.frame_sync import FrameMatcher
from rt_grasp_ros.ros.frames import CameraExtrinsic
from rt_grasp_ros.ros.params import between, declare, one_of, run_node
from rt_grasp_ros.ros.qos import LATCHED, SENSOR_DATA


class CameraNode(Node):
    """Publishes ``crop/color``, ``crop/depth`` and ``crop/camera_info``."""

    def __init__(self):
        super().__init__('camera')
        source = declare(self, 'source', 'topics',
                         'topics (any driver, or the sim), realsense or kinect',
                         one_of('topics', 'realsense', 'kinect'), 'topics, realsense or kinect')
        self.size = declare(self, 'crop_size', 400, 'crop side (pixels)', between(1, 4096))
        center = declare(self, 'crop_center', [-1.0, -1.0],
                         'crop centre pixel (u, v); negative = see crop_center_point',
                         lambda v: len(v) == 2, '2 numbers')
        point = declare(self, 'crop_center_point', [0.0, 0.0, 0.0],
                        'crop centre as a base-frame point (m), projected with camera_extrinsic; '
                        'all zero = the image centre', lambda v: len(v) == 3, '3 numbers')
        on_object = declare(self, 'object_crop', True,
                            'narrow the crop to what stands above the table (needs a calibrated '
                            'camera_extrinsic and table_height)')
        table = declare(self, 'table_height', 0.0, 'height of the table plane in the base frame '
                        '(m)', between(-10.0, 10.0, low_open=True, high_open=True),
                        'metres within 10 m of the base')
        min_height = declare(self, 'object_min_height', 0.003,
                             'height above the table from which a pixel counts as object (m); '
                             'about 0.008 for a raw RealSense at 0.75 m',
                             between(0.0, 0.35, low_open=True, high_open=True),
                             'metres in (0, 0.35)')
        self.object = ObjectCrop(table_z=table, min_height=min_height) if on_object else None
        self.extrinsic = CameraExtrinsic(self, declare(self, 'base_frame', 'panda_link0',
                                                       'robot base frame (TF parent)'))
        self.center = None if min(center) < 0 else tuple(center)
        self.center_point = tuple(point) if self.center is None and any(point) else None
        self.frames = FrameMatcher()
        for kind, topic in (('color', 'camera/color/image_raw'),
                            ('depth', 'camera/aligned_depth_to_color/image_raw'),
                            ('info', 'camera/color/camera_info')):
            msg_type = conv.CameraInfo if kind == 'info' else conv.Image
            self.create_subscription(msg_type, topic,
                                     lambda m, k=kind: self.on_part(k, m), SENSOR_DATA)
        self.pub = {k: self.create_publisher(conv.CameraInfo if k == 'info' else conv.Image,
                                             f'crop/{t}', LATCHED if k == 'info' else SENSOR_DATA)
                    for k, t in (('color', 'color'), ('depth', 'depth'), ('info', 'camera_info'))}
        self.device = None
        if source != 'topics':
            from rt_grasp_ros.perception.sources import open_source

            self.device = open_source(
                source, base_from_camera=self.extrinsic.require_fixed(f'source {source}'))
            self.running = True
            threading.Thread(target=self.read_device, name=source, daemon=True).start()
        narrowed = ', narrowed to the object' if self.object else ''
        self.get_logger().info(f'ready: {source} source, {self.size}x{self.size} crop{narrowed}')

    def read_device(self):
        """Read frames from the camera and publish their crops."""
        while self.running and self.context.ok():
            frame = self.device.read(timeout=1.0)
            self.publish_crop(frame, self.get_clock().now().to_msg())

    def destroy_node(self):
        """Stop the camera, then destroy the node."""
        if self.device is not None:
            self.running = False
            self.device.close()
        super().destroy_node()

    def on_part(self, kind, msg):
        """Collect colour, depth and info of one stamp; crop when all three are there."""
        parts = self.frames.add(kind, msg)
        if parts is None:
            return
        color, depth, info = parts
        try:
            frame, _ = conv.frame_from_msgs(color, depth, info, self.extrinsic.base_from_camera(
                color.header.frame_id, color.header.stamp, timeout=0.1))
        except RtGraspError as exc:
            self.get_logger().error(f'frame dropped: {exc}', throttle_duration_sec=5.0)
            return
        self.publish_crop(frame, color.header.stamp)

    def publish_crop(self, frame, stamp):
        """Crop ``frame`` to the workspace; publish colour, depth and the crop's camera info."""
        try:
            crop = crop_workspace(frame, self.size, self.center, self.center_point)
            if self.object is not None:
                crop, found = crop_object(crop, self.object)
                if not found:
                    self.get_logger().warn('nothing stands above the table: publishing the '
                                           'whole workspace crop', throttle_duration_sec=5.0)
        except RtGraspError as exc:
            self.get_logger().error(f'frame dropped: {exc}', throttle_duration_sec=5.0)
            return
        frame_id = frame.camera.frame_id
        self.pub['color'].publish(conv.rgb_to_msg(crop.frame.rgb, frame_id, stamp))
        self.pub['depth'].publish(conv.depth_to_msg(crop.frame.depth, frame_id, stamp))
        self.pub['info'].publish(
            conv.camera_info_to_msg(crop.frame.camera, crop.origin, stamp))


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(CameraNode, args, threads=0)


if __name__ == '__main__':
    sys.exit(main())
