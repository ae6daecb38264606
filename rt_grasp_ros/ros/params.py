"""Declared, described and validated node parameters (a bad value names itself)."""

from rcl_interfaces.msg import ParameterDescriptor
from rt_grasp_ros.errors import ConfigError


def declare(node, name: str, default, description: str, check=None, why: str = ''):
    """
    Declare ``name`` with a description; return its value, or raise ConfigError if invalid.

    ``check(value) -> bool`` validates it; ``why`` says what was expected.
    """
    value = node.declare_parameter(
        name, default, ParameterDescriptor(description=description)).value
    if check is not None and not check(value):
        raise ConfigError(f'parameter {name}={value!r} is invalid: expected {why}')
    return value


def positive(value) -> bool:
    """Check for a number above zero."""
    return value > 0


def one_of(*allowed):
    """Make a check that the value is one of ``allowed``."""
    return lambda value: value in allowed
