"""MJCF (MuJoCo XML) for the Panda, its tools, the table, the camera and the objects."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim import panda
from rt_grasp_ros.sim.objects import GeomSpec, ObjectSpec
from rt_grasp_ros.sim.tools import FrankaHand, SuctionTool, Tool
from rt_grasp_ros.transforms import quat_from_wxyz, quat_to_wxyz

TIMESTEP = 0.002
TABLE_TOP = 0.0
ROBOT_RGBA = "0.92 0.92 0.92 1"
JOINT_ARMATURE = 0.1
FINGER_KP = 2000.0  # N/m per finger: 70 N at 3.5 cm of command error
FINGER_ARMATURE = 0.1  # reflected inertia of the finger drive (kg)
# Collision groups: the robot collides with the world and objects, never with itself.
ROBOT_COLLISION = {"contype": "2", "conaffinity": "1"}
WORLD_COLLISION = {"contype": "1", "conaffinity": "3"}
# A tool flying without the arm: its slides (base x, y, z), its ball joint, its wrist body.
FLYING_SLIDES = ("tool_x", "tool_y", "tool_z")
FLYING_BALL = "tool_ball"
FLYING_WRIST = "tool_wrist"
# The Panda's task-space inertia at the TCP in its ready pose is 5-12 kg along the axes and
# 0.1-0.7 kg m^2 about them: the flying tool's, at its TCP (the cup alone, 0.37 kg and a few
# 1e-4 kg m^2, would move much faster than the arm under the same impedance).
FLYING_MASS = 6.0
FLYING_INERTIA = 0.2


def fmt(values: Iterable[float]) -> str:
    """Space-separated numbers with enough digits for MJCF."""
    return " ".join(f"{float(v):.10g}" for v in values)


def sub(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    """Add a child element; tuples and arrays become space-separated numbers."""
    clean = {}
    for k, v in attrs.items():
        if v is None:
            continue
        clean[k] = fmt(v) if isinstance(v, (tuple, list, np.ndarray)) else str(v)
    return ET.SubElement(parent, tag, clean)


def _capsule(
    parent: ET.Element, cap: panda.Capsule, name: str, collision: dict[str, str] = ROBOT_COLLISION
) -> None:
    sub(
        parent,
        "geom",
        name=name,
        type="capsule",
        fromto=(*cap.start, *cap.end),
        size=(cap.radius,),
        rgba=ROBOT_RGBA,
        **collision,
    )


def _inertial(parent: ET.Element, inertial: panda.Inertial) -> None:
    sub(parent, "inertial", pos=inertial.com, mass=inertial.mass, fullinertia=inertial.inertia)


def add_robot(worldbody: ET.Element, tool: Tool) -> None:
    """The arm as a chain of bodies placed by the DH table, with ``tool`` on the flange."""
    parent = _arm_chain(worldbody, None)
    flange_pos, _ = panda.link_offset(panda.FLANGE)
    yaw = panda.HAND_YAW
    mount = sub(
        parent,
        "body",
        name="tool",
        pos=flange_pos,
        quat=(math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)),
    )
    if isinstance(tool, FrankaHand):
        _add_hand(mount, tool)
    else:
        _add_suction(mount, tool)


def add_static_arm(worldbody: ET.Element, q: np.ndarray) -> None:
    """The arm's links fixed at joint angles ``q``, seen by the camera, touching nothing.

    The scene of a free-flying tool keeps the arm in view where it stands, so that its
    images are the arm's scene's.
    """
    _arm_chain(worldbody, np.asarray(q, float))


def _arm_chain(worldbody: ET.Element, static_q: np.ndarray | None) -> ET.Element:
    """Links 0..7 (jointed, or fixed at ``static_q`` without collisions); the last link."""
    collision = ROBOT_COLLISION if static_q is None else {"contype": "0", "conaffinity": "0"}
    base = sub(worldbody, "body", name="link0", pos=(0, 0, TABLE_TOP))
    _inertial(base, panda.LINK_INERTIALS[0])
    for k, cap in enumerate(panda.LINK_CAPSULES[0]):
        _capsule(base, cap, f"link0_c{k}", collision)
    parent = base
    for i, row in enumerate(panda.DH, start=1):
        pos, quat = panda.link_offset(row)
        if static_q is not None:  # the joint's turn about the link's z, baked into the body
            turn = Rotation.from_quat(quat_from_wxyz(quat)) * Rotation.from_rotvec(
                [0.0, 0.0, static_q[i - 1]]
            )
            quat = quat_to_wxyz(turn.as_quat())
        body = sub(parent, "body", name=f"link{i}", pos=pos, quat=quat)
        _inertial(body, panda.LINK_INERTIALS[i])
        if static_q is None:
            sub(
                body,
                "joint",
                name=panda.ARM_JOINTS[i - 1],
                type="hinge",
                axis=(0, 0, 1),
                range=(panda.Q_MIN[i - 1], panda.Q_MAX[i - 1]),
                armature=JOINT_ARMATURE,
                damping=0.0,
            )
        for k, cap in enumerate(panda.LINK_CAPSULES[i]):
            _capsule(body, cap, f"link{i}_c{k}", collision)
        parent = body
    return parent


def add_flying_tool(
    worldbody: ET.Element, tool: Tool, tcp: np.ndarray, stiffness: tuple[float, float]
) -> None:
    """``tool`` flying without the arm, its TCP at the 4x4 pose ``tcp``, on joint springs.

    A carrier body slides along the base axes (joints ``tool_x``, ``tool_y``, ``tool_z``)
    and a wrist turns on a ball joint (``tool_ball``) about the TCP; the tool body hangs
    from the wrist as from the arm's flange (named ``tool``, the same geoms and TCP site).
    The joints' springs are a Cartesian impedance at the TCP (``stiffness``: N/m and Nm/rad,
    damped critically), pulled towards a target by moving their rest positions, all in
    MuJoCo (no control code per step); gravity is compensated. The wrist carries the inertia
    the arm's tool has at its TCP (:data:`FLYING_MASS`), so that it answers the impedance as
    the arm does.

    Raises:
        ConfigError: ``tool`` is not a suction tool (only the cup flies).
    """
    if not isinstance(tool, SuctionTool):
        raise ConfigError(f"a free-flying tool must be a suction tool, got {type(tool).__name__}")
    tcp = np.asarray(tcp, float)
    linear, angular = stiffness
    mass = FLYING_MASS + tool.mass + 0.02
    carrier = sub(worldbody, "body", name="tool_carrier", pos=tcp[:3, 3], gravcomp=1)
    sub(carrier, "inertial", pos=(0, 0, 0), mass=1e-3, diaginertia=(1e-6, 1e-6, 1e-6))
    for name, axis in zip(FLYING_SLIDES, np.eye(3), strict=True):
        damping = 2 * math.sqrt(linear * mass)
        sub(
            carrier, "joint", name=name, type="slide", axis=axis, stiffness=linear, damping=damping
        )
    quat = quat_to_wxyz(Rotation.from_matrix(tcp[:3, :3]).as_quat())
    wrist = sub(carrier, "body", name=FLYING_WRIST, quat=quat, gravcomp=1)
    sub(wrist, "inertial", pos=(0, 0, 0), mass=FLYING_MASS, diaginertia=[FLYING_INERTIA] * 3)
    damping = 2 * math.sqrt(angular * FLYING_INERTIA)
    sub(wrist, "joint", name=FLYING_BALL, type="ball", stiffness=angular, damping=damping)
    mount = sub(wrist, "body", name="tool", pos=(0, 0, -tool.tcp_offset), gravcomp=1)
    _add_suction(mount, tool)
    mount.find("body").set("gravcomp", "1")  # the cup


def _add_hand(mount: ET.Element, hand: FrankaHand) -> None:
    sub(mount, "inertial", pos=(0, 0, 0.03), mass=hand.mass, diaginertia=(0.0025, 0.0010, 0.0017))
    sub(
        mount,
        "geom",
        name="hand_palm",
        type="box",
        size=(0.03, 0.095, 0.022),
        pos=(0, 0, 0.035),
        rgba=ROBOT_RGBA,
        **ROBOT_COLLISION,
    )
    sub(
        mount,
        "geom",
        name="hand_mount",
        type="cylinder",
        size=(0.04, 0.008),
        pos=(0, 0, 0.008),
        rgba="0.2 0.2 0.2 1",
        **ROBOT_COLLISION,
    )
    sub(mount, "site", name="tcp", pos=(0, 0, hand.tcp_offset), size=(0.005,), rgba="1 0 0 0.5")
    pad_z = hand.tcp_offset - hand.finger_base  # pad centre, in the finger frame
    for side, sign, jname in zip(("left", "right"), (1.0, -1.0), panda.FINGER_JOINTS, strict=True):
        finger = sub(mount, "body", name=f"finger_{side}", pos=(0, 0, hand.finger_base))
        sub(
            finger,
            "inertial",
            pos=(0, sign * 0.01, 0.025),
            mass=hand.finger_mass,
            diaginertia=(2e-6, 2e-6, 1e-6),
        )
        sub(
            finger,
            "joint",
            name=jname,
            type="slide",
            axis=(0, sign, 0),
            range=(0, hand.max_width / 2),
            armature=FINGER_ARMATURE,
            damping=2 * math.sqrt(FINGER_KP * FINGER_ARMATURE),
        )
        # Finger body above the pad, kept outside the grasp so only the pad touches objects.
        sub(
            finger,
            "geom",
            name=f"finger_{side}_body",
            type="box",
            size=(0.0095, 0.006, 0.018),
            pos=(0, sign * (hand.pad_half_thickness * 2 + 0.006), pad_z - 0.026),
            rgba="0.25 0.25 0.25 1",
            **ROBOT_COLLISION,
        )
        sub(
            finger,
            "geom",
            name=f"pad_{side}",
            type="box",
            size=(hand.pad_half_width, hand.pad_half_thickness, hand.pad_half_height),
            pos=(0, sign * hand.pad_half_thickness, pad_z),
            rgba="0.1 0.1 0.1 1",
            friction=(1.5, 0.05, 0.001),
            condim="6",
            solref=(0.005, 1),
            solimp=(0.95, 0.99, 0.001),
            **ROBOT_COLLISION,
        )


def _add_suction(mount: ET.Element, tool: SuctionTool) -> None:
    body_len = tool.length - 0.012
    sub(
        mount,
        "inertial",
        pos=(0, 0, body_len / 2),
        mass=tool.mass,
        diaginertia=(0.0012, 0.0012, 0.0002),
    )
    sub(
        mount,
        "geom",
        name="suction_body",
        type="cylinder",
        size=(tool.body_radius, body_len / 2),
        pos=(0, 0, body_len / 2),
        rgba=ROBOT_RGBA,
        **ROBOT_COLLISION,
    )
    cup = sub(mount, "body", name="suction_cup", pos=(0, 0, body_len))
    sub(cup, "inertial", pos=(0, 0, 0.006), mass=0.02, diaginertia=(1e-6, 1e-6, 1e-6))
    sub(
        cup,
        "geom",
        name="suction_pad",
        type="cylinder",
        size=(tool.cup_radius, 0.006),
        pos=(0, 0, 0.006),
        rgba="0.15 0.35 0.8 1",
        friction=(1.2, 0.05, 0.001),
        **ROBOT_COLLISION,
    )
    sub(mount, "site", name="tcp", pos=(0, 0, tool.length), size=(0.005,), rgba="1 0 0 0.5")


def add_object(
    worldbody: ET.Element, name: str, spec: ObjectSpec, pos: tuple, quat: tuple
) -> None:
    """A free-floating object body with its geoms."""
    body = sub(worldbody, "body", name=name, pos=pos, quat=quat)
    sub(body, "freejoint", name=f"{name}_free")
    for k, g in enumerate(spec.geoms):
        _geom(body, f"{name}_g{k}", g, spec.rgba, spec.density, spec.friction)


def _geom(body: ET.Element, name: str, g: GeomSpec, rgba, density: float, friction: float) -> None:
    # Rolling friction (condim 6) stops lying cylinders and balls from drifting on their own.
    sub(
        body,
        "geom",
        name=name,
        type=g.type,
        size=g.size,
        pos=g.pos,
        quat=g.quat,
        rgba=rgba,
        density=density,
        friction=(friction, 0.005, 0.0002),
        condim="6",
        **WORLD_COLLISION,
    )


def scene_root(
    camera_xml: dict[str, object], width: int, height: int
) -> tuple[ET.Element, ET.Element]:
    """The ``<mujoco>`` element with options, visual settings, table, lights and camera."""
    root = ET.Element("mujoco", {"model": "rt_grasp_scene"})
    sub(root, "compiler", angle="radian", autolimits="true")
    sub(root, "option", timestep=TIMESTEP, integrator="implicitfast", cone="elliptic", impratio=10)
    visual = sub(root, "visual")
    sub(visual, "global", offwidth=max(width, 640), offheight=max(height, 480))
    sub(visual, "quality", shadowsize=0)
    sub(
        visual,
        "headlight",
        ambient=(0.3, 0.3, 0.3),
        diffuse=(0.35, 0.35, 0.35),
        specular=(0.05, 0.05, 0.05),
    )
    sub(visual, "map", znear=0.01, zfar=10)
    asset = sub(root, "asset")
    sub(
        asset,
        "texture",
        name="table_tex",
        type="2d",
        builtin="flat",
        rgb1=(0.6, 0.56, 0.5),
        rgb2=(0.6, 0.56, 0.5),
        mark="random",
        markrgb=(0.52, 0.48, 0.42),
        random=0.03,
        width=512,
        height=512,
    )
    sub(
        asset,
        "texture",
        name="sky",
        type="skybox",
        builtin="gradient",
        rgb1=(0.75, 0.78, 0.82),
        rgb2=(0.35, 0.37, 0.4),
        width=64,
        height=64,
    )
    sub(asset, "material", name="table_mat", texture="table_tex", texrepeat=(3, 3), specular=0.1)
    world = sub(root, "worldbody")
    sub(
        world,
        "light",
        name="top",
        pos=(0.5, 0, 2.0),
        dir=(0, 0, -1),
        castshadow="false",
        diffuse=(0.4, 0.4, 0.4),
        specular=(0.1, 0.1, 0.1),
    )
    sub(
        world,
        "geom",
        name="table",
        type="box",
        size=(0.75, 0.7, 0.02),
        pos=(0.35, 0, TABLE_TOP - 0.02),
        material="table_mat",
        friction=(0.8, 0.02, 0.0005),
        **WORLD_COLLISION,
    )
    sub(world, "camera", **camera_xml)
    return root, world


def add_robot_actuation(
    root: ET.Element, tool: Tool, object_names: Iterable[str], arm: bool = True
) -> None:
    """Joint torque motors (``arm``), the fingers' servos or the suction welds."""
    act = sub(root, "actuator")
    for i in range(1, 8 if arm else 1):
        limit = panda.TAU_MAX[i - 1]
        sub(
            act,
            "motor",
            name=f"torque{i}",
            joint=panda.ARM_JOINTS[i - 1],
            ctrlrange=(-limit, limit),
        )
    equality = sub(root, "equality")
    if isinstance(tool, FrankaHand):
        # One position servo per finger (stiff, with implicit joint damping); the gripper ramps
        # the command at the hand's speed and sets the force range to the grasp force.
        for side, jname in zip(("left", "right"), panda.FINGER_JOINTS, strict=True):
            sub(
                act,
                "general",
                name=f"finger_{side}",
                joint=jname,
                biastype="affine",
                gainprm=(FINGER_KP,),
                biasprm=(0, -FINGER_KP, 0),
                ctrlrange=(0, tool.max_width / 2),
                forcelimited="true",
                forcerange=(-tool.continuous_force, tool.continuous_force),
            )
    else:
        for name in object_names:
            sub(
                equality,
                "weld",
                name=f"suction_{name}",
                body1="suction_cup",
                body2=name,
                active="false",
                solref=(0.01, 1),
            )
    if not len(equality):
        root.remove(equality)
    if not len(act):
        root.remove(act)


def to_string(root: ET.Element) -> str:
    """Serialise an element tree to an indented XML string."""
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
