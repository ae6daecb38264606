"""The reasoning-tuned grasp model: backbones, training, inference and evaluation.

Needs the ``vlm`` extra (torch, transformers, peft, accelerate); modules import torch lazily
through :mod:`rt_grasp_ros.optional` so that the rest of the package works without it.
"""
