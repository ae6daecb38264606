"""``rt-grasp ros``: bring the ROS 2 stack up, plan and execute grasps, open articulated parts."""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ros up|plan|execute|manipulate``."""
    ros = sub.add_parser("ros", help="the ROS 2 stack: up, plan, execute, manipulate")
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
    plan.add_argument(
        "--contact",
        action="store_true",
        help="MODE_CONTACT: ManipLLM's chain of thought and contact pose (a planner started "
        "with task contact, e.g. task:=articulated contact_model:=DIR); --session and "
        "--follow-up re-ask its pose turn",
    )
    plan.set_defaults(func=run_plan)
    execute = cmds.add_parser("execute", help="send /execute_grasp and print the outcome")
    which = execute.add_mutually_exclusive_group()
    which.add_argument("--ground-truth", action="store_true", help="the sim's ground truth")
    which.add_argument("--instruction", default="", help="plan with this instruction first")
    execute.add_argument("--lift", type=float, default=0.0, help="m; 0 = executor default")
    execute.add_argument("--hold", type=float, default=0.0, help="s; 0 = executor default")
    execute.set_defaults(func=run_execute)
    manipulate = cmds.add_parser(
        "manipulate",
        help="open an articulated part: a contact pose, then /impedance_adaptation",
        description="Plan a contact pose and run the impedance_adaptation action on it "
        "(a stack brought up with task:=articulated). --contact model asks the planner "
        "(/plan_grasp MODE_CONTACT: ManipLLM's chain of thought; the stack runs it with "
        "contact_model:=DIR); --contact oracle takes the pose from the sim's oracle "
        "(sim/scene_contact). The default: model when a planner is running (a contact model "
        "was given), else oracle.",
    )
    manipulate.add_argument("instruction", nargs="?", default="open the articulated part")
    manipulate.add_argument(
        "--contact",
        choices=CONTACT_SOURCES,
        default=None,
        help="where the contact pose comes from: model = the planner's contact mode "
        "(/plan_grasp MODE_CONTACT), oracle = the sim's sim/scene_contact; default: model "
        "when a planner is running (its status on grasp_planner/status), else oracle",
    )
    manipulate.add_argument("--seed", type=int, default=0, help="the oracle's seed")
    manipulate.add_argument("--target-distance", type=float, default=0.0, help="m; 0 = server")
    manipulate.add_argument("--max-steps", type=int, default=0, help="0 = the server's")
    manipulate.add_argument("--timeout", type=float, default=300.0, help="wall-clock s")
    manipulate.add_argument("--json", action="store_true", help="print one JSON object")
    manipulate.set_defaults(func=run_manipulate)


CONTACT_SOURCES = ("model", "oracle")
NO_IMAGE_WAIT_S = 20.0  # how long --contact model asks again while the planner has no crop


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
    """Plan a grasp (or, with --contact, a contact pose) through /plan_grasp."""
    require("rclpy", "the ROS 2 client")
    from rt_grasp_ros.ros.clients import StackClient

    client = StackClient()
    try:
        response = client.plan(
            args.instruction, args.session, args.follow_up, args.samples, contact=args.contact
        )
    finally:
        client.close()
    if not response.success:
        print(f"no {'contact' if args.contact else 'grasp'}: {response.message}")
        return 1
    if args.contact:
        contact = response.contact
        _print_contact(args.instruction, "model", contact, _contact_record(contact))
        t = response.timings
        print(f"session:   {response.session_id}; took {t.total:.2f} s (decode {t.decode:.2f} s)")
    else:
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


def _vec(v: Any) -> list[float]:
    return [round(v.x, 4), round(v.y, 4), round(v.z, 4)]


def _contact_record(contact: Any) -> dict[str, Any]:
    p, q = contact.pose.pose.position, contact.pose.pose.orientation
    return {
        "frame_id": contact.pose.header.frame_id,
        "position": _vec(p),
        "quaternion_xyzw": [round(q.x, 4), round(q.y, 4), round(q.z, 4), round(q.w, 4)],
        "up": _vec(contact.up),
        "forward": _vec(contact.forward),
        "pixel": [round(contact.u, 1), round(contact.v, 1)],
        "depth": round(contact.depth, 4),
        "camera_frame_id": contact.pose_camera.header.frame_id,
        "camera_position": _vec(contact.pose_camera.pose.position),
    }


def _plan_contact(client: Any, args: argparse.Namespace) -> tuple[Any, str, dict[str, Any]]:
    """The contact pose from --contact's source; its source and the planner's answer."""
    source = args.contact or ("model" if client.planner_running() else "oracle")
    if source == "oracle":
        return client.scene_contact(args.seed), source, {}
    response = client.plan_contact(args.instruction)
    deadline = time.monotonic() + NO_IMAGE_WAIT_S
    # a stack just brought up may not have sent its first crop yet: ask again for a while
    while not response.success and response.message.startswith("no image"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        response = client.plan_contact(args.instruction)
    planned = {"message": response.message, "session_id": response.session_id}
    planned["seconds"] = round(response.timings.total, 3)
    if not response.success:
        return None, source, planned
    return response.contact, source, planned


def run_manipulate(args: argparse.Namespace) -> int:
    """Plan a contact pose (the planner or the sim's oracle), open the part through the action."""
    require("rclpy", "the ROS 2 client")
    from rt_grasp_ros.ros.clients import StackClient

    steps: list[dict[str, Any]] = []

    def feedback(f: Any) -> None:
        step = {"stage": f.stage, "step": f.step, "distance": round(f.distance, 4)}
        step.update(direction=_vec(f.direction), force=_vec(f.force))
        if not steps or (steps[-1]["stage"], steps[-1]["step"]) != (f.stage, f.step):
            steps.append(step)
            if not args.json:
                print(
                    f"{f.stage:8s} step {f.step:2d}: direction {step['direction']}, "
                    f"distance {100 * f.distance:.1f} cm, force {step['force']} N"
                )

    client = StackClient()
    try:
        contact, source, planned = _plan_contact(client, args)
        if contact is None:
            _print_no_contact(args, source, planned)
            return 1
        record = _contact_record(contact)
        if not args.json:
            _print_contact(args.instruction, source, contact, record)
        result = client.manipulate(
            contact,
            feedback,
            args.timeout,
            target_distance=args.target_distance,
            max_steps=args.max_steps,
        )
        part = _part(client)
    finally:
        client.close()
    out = {
        "instruction": args.instruction,
        "category": contact.category,
        "contact_source": source,
        "contact": record,
        "chain": list(contact.chain),
        "reasoning": contact.reasoning,
        "answer": contact.answer,
        "plan": planned,
        "success": bool(result.success),
        "failure": result.failure,
        "message": result.message,
        "distance": round(result.distance, 4),
        "steps": int(result.steps),
        "part": part,
        "feedback": steps,
    }
    if args.json:
        print(json.dumps(out))
    else:
        verdict = "success" if result.success else f"failed ({result.failure})"
        print(f"result: {verdict}: {result.message}")
        print(f"distance moved: {100 * result.distance:.1f} cm in {result.steps} steps")
        if part:
            print(f"part: {part['joint_type']} joint at {part['position']:.3f}")
    return 0 if result.success else 1


def _print_no_contact(args: argparse.Namespace, source: str, planned: dict[str, Any]) -> None:
    if args.json:
        out = {"instruction": args.instruction, "contact_source": source, "contact": None}
        print(json.dumps({**out, "success": False, "plan": planned}))
    else:
        print(f"no contact: {planned['message']}")


def _print_contact(instruction: str, source: str, contact: Any, record: dict[str, Any]) -> None:
    print(f"instruction: {instruction}")
    print(f"contact:   {source} ({contact.category or 'no category'})")
    names = _turn_names(contact.chain)
    chain = [f"{k}: {t}" for k, t in zip(names, contact.chain, strict=False)]
    chain = chain or ["(none: the oracle's contact is no model's)"]
    print("reasoning chain:\n  " + "\n  ".join(chain))
    print(
        f"contact pose in {record['frame_id']}: position {record['position']} m, "
        f"up {record['up']}, forward {record['forward']}, pixel {record['pixel']}"
    )


def _turn_names(chain: Any) -> list[str]:
    """Name the chain's turns: category, reasoning, pose (one turn: the pose alone)."""
    if len(chain) == 1:
        return ["pose"]
    return ["category", "reasoning", "pose"] + ["follow-up pose"] * (len(chain) - 3)


def _part(client: Any) -> dict[str, Any] | None:
    """The sim's articulated part after the pull, or None where there is no sim."""
    from rt_grasp_ros.errors import RtGraspError

    try:
        joint_type, position = client.part_state()
    except RtGraspError:
        return None
    return {"joint_type": joint_type, "position": round(position, 4)}
