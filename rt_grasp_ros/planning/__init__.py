"""Grasp planning, ROS-free: the model's answer on a crop -> a TCP target in the base frame."""
