"""Perception, ROS-free: pinhole camera models, RGB-D frames and the workspace crop."""

from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.crop import WorkspaceCrop, crop_workspace
from rt_grasp_ros.perception.frame import RGBDFrame

__all__ = ["PinholeCamera", "RGBDFrame", "WorkspaceCrop", "crop_workspace"]
