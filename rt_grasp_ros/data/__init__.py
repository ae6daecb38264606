"""Datasets: Cornell and Jacquard loaders, augmentation, splits and the LLaVA-layout builder."""

from rt_grasp_ros.data.sample import GraspSample

__all__ = ["GraspSample"]
