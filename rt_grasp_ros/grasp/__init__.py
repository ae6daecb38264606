"""Grasp representations (pose, rectangle) and the rectangle metric."""

from rt_grasp_ros.grasp.angles import angle_difference, wrap_angle
from rt_grasp_ros.grasp.metric import MetricResult, rectangle_metric
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.grasp.rectangle import GraspRectangle

__all__ = [
    "GraspPose",
    "GraspRectangle",
    "MetricResult",
    "angle_difference",
    "rectangle_metric",
    "wrap_angle",
]
