"""rt_grasp: reasoning-tuned grasp prediction with a multimodal LLM, for ROS 2 and a Franka arm.

Everything outside :mod:`rt_grasp_ros.ros` is ROS-free.
"""

__version__ = "0.1.0"
