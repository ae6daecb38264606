"""
Crop the RGB-D stream to the workspace and publishes the crop with its own CameraInfo.

Source ``topics`` subscribes to any driver (realsense2_camera, the Azure Kinect driver, the
sim). The crop is the paper's 400x400 square around a pixel (parameter) or in the image
centre; its CameraInfo has the principal point shifted and the crop's place in ``roi``.
"""

import sys
import threading

from rclpy.node import Node
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import crop_workspace
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.params import declare, one_of, positive, run_node
from rt_grasp_ros.ros.qos import SENSOR_DATA


class CameraNode(Node):
    """Publishes ``crop/color``, ``crop/depth`` and ``crop/camera_info``."""

    def __init__(self):
        super().__init__('camera')
        declare(self, 'source', 'topics', 'topics (any driver or the sim); realsense and '
                'kinect: not built yet', one_of('topics'), "'topics'")
        self.size = declare(self, 'crop_size', 400, 'crop side (pixels)', positive, '> 0')
        center = declare(self, 'crop_center', [-1.0, -1.0],
                         'crop centre pixel (u, v); negative = image centre',
                         lambda v: len(v) == 2, '2 numbers')
        self.center = None if min(center) < 0 else tuple(center)
        self.parts, self.lock = {}, threading.Lock()
        for kind, topic in (('color', 'camera/color/image_raw'),
                            ('depth', 'camera/aligned_depth_to_color/image_raw'),
                            ('info', 'camera/color/camera_info')):
            msg_type = conv.CameraInfo if kind == 'info' else conv.Image
            self.create_subscription(msg_type, topic,
                                     lambda m, k=kind: self.on_part(k, m), SENSOR_DATA)
        self.pub = {k: self.create_publisher(conv.CameraInfo if k == 'info' else conv.Image,
                                             f'crop/{t}', SENSOR_DATA)
                    for k, t in (('color', 'color'), ('depth', 'depth'), ('info', 'camera_info'))}
        self.get_logger().info(f'ready: {self.size}x{self.size} crop')

    def on_part(self, kind, msg):
        """Collect colour, depth and info of one stamp; crop when all three are there."""
        with self.lock:
            self.parts[kind] = msg
            if len(self.parts) < 3:
                return
            stamps = {conv.stamp_to_sec(m.header.stamp) for m in self.parts.values()}
            if len(stamps) != 1:
                return
            color, depth, info = self.parts['color'], self.parts['depth'], self.parts['info']
            self.parts = {}
        try:
            frame, _ = conv.frame_from_msgs(color, depth, info, conv.Pose())
            crop = crop_workspace(frame, self.size, self.center)
        except RtGraspError as exc:
            self.get_logger().error(f'frame dropped: {exc}', throttle_duration_sec=5.0)
            return
        stamp, frame_id = color.header.stamp, info.header.frame_id
        self.pub['color'].publish(conv.rgb_to_msg(crop.frame.rgb, frame_id, stamp))
        self.pub['depth'].publish(conv.depth_to_msg(crop.frame.depth, frame_id, stamp))
        self.pub['info'].publish(
            conv.camera_info_to_msg(crop.frame.camera, crop.origin, stamp))


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(CameraNode, args, threads=0)


if __name__ == '__main__':
    sys.exit(main())
