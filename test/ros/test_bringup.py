"""Bring-up leaves no process behind: start-up that fails half way stops what it started.

The stack's real node processes are started (sim:=true without a model: sim, camera,
grasp_executor); afterwards psutil looks for any rt_grasp node process in this test's ROS
domain, orphans included.
"""

import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("mujoco")
psutil = pytest.importorskip("psutil")

from rt_grasp_ros.errors import RtGraspError  # noqa: E402
from rt_grasp_ros.ros.bringup import Stack, start_nodes, stop_nodes  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.xdist_group("ros_stack")]

STACK = {"sim": "true", "model": ""}
BAD_CAMERA = {"camera": {"object_min_height": 0.5}}  # the camera node refuses it: exit 2


def survivors(domain):
    """rt_grasp node processes (not zombies) in ROS domain ``domain``, as 'pid cmdline'."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "rt_grasp_ros.ros." not in cmdline or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            env = proc.environ()
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if env.get("ROS_DOMAIN_ID") == str(domain):
            found.append(f"{proc.info['pid']} {cmdline}")
    return found


def test_an_interrupt_during_start_up_stops_the_nodes_already_started(ros_domain):
    started = []

    def log(line):  # Ctrl-C arrives while the third node is about to start
        started.append(line)
        if len(started) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        start_nodes(STACK, log=log, output=subprocess.DEVNULL)
    assert [line.split(":")[0] for line in started[:3]] == [
        "starting sim",
        "starting camera",
        "starting grasp_executor",
    ]
    assert started[-1] == "all nodes stopped"
    assert survivors(ros_domain) == []


def test_stack_stops_every_node_when_one_exits_at_start(ros_domain):
    lines = []
    sent = time.monotonic()
    stack = Stack(STACK, BAD_CAMERA, log=lines.append)
    with pytest.raises(RtGraspError) as info, stack:
        assert [name for name, _ in stack.procs] == ["sim", "camera", "grasp_executor"]
        stack.wait_until(lambda: False, 60.0, "never")
    took = time.monotonic() - sent
    message = str(info.value)
    assert message.startswith("camera exited with status 2"), message
    assert "object_min_height=0.5" in message  # the node's own words
    assert lines[-1] == "all nodes stopped" and stack.status == 1  # one node failed
    assert stack.exits["camera"] == 2 and set(stack.exits) == {"sim", "camera", "grasp_executor"}
    assert survivors(ros_domain) == []
    assert took < 30.0


def test_stack_stops_the_started_nodes_if_its_start_up_fails(ros_domain):
    def log(line):
        if line.startswith("starting grasp_executor"):
            raise OSError("no more processes")

    with pytest.raises(OSError, match="no more processes"), Stack(STACK, log=log):
        pytest.fail("the block must not run")
    assert survivors(ros_domain) == []


def test_rt_grasp_ros_up_reports_the_node_that_exited_and_stops_the_rest(ros_domain, tmp_path):
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rt_grasp_ros.cli.main",
                "ros",
                "up",
                "sim:=true",
                "model:=",
                "--param",
                "camera.object_min_height:=0.5",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        try:
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
    text = log_path.read_text()
    assert code == 2, text[-3000:]
    assert "camera exited with status 2; stopping the others" in text, text[-3000:]
    assert "object_min_height=0.5" in text and "all nodes stopped" in text
    assert survivors(ros_domain) == []


def test_up_rejects_a_param_for_a_node_it_does_not_start(capsys):
    from rt_grasp_ros.cli.main import main

    assert (
        main(["ros", "up", "sim:=true", "model:=", "--param", "grasp_planner.dtype:=x", "--print"])
        == 2
    )
    assert "grasp_planner" in capsys.readouterr().err


def test_stop_nodes_kills_what_a_node_left_in_its_group(tmp_path):
    # a "node" that starts a child ignoring SIGINT in its group, and exits on SIGINT at once
    grandchild = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"
    )
    code = (
        "import signal, subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); "
        "print(child.pid, flush=True); "
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(0)); time.sleep(120)"
    )
    out = tmp_path / "pid"
    with out.open("wb") as f:
        node = subprocess.Popen([sys.executable, "-c", code], stdout=f, start_new_session=True)
    deadline = time.monotonic() + 20
    while not out.read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = psutil.Process(int(out.read_text()))
    time.sleep(0.5)  # the child has set its SIGINT handler
    assert stop_nodes([("node", node)], log=lambda _: None) == 0
    _, alive = psutil.wait_procs([child], timeout=5)
    assert not alive or alive[0].status() == psutil.STATUS_ZOMBIE, "the child survived"
