"""A Franka Cobot Pump for the tests: libfranka's vacuum gripper protocol (version 1) on TCP+UDP.

No simulator serves the vacuum port (1339), so the vacuum client is tested against this
server, written from libfranka's documented message types (``research_interface::
vacuum_gripper``, packed little-endian):

- TCP port 1339. Every message starts with a header ``command`` (uint16: 0 connect, 1 vacuum,
  2 drop off, 3 stop), ``command_id`` (uint32), ``size`` (uint32, the whole message).
- connect: request ``version`` (uint16), ``udp_port`` (uint16); response ``status`` (uint16,
  0 success, 1 incompatible library version), ``version`` (uint16).
- vacuum: request ``vacuum`` (uint8, 10 mbar units), ``profile`` (uint8, P0..P3),
  ``timeout`` (int64 ms); drop off: ``timeout`` (int64 ms); stop: no payload. Their responses
  carry ``status`` (uint16): 0 success, 1 fail, 2 unsuccessful, 3 aborted.
- UDP state to the client's ``udp_port``: ``message_id`` (uint32), ``in_control_range``,
  ``part_detached``, ``part_present`` (bool), ``device_status`` (uint8, green..red),
  ``actual_power`` (int32, %), ``vacuum`` (int32, mbar).

The scenario is set on the object: ``part`` (a part at the cup, so the vacuum builds up),
``lose_after`` (the part falls off that many seconds after the vacuum is established),
``answer`` (False: commands are read but never answered), ``device_status``. Everything the
server does is bounded: its threads stop within ``STOP_TIMEOUT_S`` of :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

KVERSION = 1
PORT = 1339
HEADER = struct.Struct("<HII")
STATE = struct.Struct("<I???Bii")
CONNECT, VACUUM, DROP_OFF, STOP = range(4)
SUCCESS, FAIL, UNSUCCESSFUL, ABORTED = range(4)
STOP_TIMEOUT_S = 2.0


class CobotPumpServer:
    """One Cobot Pump on ``host``:``port``; use as a context manager (started, then stopped)."""

    def __init__(self, host: str = "127.0.0.1", port: int = PORT, state_period: float = 0.01):
        self.host, self.port, self.state_period = host, port, state_period
        self.part, self.lose_after, self.answer = True, None, True
        self.evacuate_s = 0.05  # time to build up the vacuum on a part
        self.device_status = 0
        self.commands: list[tuple] = []  # (name, fields) in arrival order
        self._lock = threading.Lock()
        self._state = dict(
            in_control_range=False,
            part_detached=False,
            part_present=False,
            actual_power=0,
            vacuum=0,
        )
        self._running = threading.Event()
        self._abort = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = None
        self._clients: list[socket.socket] = []
        self._lost_at = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, self.port))
        self._listener.listen(2)
        self._listener.settimeout(0.1)
        self._running.set()
        self._spawn(self._accept)

    def stop(self) -> None:
        self._running.clear()
        self._abort.set()
        for sock in [self._listener, *self._clients]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def state(self) -> dict:
        with self._lock:
            return dict(self._state)

    # -- TCP ---------------------------------------------------------------------------------

    def _accept(self) -> None:
        while self._running.is_set():
            try:
                conn, addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.1)
            self._clients.append(conn)
            self._spawn(self._serve, conn, addr)

    def _recv(self, conn, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            if not self._running.is_set():
                return None
            try:
                chunk = conn.recv(n - len(data))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _reply(self, conn, command: int, command_id: int, payload: bytes) -> None:
        message = HEADER.pack(command, command_id, HEADER.size + len(payload)) + payload
        try:
            with self._lock:
                conn.sendall(message)
        except OSError:
            pass

    def _serve(self, conn, addr) -> None:
        send_lock = threading.Lock()
        while self._running.is_set():
            header = self._recv(conn, HEADER.size)
            if header is None:
                return
            command, command_id, size = HEADER.unpack(header)
            payload = self._recv(conn, size - HEADER.size) if size > HEADER.size else b""
            if payload is None:
                return
            if command == CONNECT:
                version, udp_port = struct.unpack("<HH", payload)
                self.commands.append(("connect", {"version": version, "udp_port": udp_port}))
                status = SUCCESS if version == KVERSION else 1
                self._reply(conn, CONNECT, command_id, struct.pack("<HH", status, KVERSION))
                if status == SUCCESS:
                    self._spawn(self._stream, addr[0], udp_port)
                continue
            if command == VACUUM:
                level, profile, timeout = struct.unpack("<BBq", payload)
                fields = {"vacuum": level, "profile": profile, "timeout_ms": timeout}
                self.commands.append(("vacuum", fields))
                run = (self._vacuum, level, timeout)
            elif command == DROP_OFF:
                (timeout,) = struct.unpack("<q", payload)
                self.commands.append(("drop_off", {"timeout_ms": timeout}))
                run = (self._drop_off, timeout)
            elif command == STOP:
                self.commands.append(("stop", {}))
                run = (self._stop,)
            else:
                self.commands.append(("unknown", {"command": command}))
                self._reply(conn, command, command_id, struct.pack("<H", FAIL))
                continue
            if not self.answer:
                continue  # read, never answered: the client's wait must be bounded
            # Commands run in threads of their own, so a stop can abort a running vacuum.
            self._spawn(self._run, conn, command, command_id, run, send_lock)

    def _run(self, conn, command, command_id, run, send_lock) -> None:
        status = run[0](*run[1:])
        with send_lock:
            self._reply(conn, command, command_id, struct.pack("<H", status))

    # -- the device --------------------------------------------------------------------------

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; False if a stop aborted the command meanwhile."""
        return not self._abort.wait(seconds)

    def _vacuum(self, level: int, timeout_ms: int) -> int:
        self._abort.clear()
        with self._lock:
            self._state.update(actual_power=100, part_detached=False)
        if not self.part:
            if not self._wait(timeout_ms / 1000.0):
                return ABORTED
            with self._lock:
                self._state.update(vacuum=50, actual_power=100)  # leaking: no part sealed
            return UNSUCCESSFUL
        if not self._wait(min(self.evacuate_s, timeout_ms / 1000.0)):
            return ABORTED
        with self._lock:
            self._state.update(
                vacuum=10 * level, in_control_range=True, part_present=True, actual_power=30
            )
            self._lost_at = None if self.lose_after is None else time.monotonic() + self.lose_after
        return SUCCESS

    def _drop_off(self, timeout_ms: int) -> int:
        self._abort.clear()
        with self._lock:
            was_present = self._state["part_present"]
            self._state.update(
                vacuum=0,
                in_control_range=False,
                part_present=False,
                part_detached=was_present,
                actual_power=0,
            )
            self._lost_at = None
        return SUCCESS

    def _stop(self) -> int:
        self._abort.set()
        with self._lock:
            self._state.update(actual_power=0, in_control_range=False)
            self._lost_at = None
        return SUCCESS

    # -- UDP ---------------------------------------------------------------------------------

    def _stream(self, address: str, udp_port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        message_id = 0
        try:
            while self._running.is_set():
                with self._lock:
                    if self._lost_at is not None and time.monotonic() >= self._lost_at:
                        self._state.update(part_present=False, in_control_range=False, vacuum=20)
                        self._lost_at = None
                    s = dict(self._state)
                message_id += 1
                data = STATE.pack(
                    message_id,
                    s["in_control_range"],
                    s["part_detached"],
                    s["part_present"],
                    self.device_status,
                    s["actual_power"],
                    s["vacuum"],
                )
                try:
                    sock.sendto(data, (address, udp_port))
                except OSError:
                    return
                time.sleep(self.state_period)
        finally:
            sock.close()


def main(argv=None) -> int:
    """Serve until stdin closes; stdin lines change the scenario (``part 0``, ``lose 0.3``).

    Runs in a process of its own: libfranka's bindings hold the GIL while they wait on the
    device, so a server thread in the client's process would never answer.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args(argv)
    with CobotPumpServer(args.host, args.port) as server:
        print("ready", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            key, value = words[0], words[1] if len(words) > 1 else ""
            if key == "part":
                server.part = value == "1"
            elif key == "lose":
                server.lose_after = None if value in ("", "none") else float(value)
            elif key == "answer":
                server.answer = value == "1"
            elif key == "status":
                server.device_status = int(value)
            elif key == "commands":
                print(" ".join(name for name, _ in server.commands), flush=True)
                continue
            print("ok", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
