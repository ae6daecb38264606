"""Declared, described and validated node parameters (a bad value names itself)."""

from rcl_interfaces.msg import ParameterDescriptor
from rt_grasp_ros.errors import ConfigError


def declare(node, name: str, default, description: str, check=None, why: str = ''):
    """
    Declare ``name`` with a description; return its value, or raise ConfigError if invalid.

    ``check(value) -> bool`` validates it; ``why`` says what was expected.
    """
    # Read-only: the nodes read their parameters once, so a later change would be ignored;
    # ROS refuses it with a message instead.
    value = node.declare_parameter(
        name, default, ParameterDescriptor(description=description, read_only=True)).value
    if check is not None and not check(value):
        raise ConfigError(f'parameter {name}={value!r} is invalid: expected {why}')
    return value


def positive(value) -> bool:
    """Check for a number above zero."""
    return value > 0


def one_of(*allowed):
    """Make a check that the value is one of ``allowed``."""
    return lambda value: value in allowed


def run_node(node_class, args=None, threads=0):
    """
    Run a node until Ctrl-C: the standard main() of every rt_grasp node.

    A ConfigError while the node starts (a bad parameter) is logged and exits with status 2.
    ``threads`` > 0 spins a MultiThreadedExecutor with that many threads.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    rclpy.init(args=args)
    node = None
    try:
        node = node_class()
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
