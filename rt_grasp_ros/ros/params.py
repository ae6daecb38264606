"""
Declared, described and validated node parameters (a bad value names itself, exit status 2).

``declare(node, name, default, description, check, why)`` declares a read-only parameter and
returns its value. ``check`` is a predicate, or a :class:`Range` (``between``, ``above``,
``at_least``), which also fills the descriptor's ``floating_point_range`` / ``integer_range``
when both of its ends are finite, so ``ros2 param describe`` and rqt show it. A value of the
wrong type (``-p lift_height:=abc``), out of range or rejected by ``check`` raises ConfigError
naming the parameter, the value and what was expected; ``run_node`` logs it and exits with 2.
"""

import math

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rt_grasp_ros.errors import ConfigError

# What a parameter type is called in messages, by the Python type of a value (or element) of it.
_TYPE_NAMES = {bool: ('a boolean (true or false)', 'booleans'), int: ('an integer', 'integers'),
               float: ('a floating-point number', 'floating-point numbers'),
               str: ('a string', 'strings'), bytes: ('a byte array', 'byte arrays')}
_INT64 = (-2 ** 63, 2 ** 63 - 1)


def _number(value) -> str:
    """Write a bound without a trailing '.0' (0.35, 1, 400)."""
    return f'{value:g}' if isinstance(value, float) else str(value)


class Range:
    """
    A numeric range that validates a value and describes itself in the parameter descriptor.

    ``low`` / ``high`` (None: unbounded) are included unless ``low_open`` / ``high_open``.
    A ROS range is closed and finite: with both ends finite the descriptor carries [low, high]
    (an open integer end moves by one, so the integer range is exact; an open floating-point
    end is enforced here and stated in ``additional_constraints``).
    """

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False):
        if low is not None and high is not None and low > high:
            raise ValueError(f'range low {low} is above high {high}')
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open

    def __call__(self, value) -> bool:
        """Return whether ``value`` (a number) is in the range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        above_low = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below_high = self.high is None or (
            value < self.high if self.high_open else value <= self.high)
        return above_low and below_high

    def __str__(self):
        """Say the range: 'a number in (0, 0.35]', 'a number > 0', 'a number <= 5'."""
        if self.low is not None and self.high is not None:
            left, right = '(' if self.low_open else '[', ')' if self.high_open else ']'
            return f'a number in {left}{_number(self.low)}, {_number(self.high)}{right}'
        if self.low is not None:
            return f'a number {">" if self.low_open else ">="} {_number(self.low)}'
        if self.high is not None:
            return f'a number {"<" if self.high_open else "<="} {_number(self.high)}'
        return 'any number'

    def fill(self, descriptor: ParameterDescriptor, default) -> None:
        """Set the descriptor's range for a parameter whose default is ``default``."""
        if self.low is None or self.high is None:
            return  # a ROS range cannot be half-open: the check alone enforces it
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise TypeError(f'a Range needs an integer or floating-point default, '
                            f'not {default!r}')
        if isinstance(default, int):
            low = math.floor(self.low) + 1 if self.low_open else math.ceil(self.low)
            high = math.ceil(self.high) - 1 if self.high_open else math.floor(self.high)
            descriptor.integer_range = [IntegerRange(
                from_value=max(low, _INT64[0]), to_value=min(high, _INT64[1]), step=0)]
        else:
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(self.low), to_value=float(self.high), step=0.0)]


def between(low, high, *, low_open=False, high_open=False) -> Range:
    """Return the range [low, high] (an end excluded with ``low_open`` / ``high_open``)."""
    return Range(low, high, low_open=low_open, high_open=high_open)


def above(low, high=None, *, high_open=False) -> Range:
    """Return the range (low, high]: above ``low``, at most ``high`` (None: unbounded)."""
    return Range(low, high, low_open=True, high_open=high_open)


def at_least(low, high=None) -> Range:
    """Return the range [low, high] (``high`` None: unbounded)."""
    return Range(low, high)


positive = above(0)
"""A number above zero (no upper bound, so no descriptor range)."""


def _type_name(value) -> str:
    if isinstance(value, (list, tuple)):
        if not value:
            return 'an empty array'
        return 'an array of ' + _TYPE_NAMES.get(type(value[0]), ('', 'values'))[1]
    return _TYPE_NAMES.get(type(value), (type(value).__name__,))[0]


def _wrong_type(name, default, given) -> ConfigError:
    """Say that ``given`` is not of the type of ``default``, with the fix where obvious."""
    hint = ''
    if isinstance(default, float) and isinstance(given, int) and not isinstance(given, bool):
        hint = f' (write {given}.0)'
    elif isinstance(default, list) and default and isinstance(default[0], float):
        hint = ' (write every element with a decimal point, e.g. [0.0, 1.0])'
    return ConfigError(f'parameter {name}={given!r} has the wrong type: expected '
                       f'{_type_name(default)}{hint}, got {_type_name(given)}')


def _override(node, name):
    """Return the value given on the command line or in a parameter file (None if none)."""
    override = getattr(node, '_parameter_overrides', {}).get(name)
    return None if override is None else override.value


def declare(node, name: str, default, description: str, check=None, why: str = ''):
    """
    Declare ``name`` with a description; return its value, or raise ConfigError if invalid.

    ``check(value) -> bool`` validates it (a :class:`Range` also fills the descriptor's
    range); ``why`` says what was expected (default: the Range's own words).
    """
    expected = why or (str(check) if isinstance(check, Range) else '')
    # Read-only: the nodes read their parameters once, so a later change would be ignored;
    # ROS refuses it with a message instead.
    descriptor = ParameterDescriptor(description=description, read_only=True,
                                     additional_constraints=expected)
    if isinstance(check, Range):
        check.fill(descriptor, default)
    try:
        value = node.declare_parameter(name, default, descriptor).value
    except InvalidParameterTypeException:
        raise _wrong_type(name, default, _override(node, name)) from None
    except InvalidParameterValueException as exc:  # out of the descriptor's range
        raise ConfigError(f'parameter {name}={_override(node, name)!r} is invalid: expected '
                          f'{expected or exc}') from None
    if check is not None and not check(value):
        raise ConfigError(f'parameter {name}={value!r} is invalid: expected {expected}')
    return value


def one_of(*allowed):
    """Make a check that the value is one of ``allowed``."""
    return lambda value: value in allowed


def run_node(node_class, args=None, threads=0):
    """
    Run a node until Ctrl-C: the standard main() of every rt_grasp node.

    A bad parameter while the node starts (a ConfigError, or rclpy refusing a value's type or
    range) is logged and exits with status 2. ``threads`` > 0 spins a MultiThreadedExecutor
    with that many threads.
    """
    import rclpy
    from rclpy.exceptions import ParameterException
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    rclpy.init(args=args)
    node = None
    try:
        try:
            node = node_class()
        except (ConfigError, ParameterException) as exc:
            # rclpy's ParameterException says 'parameter: name' itself
            rclpy.logging.get_logger(node_class.__name__).error(str(exc))
            return 2
        if threads:
            executor = MultiThreadedExecutor(num_threads=threads)
            executor.add_node(node)
            executor.spin()
        else:
            rclpy.spin(node)
    except ConfigError as exc:
        rclpy.logging.get_logger(node_class.__name__).error(str(exc))
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
