"""Start franka-sim (and the test Cobot Pump) on a free loopback address, bounded.

libfranka dials fixed ports (arm 1337, hand 1338, pump 1339), so concurrent test runs on one
machine cannot take "a free port": they take a free loopback address instead (127.0.0.1 first,
then 127.0.0.2 ..., all of them the loopback interface on Linux).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SIM_PYTHON = Path(
    os.environ.get("FRANKA_SIM_PYTHON", ROOT / ".venv-franka-sim" / "bin" / "python")
)
MISSING = (
    f"the franka-sim venv is missing ({SIM_PYTHON}): `make franka-sim` (part of "
    "`make setup`) builds it"
)
START_TIMEOUT_S = 60.0


def sim_available() -> bool:
    return SIM_PYTHON.is_file()


def free_loopback(ports=(1337, 1338, 1339)) -> str:
    """Return a loopback address on which none of ``ports`` is taken."""
    for last in range(1, 60):
        host = f"127.0.0.{last}"
        socks = []
        try:
            for port in ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sock)
                sock.bind((host, port))
            return host
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no loopback address with ports {ports} free")


class Server:
    """A server subprocess in its own session: ready line, stdin control, bounded stop."""

    def __init__(self, cmd, log_path, ready="ready", timeout=START_TIMEOUT_S):
        self.log_path = Path(log_path)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
            text=True,
        )
        deadline = time.monotonic() + timeout
        import select

        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"{cmd[1]} did not start within {timeout:g} s:\n"
                    f"{self.log_path.read_text()[-3000:]}"
                )
            ready_fds, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if ready_fds and self.proc.stdout.readline().strip() == ready:
                return

    def say(self, line: str, timeout: float = 5.0) -> str:
        import select

        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        ready_fds, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready_fds else ""

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        return self.proc.returncode


def start_franka_sim(host: str, log_path, object_width: float | None = None) -> Server:
    cmd = [str(SIM_PYTHON), str(HERE / "franka_sim_server.py"), "--host", host]
    if object_width is not None:
        cmd += ["--object-width", str(object_width)]
    return Server(cmd, log_path)


def start_pump(host: str, log_path) -> Server:
    return Server(
        [sys.executable, str(HERE / "cobot_pump_server.py"), "--host", host],
        log_path,
        timeout=15.0,
    )
