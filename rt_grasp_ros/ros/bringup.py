"""
``rt-grasp ros up``: the launch file's nodes as processes, for machines without launch.

Each node of :mod:`rt_grasp_ros.ros.stack` runs as ``python -m rt_grasp_ros.ros.<node>``
with the same parameter files and overrides as ``grasp.launch.py``, in a process group of its
own; Ctrl-C (SIGINT) stops every node cleanly, a node that dies stops the others. Nothing is
left behind when start-up fails half way: the nodes already started are stopped again
(:func:`start_nodes`, :class:`Stack`), and so is whatever a node started in its group.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.ros.stack import nodes

STOP_TIMEOUT_S = 15.0  # SIGINT, then SIGKILL after this many seconds


def _value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        return '[' + ','.join(str(v) for v in value) + ']'
    return str(value)


def node_commands(arguments: dict, overrides: dict | None = None) -> list:
    """
    Return ``(name, argv)`` of every node for ``arguments``.

    ``overrides`` maps a node name to parameters set on top of its files (e.g. a faster sim).
    """
    out = []
    for spec in nodes(arguments):
        argv = [sys.executable, '-m', f'rt_grasp_ros.ros.{spec.executable}',
                '--ros-args', '-r', f'__node:={spec.name}']
        for a, b in spec.remaps:
            argv += ['-r', f'{a}:={b}']
        for f in spec.param_files:
            argv += ['--params-file', f]
        for k, v in {**spec.parameters, **(overrides or {}).get(spec.name, {})}.items():
            argv += ['-p', f'{k}:={_value(v)}']
        out.append((spec.name, argv))
    return out


def start_nodes(arguments: dict, overrides: dict | None = None, log=print, output=None,
                stop=None):
    """
    Start every node as a process in a session of its own; ``(name, Popen)`` pairs.

    If starting one fails, or start-up is interrupted (KeyboardInterrupt, or ``stop()``
    returning true between two nodes), the nodes already started are stopped before the
    exception propagates (StartInterruptedError for ``stop``).
    """
    commands = node_commands(arguments, overrides)  # a bad argument raises before any start
    procs = []
    try:
        for name, argv in commands:
            if stop is not None and stop():
                raise StartInterruptedError(f'start-up interrupted before {name}')
            log(f'starting {name}: {" ".join(argv[2:4])}')
            procs.append((name, subprocess.Popen(
                argv, start_new_session=True, stdout=output, stderr=output)))
    except BaseException:
        stop_nodes(procs, log)
        raise
    return procs


class StartInterruptedError(RtGraspError):
    """A signal arrived while the nodes were starting (they were stopped again)."""


def first_exit(procs):
    """Return ``(name, status)`` of the first node that exited, or None while all run."""
    for name, proc in procs:
        if proc.poll() is not None:
            return name, proc.returncode
    return None


def up(arguments: dict, log=print, overrides: dict | None = None) -> int:
    """Start the nodes, wait; on SIGINT/SIGTERM or a node's exit stop them all. Exit status."""
    stop = {'now': False}

    def handler(signum, frame):
        stop['now'] = True

    # the handlers come first: a signal during start-up stops what has started
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    procs, status = [], 0
    try:
        procs = start_nodes(arguments, overrides, log=log, stop=lambda: stop['now'])
        while not stop['now']:
            dead = first_exit(procs)
            if dead:
                log(f'{dead[0]} exited with status {dead[1]}; stopping the others')
                status = dead[1] or 1
                break
            time.sleep(0.2)
    except StartInterruptedError as exc:
        log(f'{exc}: the nodes started so far were stopped')
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if procs:
            status = max(status, stop_nodes(procs, log))
    return status


def _signal_group(proc, sig):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_nodes(procs, log=print, timeout: float = STOP_TIMEOUT_S) -> int:
    """
    SIGINT to each node's process group, SIGKILL after ``timeout`` s; 0 if all stopped cleanly.

    Whatever a node left in its process group is killed once the node has exited.
    """
    for _, proc in procs:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGINT)
    status = 0
    deadline = time.monotonic() + timeout
    for name, proc in procs:
        try:
            code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            code = proc.wait()
            log(f'{name} did not stop on SIGINT within {timeout:g} s: killed')
        _signal_group(proc, signal.SIGKILL)  # the node's own children, if any are left
        status = max(status, 0 if code in (0, -signal.SIGINT) else 1)
    if procs:
        log('all nodes stopped')
    return status


class Stack:
    """
    The stack's nodes as processes for a ``with`` block (RosTrials, tests, scripts).

    ``__enter__`` starts them (the ones started are stopped again if start-up fails half way),
    ``__exit__`` stops them, whatever happened in between. Their output goes to a temporary
    file (:meth:`output`); :meth:`wait_until` waits for something while failing fast, with the
    node's output, if a node exits.
    """

    def __init__(self, arguments: dict, overrides: dict | None = None, log=print):
        self.arguments, self.overrides, self.log = arguments, overrides, log
        self.procs, self._output = [], None
        self.status, self.exits = None, {}  # after the block: stop_nodes' status, exit codes

    def __enter__(self):
        self._output = tempfile.TemporaryFile()
        try:
            self.procs = start_nodes(self.arguments, self.overrides, self.log, self._output)
        except BaseException:
            self._output.close()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.status = stop_nodes(self.procs, self.log)
            self.exits = {name: proc.returncode for name, proc in self.procs}
        finally:
            self.procs = []
            self._output.close()
        return False

    def output(self, chars: int = 2000) -> str:
        """Return the last ``chars`` characters the nodes wrote (stdout and stderr together)."""
        # pread: the nodes share the file's offset, so reading must not move it
        fd = self._output.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - 4 * chars)
        return os.pread(fd, size - start, start).decode(errors='replace')[-chars:]

    def check(self) -> None:
        """Raise RtGraspError naming the first node that exited, with the nodes' output."""
        dead = first_exit(self.procs)
        if dead:
            raise RtGraspError(
                f'{dead[0]} exited with status {dead[1]}; the nodes wrote:\n{self.output()}')

    def wait_until(self, predicate, timeout: float, what: str, step: float = 0.05) -> None:
        """
        Call ``predicate()`` (it may spin a node) until it is true, at most ``timeout`` s.

        Raises RtGraspError, with the nodes' output, if a node exits meanwhile or on timeout.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            self.check()
            if time.monotonic() > deadline:
                raise RtGraspError(f'{what} within {timeout:g} s; the nodes wrote:\n'
                                   f'{self.output()}')
            time.sleep(step)
