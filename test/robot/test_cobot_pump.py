"""The Cobot Pump client (panda-python's VacuumGripper in a worker) against the test server."""

import threading
import time

import pytest

pytest.importorskip("panda_py", reason="panda-python is missing: `make setup` installs it")

from robot import sim_servers

from rt_grasp_ros.robot.cobot_pump import CobotPump, PumpError

pytestmark = pytest.mark.xdist_group("cobot_pump")


@pytest.fixture(scope="module")
def pump_server(tmp_path_factory):
    host = sim_servers.free_loopback()
    server = sim_servers.start_pump(host, tmp_path_factory.mktemp("pump") / "pump.log")
    yield host, server
    server.stop()


@pytest.fixture
def pump(pump_server):
    host, server = pump_server
    for line in ("part 1", "lose none", "answer 1"):
        server.say(line)
    client = CobotPump(host, margin=0.5)
    yield client, server
    client.close()


def test_vacuum_with_a_part_then_drop_off(pump):
    client, _ = pump
    assert client.connect() == 1
    result = client.vacuum(75, 0, 0.5)
    assert result.success and result.state.part_present and result.state.vacuum == 750
    dropped = client.drop_off(0.5)
    assert dropped.success and dropped.state.part_detached and not dropped.state.part_present


def test_vacuum_without_a_part_is_unsuccessful(pump):
    client, server = pump
    server.say("part 0")
    result = client.vacuum(75, 0, 0.2)
    assert not result.success and not result.state.part_present


def test_a_part_lost_after_the_vacuum_shows_in_the_state(pump):
    client, server = pump
    server.say("lose 0.2")
    assert client.vacuum(75, 0, 0.5).state.part_present
    time.sleep(0.4)
    assert not client.state().part_present


def test_a_pump_that_never_answers_is_bounded(pump):
    client, server = pump
    client.connect()
    server.say("answer 0")
    t0 = time.monotonic()
    with pytest.raises(PumpError, match="no answer"):
        client.vacuum(75, 0, 0.3)
    assert time.monotonic() - t0 < 0.3 + 0.5 + 0.5


def test_cancel_stops_a_running_vacuum(pump):
    client, server = pump
    client.connect()
    server.say("part 0")
    timer = threading.Timer(0.2, client.cancel)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(PumpError, match="cancelled"):
        client.vacuum(75, 0, 3.0)
    assert time.monotonic() - t0 < 1.0
    timer.join(5.0)
    assert server.say("commands").split()[-1] == "stop"


def test_connection_refused_says_so():
    with pytest.raises(PumpError, match="refused"):
        CobotPump(sim_servers.free_loopback(), connect_timeout=10.0).connect()
