"""The in-process wiring of the components: camera -> grasp model -> robot, without ROS.

The ROS 2 wiring (rt_grasp_ros/ros) connects the same components through topics, services
and actions.
"""
