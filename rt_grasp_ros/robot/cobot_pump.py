"""The Franka Cobot Pump through libfranka's ``VacuumGripper``, every wait bounded.

pylibfranka has no vacuum binding; panda-python's ``libfranka.VacuumGripper`` (libfranka 0.9.2)
has one. Its calls block in C++ *holding the GIL* (measured: no other Python thread runs while
``vacuum()`` waits on the device), so a pump that never answers would freeze a whole ROS node.
The library therefore runs in a worker process of its own (``python -m
rt_grasp_ros.robot.cobot_pump ADDRESS``) that takes one JSON request a line on stdin and
answers one JSON line on stdout; :class:`CobotPump` waits for each answer at most a bound,
kills a worker that overruns it and starts a fresh one for the next call. Cancelling a running
command kills the worker and sends ``stop()`` from a fresh connection.

libfranka's own errors (connection refused, a failed or aborted command) come back with their
text in :class:`PumpError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from rt_grasp_ros.errors import RtGraspError

STATE_FIELDS = (
    "in_control_range",
    "part_detached",
    "part_present",
    "device_status",
    "actual_power",
    "vacuum",
)
DEFAULT_VACUUM = 75  # 10 mbar units: 750 mbar
MAX_PROFILE = 3


class PumpError(RtGraspError):
    """The Cobot Pump failed: libfranka's error text, or no answer within the bound."""


@dataclass(frozen=True)
class PumpState:
    """franka::VacuumGripperState: vacuum in mbar, power in percent, status 0 green .. 3 red."""

    in_control_range: bool = False
    part_detached: bool = False
    part_present: bool = False
    device_status: int = 0
    actual_power: int = 0
    vacuum: int = 0


@dataclass(frozen=True)
class PumpResult:
    """What a command did: libfranka's boolean answer and the state right after it."""

    success: bool
    state: PumpState
    message: str = ""


def check_command(command: int, vacuum: int, profile: int, timeout: float) -> str | None:
    """Return why a vacuum action goal is invalid, or None (``command`` 0 vacuum, 1 drop off)."""
    if command not in (0, 1):
        return f"command {command} is not VACUUM (0) or DROP_OFF (1)"
    if not 0 <= profile <= MAX_PROFILE:
        return f"profile {profile} is not PROFILE_P0 .. PROFILE_P3 (0 .. 3)"
    if not 0 <= vacuum <= 255:
        return f"vacuum {vacuum} is not in 0 .. 255 (10 mbar units)"
    if not (timeout == timeout and 0.0 <= timeout < 3600.0):
        return f"timeout {timeout} s must be >= 0 (0 = the default) and below 3600"
    return None


class CobotPump:
    """A Cobot Pump at ``address`` behind a worker process; every call waits at most a bound."""

    def __init__(
        self,
        address: str,
        margin: float = 2.0,
        connect_timeout: float = 10.0,
        python: str | None = None,
    ):
        self.address, self.margin, self.connect_timeout = address, margin, connect_timeout
        self.python = python or sys.executable
        self._proc = None
        self._lock = threading.Lock()  # one request at a time on the pipe
        self._killed = threading.Event()

    # -- the worker --------------------------------------------------------------------------

    def _start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            [self.python, "-m", "rt_grasp_ros.robot.cobot_pump", self.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self._killed.clear()
        hello = self._read(self.connect_timeout, "connecting")
        if not hello.get("ok"):
            self._discard()
            raise PumpError(hello.get("error", "the pump worker did not start"))

    def _kill(self, proc=None) -> None:
        """Kill the worker (``proc``: only if it is still the current one); never blocks long."""
        proc = proc or self._proc
        if proc is None:
            return
        self._killed.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2.0)

    def _discard(self) -> None:
        """Forget a dead worker and close its pipes (with the lock held)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._kill(proc)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def _read(self, timeout: float, what: str) -> dict:
        proc = self._proc
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._discard()
                raise PumpError(
                    f"the Cobot Pump at {self.address} gave no answer {what} within {timeout:g} s"
                )
            try:
                ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.05))
            except (ValueError, OSError):  # the worker was killed by cancel()
                raise PumpError(f"{what}: the command was cancelled") from None
            if self._killed.is_set():
                self._discard()
                raise PumpError(f"{what}: the command was cancelled")
            if ready:
                line = proc.stdout.readline()
                if line:
                    return json.loads(line)
                err = b""
                with contextlib.suppress(OSError, ValueError):
                    err = proc.stderr.read()
                self._discard()
                tail = err.decode(errors="replace").strip().splitlines()[-3:]
                raise PumpError(f"the pump worker exited {what}: {' / '.join(tail)}")

    def _call(self, request: dict, timeout: float) -> dict:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._discard()
                self._start()
            try:
                self._proc.stdin.write((json.dumps(request) + "\n").encode())
                self._proc.stdin.flush()
            except (OSError, ValueError) as exc:
                self._discard()
                raise PumpError(f"the pump worker is gone: {exc}") from None
            answer = self._read(timeout, f"to {request['op']}")
        if not answer.get("ok"):
            raise PumpError(answer.get("error", "unknown error"))
        return answer

    # -- commands ----------------------------------------------------------------------------

    def connect(self) -> int:
        """Start the worker and connect; return the pump's protocol version."""
        return int(self._call({"op": "version"}, self.connect_timeout)["version"])

    def state(self, timeout: float = 1.0) -> PumpState:
        """Read one state (franka::VacuumGripper::readOnce)."""
        return PumpState(**self._call({"op": "state"}, timeout)["state"])

    def vacuum(self, level: int, profile: int, timeout: float) -> PumpResult:
        """Build up ``level`` (10 mbar units) with ``profile``; False if it did not (no part)."""
        answer = self._call(
            {
                "op": "vacuum",
                "vacuum": int(level),
                "profile": int(profile),
                "timeout": float(timeout),
            },
            timeout + self.margin,
        )
        return PumpResult(answer["result"], PumpState(**answer["state"]))

    def drop_off(self, timeout: float) -> PumpResult:
        """Release the part (franka::VacuumGripper::dropOff)."""
        answer = self._call({"op": "drop_off", "timeout": float(timeout)}, timeout + self.margin)
        return PumpResult(answer["result"], PumpState(**answer["state"]))

    def stop(self) -> bool:
        """Stop the running command (franka::VacuumGripper::stop)."""
        return bool(self._call({"op": "stop"}, self.margin)["result"])

    def cancel(self) -> bool:
        """Abort a running command: kill its worker, then stop() from a fresh connection."""
        self._kill()  # the waiting call returns 'cancelled' within 50 ms, then frees the pipe
        return self.stop()

    def close(self) -> None:
        """Stop the worker (bounded)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
        with self._lock:
            self._discard()


# -- the worker process (owns the libfranka connection) -------------------------------------


def _state_dict(state) -> dict:
    return {
        "in_control_range": bool(state.in_control_range),
        "part_detached": bool(state.part_detached),
        "part_present": bool(state.part_present),
        "device_status": int(state.device_status.value),
        "actual_power": int(state.actual_power),
        "vacuum": int(state.vacuum),
    }


def _worker(address: str) -> int:
    import datetime

    from rt_grasp_ros.optional import require

    out = sys.stdout

    def say(**answer):
        out.write(json.dumps(answer) + "\n")
        out.flush()

    try:
        libfranka = require("panda_py.libfranka", "the Cobot Pump (franka::VacuumGripper)")
        gripper = libfranka.VacuumGripper(address)
    except Exception as exc:  # noqa: BLE001 - libfranka's error text goes to the caller
        say(
            ok=False,
            error=f"cannot connect to the Cobot Pump at {address}: {type(exc).__name__}: {exc}",
        )
        return 1
    say(ok=True)
    profiles = libfranka.VacuumGripperProductionSetupProfile
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "version":
                say(ok=True, version=int(gripper.server_version()))
            elif op == "state":
                say(ok=True, state=_state_dict(gripper.read_once()))
            elif op == "vacuum":
                timeout = datetime.timedelta(seconds=request["timeout"])
                profile = getattr(profiles, f"kP{request['profile']}")
                result = gripper.vacuum(request["vacuum"], timeout, profile)
                say(ok=True, result=bool(result), state=_state_dict(gripper.read_once()))
            elif op == "drop_off":
                result = gripper.drop_off(datetime.timedelta(seconds=request["timeout"]))
                say(ok=True, result=bool(result), state=_state_dict(gripper.read_once()))
            elif op == "stop":
                say(ok=True, result=bool(gripper.stop()))
            else:
                say(ok=False, error=f"unknown request {op!r}")
        except Exception as exc:  # noqa: BLE001 - libfranka's error text goes to the caller
            say(ok=False, error=f"{op}: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1]))
