"""
``rt-grasp ros up``: the launch file's nodes as processes, for machines without launch.

Each node of :mod:`rt_grasp_ros.ros.stack` runs as ``python -m rt_grasp_ros.ros.<node>``
with the same parameter files and overrides as ``grasp.launch.py``, in a process group of its
own; Ctrl-C (SIGINT) stops every node cleanly, a node that dies stops the others.
"""

import os
import signal
import subprocess
import sys
import time

from rt_grasp_ros.ros.stack import nodes


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
        for f in spec.param_files:
            argv += ['--params-file', f]
        for k, v in {**spec.parameters, **(overrides or {}).get(spec.name, {})}.items():
            argv += ['-p', f'{k}:={_value(v)}']
        out.append((spec.name, argv))
    return out


def start_nodes(arguments: dict, overrides: dict | None = None, log=print, output=None):
    """Start every node as a process in a session of its own; ``(name, Popen)`` pairs."""
    procs = []
    for name, argv in node_commands(arguments, overrides):
        log(f'starting {name}: {" ".join(argv[2:4])}')
        procs.append((name, subprocess.Popen(
            argv, start_new_session=True, stdout=output, stderr=output)))
    return procs


def up(arguments: dict, log=print) -> int:
    """Start the nodes, wait; on SIGINT/SIGTERM or a node's exit stop them all. Exit status."""
    procs = start_nodes(arguments, log=log)
    stop = {'now': False}

    def handler(signum, frame):
        stop['now'] = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        while not stop['now']:
            dead = [(n, p) for n, p in procs if p.poll() is not None]
            if dead:
                name, proc = dead[0]
                log(f'{name} exited with status {proc.returncode}; stopping the others')
                status = proc.returncode or 1
                break
            time.sleep(0.2)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        status = max(status, stop_nodes(procs, log))
    return status


def stop_nodes(procs, log=print) -> int:
    """SIGINT to each node's process group, SIGKILL after 15 s; 0 if all stopped cleanly."""
    for _, proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    status = 0
    for name, proc in procs:
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
            log(f'{name} did not stop on SIGINT: killed')
        status = max(status, 0 if code in (0, -signal.SIGINT) else 1)
    log('all nodes stopped')
    return status
