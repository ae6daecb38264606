"""
QoS profiles shared by the rt_grasp nodes and their clients.

- SENSOR_DATA: camera images, depth and the drivers' camera info (best effort, keep last 5,
  volatile), as camera drivers publish them; a reliable subscriber would receive nothing from
  a best-effort publisher, so image subscribers use this profile too. The camera node
  publishes its crop's colour and depth images with it.
- LATCHED: results that a late subscriber must still get: reliable, transient local, keep
  last 1. The planner's last grasp and markers, and the workspace crop's camera info
  (``crop/camera_info``): a reliable, transient-local publisher matches every subscriber
  (best-effort or reliable, volatile or transient local), so the planner's SENSOR_DATA
  subscription gets it with each frame and a tool that subscribes later still gets the crop's
  geometry.
- STATE_READER: for subscribing to franka_robot_state_broadcaster, which publishes best effort:
  a best-effort reader matches both best-effort and reliable publishers.
- COMMAND: commands and ordinary topics (reliable, volatile, keep last 10).
"""

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    qos_profile_sensor_data,
    QoSProfile,
    ReliabilityPolicy,
)

SENSOR_DATA = qos_profile_sensor_data

LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

STATE_READER = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)

COMMAND = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

__all__ = ['COMMAND', 'LATCHED', 'SENSOR_DATA', 'STATE_READER']
