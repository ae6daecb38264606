"""
Node parameters: ranges in the descriptors, and every bad value (wrong type too) exits 2.

The nodes run as child processes (`python -m rt_grasp_ros.ros.<node> --ros-args -p ...`); their
descriptors are read through the describe_parameters service and their publishers' QoS through
the ROS graph, as `ros2 param describe` and `ros2 topic info -v` would.
"""

import math
import subprocess
import sys
import textwrap

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from rcl_interfaces.msg import ParameterType  # noqa: E402
from rcl_interfaces.srv import DescribeParameters  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy  # noqa: E402

from rt_grasp_ros.errors import ConfigError  # noqa: E402
from rt_grasp_ros.ros import params  # noqa: E402

pytestmark = pytest.mark.ros


def run_to_exit(ros_domain, *cmd, timeout=60):
    """Run a node command that should exit by itself; return (status, output)."""
    result = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stdout + result.stderr


# --- Range and declare, in this process ----------------------------------------------------


def test_range_checks_and_words():
    r = params.between(0.0, 0.35, low_open=True, high_open=True)
    assert [r(v) for v in (0.0, 1e-9, 0.2, 0.35, math.nan, "0.2", True)] == [
        False,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert str(r) == "a number in (0, 0.35)"
    assert str(params.at_least(0.0, 60.0)) == "a number in [0, 60]"
    assert str(params.positive) == "a number > 0" and params.positive(1e-6)
    assert not params.positive(0) and not params.positive(-1.0)
    with pytest.raises(ValueError):
        params.between(2, 1)


def declared(overrides, *args):
    """Declare one parameter on a fresh node with these overrides; return (value, descriptor)."""
    node = rclpy.create_node(
        "params_test", parameter_overrides=[Parameter(n, value=v) for n, v in overrides.items()]
    )
    try:
        value = params.declare(node, *args)
        return value, node.describe_parameter(args[0])
    finally:
        node.destroy_node()


@pytest.fixture
def rclpy_context(ros_domain):
    rclpy.init()
    yield
    rclpy.try_shutdown()


def test_a_range_fills_the_descriptor(rclpy_context):
    value, desc = declared({}, "lift", 0.1, "lift (m)", params.above(0.0, 1.0))
    assert value == 0.1 and desc.read_only and desc.type == ParameterType.PARAMETER_DOUBLE
    (fp,) = desc.floating_point_range
    assert (fp.from_value, fp.to_value, fp.step) == (0.0, 1.0, 0.0)
    assert desc.additional_constraints == "a number in (0, 1]" and not desc.integer_range
    # an integer range is exact: an open end moves by one
    _, desc = declared({}, "n", 3, "count", params.between(0, 10, low_open=True))
    (ir,) = desc.integer_range
    assert (ir.from_value, ir.to_value) == (1, 10) and not desc.floating_point_range
    # half-open: no descriptor range (ROS ranges are finite), the check still holds
    _, desc = declared({}, "rate", 5.0, "rate", params.positive)
    assert not desc.floating_point_range and desc.additional_constraints == "a number > 0"
    # a lambda check keeps working (no range) and `why` is the constraint text
    _, desc = declared({}, "xyz", [0.0, 0.0, 0.0], "point", lambda v: len(v) == 3, "3 numbers")
    assert desc.additional_constraints == "3 numbers" and not desc.floating_point_range


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("abc", ["lift='abc'", "wrong type", "floating-point number", "got a string"]),
        (1, ["lift=1", "wrong type", "write 1.0", "got an integer"]),
        (2.0, ["lift=2.0", "is invalid", "a number in (0, 1]"]),  # rclpy's range refuses it
        (0.0, ["lift=0.0", "is invalid", "a number in (0, 1]"]),  # the open end: the check does
    ],
)
def test_a_bad_override_raises_config_error_naming_it(rclpy_context, given, words):
    with pytest.raises(ConfigError) as info:
        declared({"lift": given}, "lift", 0.1, "lift (m)", params.above(0.0, 1.0))
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_wrong_array_and_integer_types_name_themselves(rclpy_context):
    with pytest.raises(
        ConfigError,
        match=r"box=\[0, 1\] has the wrong type: expected an array "
        r"of floating-point numbers .*got an array of integers",
    ):
        declared({"box": [0, 1]}, "box", [0.0, 0.0], "box", lambda v: len(v) == 2, "2 numbers")
    with pytest.raises(ConfigError, match=r"size=1.5 has the wrong type: expected an integer"):
        declared({"size": 1.5}, "size", 400, "crop", params.between(1, 4096))


# --- real nodes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "argument", "words"),
    [
        ("grasp_executor", "lift_height:=abc", ["lift_height='abc'", "floating-point number"]),
        ("grasp_executor", "grasp_force:=40", ["grasp_force=40", "write 40.0"]),
        ("grasp_executor", "lift_height:=2.0", ["lift_height=2.0", "a number in (0, 1]"]),
        ("camera", "crop_size:=1.5", ["crop_size=1.5", "expected an integer"]),
        ("camera", "crop_size:=0", ["crop_size=0", "a number in [1, 4096]"]),
    ],
)
def test_a_node_given_a_bad_parameter_exits_2_naming_it(
    ros_domain, node_command, node, argument, words
):
    code, output = run_to_exit(ros_domain, *node_command(node, ["-p", argument]))
    assert code == 2, output
    for word in words:
        assert word in output, output
    assert "Traceback" not in output


NODE_WITH_A_RAW_DECLARATION = textwrap.dedent(
    """
    import sys
    from rclpy.node import Node
    from rt_grasp_ros.ros.params import run_node


    class Raw(Node):
        def __init__(self):
            super().__init__('raw')
            self.declare_parameter('gain', 1.0)  # not through declare()


    sys.exit(run_node(Raw))
    """
)


def test_run_node_turns_rclpy_parameter_errors_into_exit_2(ros_domain, tmp_path):
    script = tmp_path / "raw_node.py"
    script.write_text(NODE_WITH_A_RAW_DECLARATION)
    code, output = run_to_exit(ros_domain, sys.executable, script, "--ros-args", "-p", "gain:=x")
    assert code == 2, output
    assert "gain" in output and "Traceback" not in output


def describe(ros_node, spin_until, node_name, names):
    client = ros_node.create_client(DescribeParameters, f"/{node_name}/describe_parameters")
    assert spin_until(ros_node, lambda: client.service_is_ready(), 30), node_name
    future = client.call_async(DescribeParameters.Request(names=list(names)))
    assert spin_until(ros_node, future.done, 30), node_name
    return {d.name: d for d in future.result().descriptors}


def test_executor_descriptors_carry_their_ranges(start_node, ros_node, spin_until):
    start_node("grasp_executor")
    got = describe(
        ros_node,
        spin_until,
        "grasp_executor",
        ["lift_height", "hold_time", "grasp_force", "rate", "base_frame"],
    )
    ranges = {
        n: (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value)
        for n, d in got.items()
        if d.floating_point_range
    }
    assert ranges == {
        "lift_height": (0.0, 1.0),
        "hold_time": (0.0, 60.0),
        "grasp_force": (0.0, 140.0),
        "rate": (0.0, 1000.0),
    }
    assert got["lift_height"].additional_constraints == "a number in (0, 1]"
    assert all(d.read_only for d in got.values())


def test_camera_descriptors_and_crop_qos(start_node, ros_node, spin_until):
    start_node("camera", "-p", "camera_extrinsic:=[0.5,0.0,0.75,0.7071068,-0.7071068,0.0,0.0]")
    got = describe(
        ros_node, spin_until, "camera", ["crop_size", "table_height", "object_min_height"]
    )
    (size,) = got["crop_size"].integer_range
    assert (size.from_value, size.to_value) == (1, 4096)
    (height,) = got["object_min_height"].floating_point_range
    assert (height.from_value, height.to_value) == (0.0, 0.35)
    assert got["object_min_height"].additional_constraints == "metres in (0, 0.35)"

    def publishers(topic):
        return ros_node.get_publishers_info_by_topic(topic)

    assert spin_until(ros_node, lambda: publishers("/crop/camera_info"), 20)
    (info,) = publishers("/crop/camera_info")
    # latched (qos.py): matches best-effort and reliable, volatile and transient-local readers
    assert info.qos_profile.reliability == ReliabilityPolicy.RELIABLE
    assert info.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    for topic in ("/crop/color", "/crop/depth"):
        (image,) = publishers(topic)
        assert image.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT, topic
        assert image.qos_profile.durability == DurabilityPolicy.VOLATILE, topic
