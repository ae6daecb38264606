"""Interface types chosen by what is installed: the standard one where present."""

import importlib


def gripper_command_action(name: str = 'auto'):
    """
    Return the GripperCommand action type.

    ``auto``: ``control_msgs/action/GripperCommand`` (franka_gripper, most grippers) where
    control_msgs is installed, else ``rt_grasp/action/GripperCommand`` (the same fields).
    Otherwise ``package/action/Type``.
    """
    if name == 'auto':
        try:
            return importlib.import_module('control_msgs.action').GripperCommand
        except ImportError:
            return importlib.import_module('rt_grasp.action').GripperCommand
    package, kind, type_name = name.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), type_name)
