"""Articulated objects: a cabinet drawer (prismatic), a cabinet door and a box lid (revolute).

Each stands on the table in front of the robot with its front towards it (-x). The spec gives
what a manipulation policy needs: the joint (type, axis, anchor, range), a handle grasp for the
Franka Hand (full orientation) and a suction point on the moving part.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.mjcf import WORLD_COLLISION, sub

WALL = 0.012
HANDLE_RGBA = "0.25 0.25 0.28 1"


@dataclass(frozen=True)
class ArticulatedSpec:
    """An articulated object and its ground truth, in the robot base frame.

    Attributes:
        kind: ``drawer``, ``door`` or ``lid``.
        joint_type: ``slide`` (prismatic) or ``hinge`` (revolute).
        axis: joint axis; moving along (or about) it by a positive amount opens the part.
        anchor: a point on a revolute axis (for a slide joint, the part's front centre).
        joint_range: (closed, fully open), metres or radians.
        handle_center: where the fingers close on the handle.
        grasp_rotation: hand orientation for that grasp, as the rows of a 3x3 rotation matrix
            whose columns are the hand's x, y (opening) and z (approach) axes.
        suction_point, suction_normal: a flat point on the moving part and its outward normal.
        moving_body: name of the moving part's body.
    """

    kind: str
    joint_type: str
    axis: tuple[float, float, float]
    anchor: tuple[float, float, float]
    joint_range: tuple[float, float]
    handle_center: tuple[float, float, float]
    grasp_rotation: tuple[tuple[float, ...], ...]
    suction_point: tuple[float, float, float]
    suction_normal: tuple[float, float, float]
    size: tuple[float, float, float]  # depth (x), width (y), height (z) of the static body
    front_x: float
    center_y: float
    rgba: tuple[float, float, float, float]
    moving_body: str = "part"
    joint_name: str = "part_joint"

    @property
    def suction_bodies(self) -> list[str]:
        """Bodies a suction cup may attach to."""
        return [self.moving_body]

    def opening_direction(self, q: float = 0.0) -> np.ndarray:
        """Unit direction in which the handle moves when the part opens, at joint value ``q``."""
        axis = np.asarray(self.axis, float)
        if self.joint_type == "slide":
            return axis
        r = np.asarray(self.handle_center) - np.asarray(self.anchor)
        rotated = _rotate(r, axis, q)
        v = np.cross(axis, rotated)
        return v / np.linalg.norm(v)

    def add_to(self, world: ET.Element) -> None:
        """Add the static body and the moving part to the MJCF worldbody."""
        BUILDERS[self.kind][1](self, world)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    return Rotation.from_rotvec(angle * axis).apply(v)


# Hand orientations (columns x, y, z; z = approach, y = opening axis).
_FRONT_VERTICAL_BAR = ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 0.0))  # rows of R
_TOP_DOWN_ALONG_X = ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, -1.0))


def _box(parent: ET.Element, name: str, half: tuple, pos: tuple, rgba) -> None:
    sub(
        parent,
        "geom",
        name=name,
        type="box",
        size=half,
        pos=pos,
        rgba=rgba,
        friction=(1.0, 0.02, 0.0005),
        condim="4",
        density=600,
        **WORLD_COLLISION,
    )


def _shell(world: ET.Element, spec: ArticulatedSpec, open_side: str) -> None:
    """A static five-sided box; ``open_side`` is ``front`` or ``top``."""
    d, w, h = spec.size
    cx = spec.front_x + d / 2
    body = sub(world, "body", name="shell", pos=(cx, spec.center_y, 0))
    t = WALL / 2
    walls = {
        "bottom": ((d / 2, w / 2, t), (0, 0, t)),
        "back": ((t, w / 2, h / 2), (d / 2 - t, 0, h / 2)),
        "left": ((d / 2, t, h / 2), (0, -w / 2 + t, h / 2)),
        "right": ((d / 2, t, h / 2), (0, w / 2 - t, h / 2)),
    }
    if open_side == "front":
        walls["top"] = ((d / 2, w / 2, t), (0, 0, h - t))
    else:
        walls["front"] = ((t, w / 2, h / 2), (-d / 2 + t, 0, h / 2))
    for name, (half, pos) in walls.items():
        _box(body, f"shell_{name}", half, pos, spec.rgba)


def _moving_part(
    world: ET.Element,
    spec: ArticulatedSpec,
    pos: tuple,
    damping: float,
    friction: float,
    armature: float,
) -> ET.Element:
    """The moving body at ``pos`` with its joint (a hinge's axis passes through ``pos``)."""
    part = sub(world, "body", name=spec.moving_body, pos=pos)
    sub(
        part,
        "joint",
        name=spec.joint_name,
        type=spec.joint_type,
        axis=spec.axis,
        pos=(0, 0, 0),
        range=spec.joint_range,
        damping=damping,
        frictionloss=friction,
        armature=armature,
    )
    return part


def _vertical_bar(part: ET.Element, pos: tuple, length: float) -> None:
    x, y, z = pos
    sub(
        part,
        "geom",
        name="handle_bar",
        type="cylinder",
        size=(0.007, length / 2),
        pos=pos,
        rgba=HANDLE_RGBA,
        friction=(1.2, 0.02, 0.0005),
        condim="4",
        **WORLD_COLLISION,
    )
    for k, dz in enumerate((-length / 2 + 0.006, length / 2 - 0.006)):
        _box(part, f"handle_post{k}", (0.016, 0.005, 0.005), (x + 0.016, y, z + dz), HANDLE_RGBA)


def make_drawer(rng: np.random.Generator) -> ArticulatedSpec:
    """A cabinet with one drawer and a vertical bar handle."""
    d, w, h = rng.uniform(0.2, 0.24), rng.uniform(0.24, 0.3), rng.uniform(0.14, 0.18)
    front_x, cy = rng.uniform(0.5, 0.55), rng.uniform(-0.04, 0.04)
    handle = (front_x - 0.035, cy, h / 2)
    return ArticulatedSpec(
        kind="drawer",
        joint_type="slide",
        axis=(-1.0, 0.0, 0.0),
        anchor=(front_x, cy, h / 2),
        joint_range=(0.0, 0.16),
        handle_center=handle,
        grasp_rotation=_FRONT_VERTICAL_BAR,
        suction_point=(front_x - WALL, cy + w / 4, h / 2),
        suction_normal=(-1.0, 0.0, 0.0),
        size=(d, w, h),
        front_x=front_x,
        center_y=cy,
        rgba=_wood(rng),
    )


def _build_drawer(spec: ArticulatedSpec, world: ET.Element) -> None:
    _shell(world, spec, "front")
    d, w, h = spec.size
    part = _moving_part(world, spec, (spec.front_x, spec.center_y, 0), 3.0, 0.5, 0.05)
    inner_w, inner_h, t = w / 2 - WALL - 0.003, h / 2 - WALL - 0.003, WALL / 2
    depth = d - 2 * WALL
    # The front panel sits just outside the shell, so closed means touching nothing.
    _box(
        part, "drawer_front", (t, w / 2 - 0.002, h / 2 - 0.002), (-t - 0.001, 0, h / 2), spec.rgba
    )
    _box(
        part, "drawer_bottom", (depth / 2, inner_w, t), (depth / 2, 0, WALL + t + 0.002), spec.rgba
    )
    _box(
        part,
        "drawer_back",
        (t, inner_w, inner_h * 0.6),
        (depth - t, 0, WALL + inner_h * 0.6),
        spec.rgba,
    )
    for k, sign in enumerate((-1, 1)):
        _box(
            part,
            f"drawer_side{k}",
            (depth / 2, t, inner_h * 0.6),
            (depth / 2, sign * (inner_w - t), WALL + inner_h * 0.6),
            spec.rgba,
        )
    _vertical_bar(part, (-0.035, 0.0, h / 2), 0.07)


def make_door(rng: np.random.Generator) -> ArticulatedSpec:
    """A cabinet with a door hinged on its left edge and a vertical bar handle near the right."""
    d, w, h = rng.uniform(0.2, 0.24), rng.uniform(0.24, 0.3), rng.uniform(0.2, 0.26)
    front_x, cy = rng.uniform(0.52, 0.57), rng.uniform(-0.04, 0.04)
    hinge = (front_x - WALL, cy - w / 2, 0.0)
    handle = (front_x - WALL - 0.035, cy + w / 2 - 0.045, h / 2)
    return ArticulatedSpec(
        kind="door",
        joint_type="hinge",
        axis=(0.0, 0.0, 1.0),
        anchor=hinge,
        joint_range=(0.0, 1.6),
        handle_center=handle,
        grasp_rotation=_FRONT_VERTICAL_BAR,
        suction_point=(front_x - 2 * WALL, cy + w / 2 - 0.06, h * 0.75),
        suction_normal=(-1.0, 0.0, 0.0),
        size=(d, w, h),
        front_x=front_x,
        center_y=cy,
        rgba=_wood(rng),
    )


def _build_door(spec: ArticulatedSpec, world: ET.Element) -> None:
    _shell(world, spec, "front")
    _, w, h = spec.size
    hx, hy, _ = spec.anchor
    part = _moving_part(world, spec, (hx, hy, 0), 0.3, 0.05, 0.01)
    t = WALL / 2
    _box(part, "door_panel", (t, w / 2 - 0.002, h / 2 - 0.002), (-t, w / 2, h / 2), spec.rgba)
    hcx, hcy, hcz = spec.handle_center
    _vertical_bar(part, (hcx - hx, hcy - hy, hcz), 0.08)


def make_lid(rng: np.random.Generator) -> ArticulatedSpec:
    """A box whose lid is hinged along its back edge, with a bar handle on top at the front."""
    d, w, h = rng.uniform(0.14, 0.18), rng.uniform(0.16, 0.22), rng.uniform(0.07, 0.1)
    front_x, cy = rng.uniform(0.44, 0.5), rng.uniform(-0.04, 0.04)
    hinge = (front_x + d, cy, h)
    handle = (front_x + 0.03, cy, h + WALL + 0.022)
    return ArticulatedSpec(
        kind="lid",
        joint_type="hinge",
        axis=(0.0, 1.0, 0.0),
        anchor=hinge,
        joint_range=(0.0, 1.6),
        handle_center=handle,
        grasp_rotation=_TOP_DOWN_ALONG_X,
        suction_point=(front_x + d / 2, cy + w / 4, h + WALL),
        suction_normal=(0.0, 0.0, 1.0),
        size=(d, w, h),
        front_x=front_x,
        center_y=cy,
        rgba=_wood(rng),
    )


def _build_lid(spec: ArticulatedSpec, world: ET.Element) -> None:
    _shell(world, spec, "top")
    d, w, _ = spec.size
    hx, hy, hz = spec.anchor
    part = _moving_part(world, spec, (hx, hy, hz), 0.05, 0.02, 0.005)
    t = WALL / 2
    _box(part, "lid_panel", (d / 2 + 0.004, w / 2 + 0.004, t), (-d / 2, 0, t), spec.rgba)
    bar_x = spec.handle_center[0] - hx
    sub(
        part,
        "geom",
        name="handle_bar",
        type="cylinder",
        size=(0.007, 0.04),
        pos=(bar_x, 0, WALL + 0.022),
        quat=(math.cos(math.pi / 4), math.sin(math.pi / 4), 0, 0),
        rgba=HANDLE_RGBA,
        friction=(1.2, 0.02, 0.0005),
        condim="4",
        **WORLD_COLLISION,
    )
    for k, dy in enumerate((-0.034, 0.034)):
        _box(
            part, f"handle_post{k}", (0.005, 0.005, 0.011), (bar_x, dy, WALL + 0.011), HANDLE_RGBA
        )


def _wood(rng: np.random.Generator) -> tuple[float, float, float, float]:
    base = np.array([0.62, 0.45, 0.3]) * rng.uniform(0.8, 1.15)
    return (*np.clip(base, 0, 1).tolist(), 1.0)


BUILDERS: dict[str, tuple[Callable[[np.random.Generator], ArticulatedSpec], Callable]] = {
    "drawer": (make_drawer, _build_drawer),
    "door": (make_door, _build_door),
    "lid": (make_lid, _build_lid),
}
ARTICULATED = tuple(BUILDERS)


def make_articulated(kind: str, rng: np.random.Generator) -> ArticulatedSpec:
    """Draw an articulated object of ``kind`` with random size, placement and colour."""
    if kind not in BUILDERS:
        raise ConfigError(f"unknown articulated object {kind!r}; known: {', '.join(BUILDERS)}")
    return BUILDERS[kind][0](rng)
