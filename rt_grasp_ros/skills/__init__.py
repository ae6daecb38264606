"""Robot skills over the :class:`~rt_grasp_ros.skills.motion.Motion` protocol, ROS-free.

The same skill code drives the in-process simulator and, through ROS clients, a real Franka.
"""
