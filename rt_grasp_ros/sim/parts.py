"""Building blocks of articulated objects: cabinet shells, panels, handles, knobs, colours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.sim.mechanism import TEXTURES, Material, Shape, Vec3

WALL = 0.012
GAP = 0.002  # clearance between a closed part and its frame
HANDLE_RGBA = (0.25, 0.25, 0.28, 1.0)


def box(name: str, center: Vec3, half: Vec3, material: str = "body") -> Shape:
    """A box shape from its centre and half extents."""
    return Shape(name, "box", tuple(float(h) for h in half), _vec(center), material)


def cylinder(
    name: str, center: Vec3, radius: float, half_length: float, axis: str, material: str
) -> Shape:
    """A cylinder shape along ``axis``."""
    return Shape(name, "cylinder", (radius, half_length), _vec(center), material, axis)


def _vec(v: Vec3) -> Vec3:
    return (float(v[0]), float(v[1]), float(v[2]))


def shell(
    front_x: float, cy: float, size: Vec3, open_side: str, z0: float = 0.0, material: str = "body"
) -> list[Shape]:
    """A five-sided box (base frame) whose ``front`` (-x) or ``top`` side is open.

    ``size`` is depth (x), width (y) and height (z); it stands on ``z0``.
    """
    d, w, h = size
    cx, t = front_x + d / 2, WALL / 2
    walls = {
        "bottom": ((d / 2, w / 2, t), (cx, cy, z0 + t)),
        "back": ((t, w / 2, h / 2), (cx + d / 2 - t, cy, z0 + h / 2)),
        "left": ((d / 2, t, h / 2), (cx, cy - w / 2 + t, z0 + h / 2)),
        "right": ((d / 2, t, h / 2), (cx, cy + w / 2 - t, z0 + h / 2)),
    }
    if open_side == "front":
        walls["top"] = ((d / 2, w / 2, t), (cx, cy, z0 + h - t))
    else:
        walls["front"] = ((t, w / 2, h / 2), (front_x + t, cy, z0 + h / 2))
    return [box(f"wall_{k}", pos, half, material) for k, (half, pos) in walls.items()]


@dataclass(frozen=True)
class Handle:
    """A handle's shapes and the Franka Hand grasp on it (centre, hand rotation rows)."""

    shapes: list[Shape]
    center: Vec3
    rotation: tuple[tuple[float, ...], ...]


def grasp_rotation(approach: np.ndarray, bar: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Hand rotation (rows) approaching along ``approach`` and closing across ``bar``.

    Of the two hands that are the same grasp (turned by pi about the approach), the one whose
    x axis does not point up: the Panda's wrist reaches it from the ready pose.
    """
    z = np.asarray(approach, float) / np.linalg.norm(approach)
    y = np.cross(z, bar)
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    if x[2] > 1e-9:
        x, y = -x, -y
    matrix = np.column_stack([x, y, z])
    return tuple(tuple(float(v) for v in row) for row in matrix)


def bar_handle(
    name: str, base: Vec3, normal: Vec3, along: Vec3, length: float, standoff: float = 0.035
) -> Handle:
    """A cylindrical bar ``standoff`` out from a surface point ``base`` along ``normal``.

    The bar runs along ``along`` (a base axis) and two posts join it to the surface.
    """
    n, a, b = np.asarray(normal, float), np.asarray(along, float), np.asarray(base, float)
    center = b + standoff * n
    axis = "xyz"[int(np.argmax(np.abs(a)))]
    shapes = [cylinder(f"{name}_bar", center, 0.007, length / 2, axis, "handle")]
    post_half = np.where(np.abs(n) > 0.5, standoff / 2, 0.005)
    for k, s in enumerate((-1, 1)):
        post = b + n * standoff / 2 + a * s * (length / 2 - 0.006)
        shapes.append(box(f"{name}_post{k}", post, post_half, "handle"))
    return Handle(shapes, tuple(center), grasp_rotation(-n, a))


def knob(name: str, base: Vec3, normal: Vec3, radius: float, length: float) -> list[Shape]:
    """A round knob standing out of a surface along a base axis ``normal``."""
    n = np.asarray(normal, float)
    axis = "xyz"[int(np.argmax(np.abs(n)))]
    center = np.asarray(base, float) + n * length / 2
    return [cylinder(name, center, radius, length / 2, axis, "handle")]


def colour(rng: np.random.Generator, base: Vec3, spread: float = 0.12) -> Vec3:
    """``base`` with its brightness and hue jittered."""
    c = np.asarray(base) * rng.uniform(1 - spread, 1 + spread) + rng.normal(0, spread / 4, 3)
    return tuple(float(v) for v in np.clip(c, 0.02, 0.98))


PALETTES: dict[str, tuple[Vec3, ...]] = {
    "wood": ((0.62, 0.45, 0.3), (0.45, 0.3, 0.2), (0.78, 0.64, 0.46), (0.55, 0.38, 0.26)),
    "appliance": ((0.92, 0.92, 0.9), (0.15, 0.15, 0.16), (0.7, 0.71, 0.72), (0.85, 0.83, 0.78)),
    "plastic": ((0.2, 0.45, 0.7), (0.75, 0.2, 0.2), (0.3, 0.6, 0.35), (0.9, 0.75, 0.3)),
    "metal": ((0.55, 0.56, 0.58), (0.35, 0.36, 0.38), (0.25, 0.3, 0.28), (0.6, 0.55, 0.45)),
    "ceramic": ((0.95, 0.95, 0.93), (0.9, 0.9, 0.85), (0.85, 0.88, 0.9)),
}


def material(rng: np.random.Generator, palette: str, textured: bool = True) -> Material:
    """A random colour from ``palette`` with a random texture (or plain)."""
    options = PALETTES[palette]
    rgb = colour(rng, options[int(rng.integers(len(options)))])
    texture = TEXTURES[int(rng.integers(len(TEXTURES)))] if textured else "plain"
    shade = float(rng.uniform(0.75, 0.92))
    rgb2 = tuple(float(v) * shade for v in rgb)
    return Material((*rgb, 1.0), texture, rgb2, float(rng.uniform(0.05, 0.5)))


def fixed(rgba: tuple[float, float, float, float], specular: float = 0.3) -> Material:
    """A plain material of one colour."""
    return Material(rgba, "plain", (0.0, 0.0, 0.0), specular)


def handle_material(rng: np.random.Generator) -> Material:
    """Dark or brushed-metal handle colour."""
    base = (0.25, 0.25, 0.28) if rng.random() < 0.5 else (0.7, 0.7, 0.72)
    return fixed((*colour(rng, base, 0.08), 1.0), 0.6)


def in_part_frame(shapes: list[Shape], anchor: Vec3) -> tuple[Shape, ...]:
    """Shapes placed in the base frame (part closed), moved into the part's frame at ``anchor``."""
    a = np.asarray(anchor, float)
    return tuple(
        Shape(s.name, s.type, s.size, _vec(np.asarray(s.pos) - a), s.material, s.axis)
        for s in shapes
    )
