"""``rt-grasp ros``: bring the ROS 2 stack up, plan and execute grasps through it."""

from __future__ import annotations

import argparse
import math
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ros up|plan|execute``."""
    ros = sub.add_parser("ros", help="the ROS 2 stack: up, plan, execute")
    cmds = ros.add_subparsers(dest="ros_command", required=True, metavar="COMMAND")
    up = cmds.add_parser(
        "up", help="start the nodes of grasp.launch.py (args NAME:=VALUE, as ros2 launch)"
    )
    up.add_argument("launch_args", nargs="*", metavar="NAME:=VALUE")
    up.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NODE.NAME:=VALUE",
        help="set a parameter of one node on top of its file (repeatable), "
        "e.g. sim.realtime_factor:=3.0",
    )
    up.add_argument("--print", action="store_true", help="print the node commands and exit")
    up.set_defaults(func=run_up)
    plan = cmds.add_parser("plan", help="call /plan_grasp and print the reasoning and pose")
    plan.add_argument("instruction", nargs="?", default="")
    plan.add_argument("--session", default="", help="continue this refinement session")
    plan.add_argument("--follow-up", default="", help="a refinement turn (needs --session)")
    plan.add_argument("--samples", type=int, default=1)
    plan.set_defaults(func=run_plan)
    execute = cmds.add_parser("execute", help="send /execute_grasp and print the outcome")
    which = execute.add_mutually_exclusive_group()
    which.add_argument("--ground-truth", action="store_true", help="the sim's ground truth")
    which.add_argument("--instruction", default="", help="plan with this instruction first")
    execute.add_argument("--lift", type=float, default=0.0, help="m; 0 = executor default")
    execute.add_argument("--hold", type=float, default=0.0, help="s; 0 = executor default")
    execute.set_defaults(func=run_execute)


def parse_launch_args(items: list[str]) -> dict[str, str]:
    """``name:=value`` pairs as a dict; anything else names itself."""
    out = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise ConfigError(f"launch argument {item!r} is not NAME:=VALUE")
        out[name] = value
    return out


def parse_node_params(items: list[str]) -> dict[str, dict[str, str]]:
    """``node.name:=value`` items as ``{node: {name: value}}``; anything else names itself."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition(":=")
        node, dot, name = key.partition(".")
        if not sep or not dot or not node or not name:
            raise ConfigError(f"--param {item!r} is not NODE.NAME:=VALUE (e.g. sim.seed:=3)")
        out.setdefault(node, {})[name] = value
    return out


def run_up(args: argparse.Namespace) -> int:
    """Start the stack in the foreground; Ctrl-C stops every node, so does a node's exit."""
    from rt_grasp_ros.ros.bringup import node_commands, up
    from rt_grasp_ros.ros.stack import nodes

    launch_args = parse_launch_args(args.launch_args)
    overrides = parse_node_params(args.param)
    names = [spec.name for spec in nodes(launch_args)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(f"--param for node(s) {unknown} not in this stack: {names}")
    if args.print:
        for name, argv in node_commands(launch_args, overrides):
            print(name, " ".join(argv))
        return 0
    require("rclpy", "the ROS 2 nodes")
    return up(launch_args, overrides=overrides)


def _print_grasp(response: Any) -> None:
    g = response.grasp
    p, q = g.pose.pose.position, g.pose.pose.orientation
    print(f"reasoning: {g.reasoning}")
    print(f"answer:    {g.answer}")
    print(
        f"image:     x={g.image.x:.3f} y={g.image.y:.3f} theta={math.degrees(g.image.theta):.1f}"
        f" deg, pixel ({g.image.u:.1f}, {g.image.v:.1f}), depth {g.image.depth:.3f} m"
    )
    print(
        f"TCP pose in {g.pose.header.frame_id}: position ({p.x:.3f}, {p.y:.3f}, {p.z:.3f}) m,"
        f" quaternion xyzw ({q.x:.3f}, {q.y:.3f}, {q.z:.3f}, {q.w:.3f}), width {g.width:.3f} m"
    )
    c = g.pose_camera.pose.position
    print(f"in {g.pose_camera.header.frame_id}: ({c.x:.3f}, {c.y:.3f}, {c.z:.3f}) m")
    t = response.timings
    print(f"session:   {response.session_id}; took {t.total:.2f} s (decode {t.decode:.2f} s)")


def run_plan(args: argparse.Namespace) -> int:
    """Plan a grasp through /plan_grasp."""
    require("rclpy", "the ROS 2 client")
    from rt_grasp_ros.ros.clients import StackClient

    client = StackClient()
    try:
        response = client.plan(args.instruction, args.session, args.follow_up, args.samples)
    finally:
        client.close()
    if not response.success:
        print(f"no grasp: {response.message}")
        return 1
    _print_grasp(response)
    return 0


def run_execute(args: argparse.Namespace) -> int:
    """Execute a grasp (planned now, or the sim's ground truth) through /execute_grasp."""
    require("rclpy", "the ROS 2 client")
    from rt_grasp_ros.ros.clients import StackClient

    client = StackClient()
    try:
        if args.ground_truth:
            grasp = client.ground_truth()[0]
        else:
            response = client.plan(args.instruction)
            if not response.success:
                print(f"no grasp: {response.message}")
                return 1
            _print_grasp(response)
            grasp = response.grasp
        result = client.execute(
            grasp, args.lift, args.hold, feedback=lambda f: print(f"stage: {f.stage}")
        )
    finally:
        client.close()
    verdict = "success" if result.success else f"failed ({result.failure})"
    print(f"result: {verdict}: {result.message}")
    return 0 if result.success else 1
