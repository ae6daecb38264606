"""The NodeProcess fixture: a node in a child process, its ready line, SIGINT and SIGKILL."""

import sys
import textwrap

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from rt_grasp.msg import Grasp  # noqa: E402

from rt_grasp_ros.ros import qos  # noqa: E402

pytestmark = pytest.mark.ros

# A node written like the rt_grasp nodes will be: logs a ready line, exits 0 on SIGINT.
ECHO_NODE = textwrap.dedent(
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rt_grasp.msg import Grasp

    from rt_grasp_ros.ros import qos


    def main():
        rclpy.init()
        node = rclpy.create_node('echo_node')
        pub = node.create_publisher(Grasp, 'grasp_out', qos.LATCHED)

        def on_grasp(msg):
            msg.reasoning = 'echo: ' + msg.reasoning
            pub.publish(msg)

        node.create_subscription(Grasp, 'grasp_in', on_grasp, 10)
        node.get_logger().info('echo_node ready')
        try:
            rclpy.spin(node)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            node.destroy_node()
            rclpy.try_shutdown()  # Jazzy: SIGINT already shut the context down


    main()
    """
)


def test_node_in_a_child_process_answers_and_stops_cleanly(
    ros_node, spin_until, start_node, tmp_path
):
    script = tmp_path / "echo_node.py"
    script.write_text(ECHO_NODE)
    cmd = [sys.executable, script, "--ros-args", "-r", "__ns:=/echo"]
    proc = start_node("echo_node", cmd=cmd, ready="echo_node ready", timeout=60)

    received = []
    ros_node.create_subscription(Grasp, "/echo/grasp_out", received.append, qos.LATCHED)
    pub = ros_node.create_publisher(Grasp, "/echo/grasp_in", 10)

    def echoed():
        if not received:  # the child's subscription may not have matched yet: send again
            pub.publish(Grasp(reasoning="hello", width=0.03))
        return bool(received)

    assert spin_until(ros_node, echoed, 30), proc.output()
    assert received[0].reasoning == "echo: hello" and received[0].width == 0.03
    assert ("echo_node", "/echo") in ros_node.get_node_names_and_namespaces()
    proc.stop_cleanly()
    assert proc.proc.returncode == 0 and not proc.killed


def test_a_node_that_dies_before_ready_fails_with_its_output(start_node):
    code = "import sys; print('boom: no camera'); sys.exit(3)"
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("broken", cmd=[sys.executable, "-c", code], ready="ready", timeout=20)
    message = str(info.value)
    assert "boom: no camera" in message and "exit status 3" in message


def test_a_node_that_ignores_sigint_is_killed(start_node):
    code = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print('stubborn ready', flush=True); time.sleep(120)"
    )
    proc = start_node("stubborn", cmd=[sys.executable, "-c", code], ready="stubborn ready")
    assert proc.stop(timeout=1.0) == -9 and proc.killed
    with pytest.raises(pytest.fail.Exception, match="killed"):
        proc.stop_cleanly()


def test_node_command_forms(node_command):
    module = node_command("grasp_planner", ["-p", "samples:=3"])
    assert module[1:3] == ["-m", "rt_grasp_ros.ros.grasp_planner"]
    assert module[3:] == ["--ros-args", "-p", "samples:=3"]
    launcher = node_command("sim", via="launcher")
    assert launcher[1].endswith("lib/rt_grasp/sim") and launcher[0] == sys.executable
