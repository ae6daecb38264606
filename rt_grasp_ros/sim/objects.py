"""Graspable object categories built from primitives, with ground truth from their geometry.

Each builder draws a size and colour from a generator and returns an :class:`ObjectSpec` in
the object frame (origin on the table, z up): MuJoCo geoms, the top-down parallel grasps that
hold it (where the fingers close, the direction of the opening axis, the width between the
contacts) and the flat, reachable points where a suction cup seals. Category names exist in
the reasoning templates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.transforms import quat_from_wxyz, quat_to_wxyz


@dataclass(frozen=True)
class GeomSpec:
    """One MuJoCo geom; ``size`` follows MuJoCo (half sizes, radius, half length)."""

    type: str
    size: tuple[float, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Grasp3D:
    """A top-down parallel grasp in the object frame.

    Attributes:
        center: where the fingers close (m).
        yaw: direction of the opening axis in the xy plane (rad).
        width: distance between the two contacts (m).
    """

    center: tuple[float, float, float]
    yaw: float
    width: float


@dataclass(frozen=True)
class SuctionPoint:
    """A point on a flat, upward-facing surface where a suction cup seals."""

    position: tuple[float, float, float]
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)


@dataclass(frozen=True)
class ObjectSpec:
    """A graspable object: geometry, colour, density and ground truth (object frame)."""

    category: str
    geoms: tuple[GeomSpec, ...]
    grasps: tuple[Grasp3D, ...]
    suction: tuple[SuctionPoint, ...] = ()
    rgba: tuple[float, float, float, float] = (0.8, 0.2, 0.2, 1.0)
    density: float = 600.0
    friction: float = 1.0
    footprint: float = 0.05  # radius of a circle that holds the object seen from above
    params: dict[str, float] = field(default_factory=dict)

    @property
    def height(self) -> float:
        """Highest point above the table (m), from the geoms' bounding boxes."""
        return max(_geom_top(g) for g in self.geoms)


def _geom_top(g: GeomSpec) -> float:
    if g.type == "sphere":
        return g.pos[2] + g.size[0]
    if g.type in ("capsule", "cylinder"):
        # Upright unless rotated; rotated (lying) ones here always lie horizontally.
        upright = np.allclose(g.quat, (1, 0, 0, 0))
        extent = g.size[1] + (g.size[0] if g.type == "capsule" else 0.0) if upright else g.size[0]
        return g.pos[2] + extent
    return g.pos[2] + g.size[2]


LYING_X = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)  # z axis turned onto x


def _yaw_quat(yaw: float) -> tuple[float, float, float, float]:
    return (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


def _ring(radius: float, height: float, wall: float, segments: int = 16) -> list[GeomSpec]:
    """A thin vertical wall around a circle, from boxes."""
    half_len = radius * math.tan(math.pi / segments) + wall / 2
    out = []
    for k in range(segments):
        a = 2 * math.pi * k / segments
        out.append(
            GeomSpec(
                "box",
                (wall / 2, half_len, height / 2),
                (radius * math.cos(a), radius * math.sin(a), height / 2),
                _yaw_quat(a),
            )
        )
    return out


def _rim_grasps(
    radius: float, z: float, wall: float, angles_deg: tuple[float, ...]
) -> tuple[Grasp3D, ...]:
    return tuple(
        Grasp3D(
            (radius * math.cos(math.radians(a)), radius * math.sin(math.radians(a)), z),
            math.radians(a),
            wall,
        )
        for a in angles_deg
    )


def box(rng: np.random.Generator) -> ObjectSpec:
    """A rectangular box, grasped across its short side."""
    lx, ly, lz = rng.uniform(0.03, 0.06), rng.uniform(0.018, 0.032), rng.uniform(0.015, 0.04)
    top = 2 * lz
    z = top - min(0.02, lz)
    grasps = [Grasp3D((dx, 0.0, z), math.pi / 2, 2 * ly) for dx in (-lx / 2, 0.0, lx / 2)]
    if 2 * lx < 0.07:
        grasps.append(Grasp3D((0.0, 0.0, z), 0.0, 2 * lx))
    return ObjectSpec(
        "box",
        (GeomSpec("box", (lx, ly, lz), (0, 0, lz)),),
        tuple(grasps),
        (SuctionPoint((0.0, 0.0, top)),),
        density=400,
        footprint=math.hypot(lx, ly),
    )


def can(rng: np.random.Generator) -> ObjectSpec:
    """A standing cylinder, grasped across its diameter near the top."""
    r, hh = rng.uniform(0.026, 0.034), rng.uniform(0.035, 0.06)
    z = 2 * hh - 0.02
    grasps = tuple(Grasp3D((0.0, 0.0, z), math.radians(a), 2 * r) for a in (0, 45, 90, 135))
    return ObjectSpec(
        "can",
        (GeomSpec("cylinder", (r, hh), (0, 0, hh)),),
        grasps,
        (SuctionPoint((0.0, 0.0, 2 * hh)),),
        density=500,
        footprint=r,
    )


def ball(rng: np.random.Generator) -> ObjectSpec:
    """A sphere, grasped across its equator at any angle."""
    r = rng.uniform(0.025, 0.034)
    grasps = tuple(Grasp3D((0.0, 0.0, r), math.radians(a), 2 * r) for a in (0, 45, 90, 135))
    return ObjectSpec(
        "ball",
        (GeomSpec("sphere", (r,), (0, 0, r)),),
        grasps,
        (SuctionPoint((0.0, 0.0, 2 * r)),),
        density=300,
        friction=1.2,
        footprint=r,
    )


def mug(rng: np.random.Generator) -> ObjectSpec:
    """A hollow mug with a handle, grasped by pinching its rim."""
    r, h, wall = rng.uniform(0.036, 0.044), rng.uniform(0.07, 0.095), 0.006
    geoms = [GeomSpec("cylinder", (r + wall / 2, 0.003), (0, 0, 0.003)), *_ring(r, h, wall)]
    hx = r + 0.025
    geoms += [
        GeomSpec("box", (0.006, 0.006, h * 0.3), (hx, 0, h * 0.5)),
        GeomSpec("box", (0.0125, 0.006, 0.006), (r + 0.0125, 0, h * 0.8)),
        GeomSpec("box", (0.0125, 0.006, 0.006), (r + 0.0125, 0, h * 0.2)),
    ]
    grasps = _rim_grasps(r, h - 0.013, wall, (90, 135, 180, 225, 270))
    return ObjectSpec("mug", tuple(geoms), grasps, (), density=1200, footprint=hx + 0.01)


def bottle(rng: np.random.Generator) -> ObjectSpec:
    """A bottle lying on its side, grasped across the body."""
    r, hl = rng.uniform(0.026, 0.033), rng.uniform(0.06, 0.08)
    neck_r, neck_hl = 0.012, 0.022
    geoms = (
        GeomSpec("cylinder", (r, hl), (0, 0, r), LYING_X),
        GeomSpec("cylinder", (neck_r, neck_hl), (hl + neck_hl, 0, r), LYING_X),
    )
    z = 2 * r - min(0.02, r)
    grasps = tuple(Grasp3D((dx, 0.0, z), math.pi / 2, 2 * r) for dx in (-hl / 2, 0.0, hl / 2))
    return ObjectSpec(
        "bottle",
        geoms,
        grasps,
        (SuctionPoint((0.0, 0.0, 2 * r)),),
        density=350,
        footprint=hl + 2 * neck_hl,
    )


def _rimmed(
    category: str, radius: float, height: float, segments: int, pinch_depth: float
) -> ObjectSpec:
    """A flat base with a thin raised rim, grasped by pinching the rim; suction in the middle."""
    wall = 0.006
    base = GeomSpec("cylinder", (radius + wall / 2, 0.003), (0, 0, 0.003))
    grasps = _rim_grasps(radius, height - pinch_depth, wall, (0, 60, 120, 180, 240, 300))
    return ObjectSpec(
        category,
        (base, *_ring(radius, height, wall, segments)),
        grasps,
        (SuctionPoint((0.0, 0.0, 0.006)),),
        density=1000,
        footprint=radius + wall,
    )


def bowl(rng: np.random.Generator) -> ObjectSpec:
    """A wide bowl, grasped by pinching its rim."""
    return _rimmed("bowl", rng.uniform(0.055, 0.068), rng.uniform(0.045, 0.06), 20, 0.013)


def plate(rng: np.random.Generator) -> ObjectSpec:
    """A plate with a raised rim, grasped by pinching the rim."""
    return _rimmed("plate", rng.uniform(0.07, 0.085), 0.03, 24, 0.012)


def banana(rng: np.random.Generator) -> ObjectSpec:
    """A curved banana from four capsules along an arc, grasped across its middle."""
    r, arc = rng.uniform(0.016, 0.019), rng.uniform(0.09, 0.11)
    angles = np.radians([-48, -24, 0, 24, 48])
    pts = [(arc * math.sin(a), arc * (math.cos(a) - 0.85), r) for a in angles]
    geoms, grasps = [], []
    for k, (p, q) in enumerate(itertools.pairwise(pts)):
        mid = tuple((np.array(p) + np.array(q)) / 2)
        d = np.array(q) - np.array(p)
        yaw = math.atan2(d[1], d[0])
        half = float(np.linalg.norm(d)) / 2
        geoms.append(GeomSpec("capsule", (r, half), mid, _capsule_quat(yaw)))
        if k in (1, 2):
            grasps.append(
                Grasp3D((mid[0], mid[1], 2 * r - min(0.02, r)), yaw + math.pi / 2, 2 * r)
            )
    return ObjectSpec(
        "banana",
        tuple(geoms),
        tuple(grasps),
        (),
        density=900,
        rgba=(0.95, 0.85, 0.2, 1.0),
        footprint=arc * 0.8,
    )


def _capsule_quat(yaw: float) -> tuple[float, float, float, float]:
    """A capsule lying along the direction ``yaw`` (z axis turned onto x, then yawed)."""
    turn = Rotation.from_euler("z", yaw) * Rotation.from_quat(quat_from_wxyz(LYING_X))
    return tuple(quat_to_wxyz(turn.as_quat()).tolist())


def screwdriver(rng: np.random.Generator) -> ObjectSpec:
    """A screwdriver lying down: a thick handle and a thin shaft; grasped by the handle."""
    hr, hhl = rng.uniform(0.015, 0.019), rng.uniform(0.04, 0.05)
    shl = rng.uniform(0.04, 0.05)
    geoms = (
        GeomSpec("cylinder", (hr, hhl), (-hhl, 0, hr), LYING_X),
        GeomSpec("cylinder", (0.004, shl), (shl, 0, hr), LYING_X),
    )
    z = 2 * hr - min(0.02, hr)
    grasps = tuple(Grasp3D((-hhl + dx, 0.0, z), math.pi / 2, 2 * hr) for dx in (-hhl / 3, hhl / 3))
    return ObjectSpec("screwdriver", geoms, grasps, (), density=700, footprint=2 * max(hhl, shl))


def pen(rng: np.random.Generator) -> ObjectSpec:
    """A pen: a thin capsule lying down, grasped across its barrel."""
    r, hl = rng.uniform(0.0055, 0.0075), rng.uniform(0.055, 0.07)
    geoms = (GeomSpec("capsule", (r, hl), (0, 0, r), LYING_X),)
    grasps = tuple(Grasp3D((dx, 0.0, r), math.pi / 2, 2 * r) for dx in (-hl / 2, 0.0, hl / 2))
    return ObjectSpec("pen", geoms, grasps, (), density=900, friction=1.2, footprint=hl + r)


def toy_block(rng: np.random.Generator) -> ObjectSpec:
    """A small cube, grasped across two opposite faces."""
    e = rng.uniform(0.015, 0.025)
    z = 2 * e - min(0.02, e)
    grasps = (Grasp3D((0.0, 0.0, z), 0.0, 2 * e), Grasp3D((0.0, 0.0, z), math.pi / 2, 2 * e))
    return ObjectSpec(
        "toy block",
        (GeomSpec("box", (e, e, e), (0, 0, e)),),
        grasps,
        (SuctionPoint((0.0, 0.0, 2 * e)),),
        density=500,
        footprint=e * 1.5,
    )


def scissors(rng: np.random.Generator) -> ObjectSpec:
    """Scissors lying flat: two handles and two crossed blades; grasped across the handles."""
    blade = rng.uniform(0.04, 0.05)
    handle_hx, handle_hy, t = 0.017, 0.011, 0.006
    geoms = (
        GeomSpec("box", (handle_hx, handle_hy, t), (-handle_hx - 0.01, 0.0135, t)),
        GeomSpec("box", (handle_hx, handle_hy, t), (-handle_hx - 0.01, -0.0135, t)),
        GeomSpec("box", (0.012, 0.01, t * 0.7), (0.0, 0.0, t * 0.7)),
        GeomSpec("box", (blade, 0.004, 0.002), (blade, 0.003, 0.002), _yaw_quat(math.radians(-3))),
        GeomSpec("box", (blade, 0.004, 0.002), (blade, -0.003, 0.002), _yaw_quat(math.radians(3))),
    )
    width = 2 * (0.0135 + handle_hy)
    grasps = (Grasp3D((-handle_hx - 0.01, 0.0, t), math.pi / 2, width),)
    suction = (SuctionPoint((-handle_hx - 0.01, 0.0135, 2 * t)),)
    return ObjectSpec("scissors", geoms, grasps, suction, density=900, footprint=blade * 2 + 0.02)


CATEGORIES: dict[str, Callable[[np.random.Generator], ObjectSpec]] = {
    "box": box,
    "can": can,
    "ball": ball,
    "mug": mug,
    "bottle": bottle,
    "bowl": bowl,
    "plate": plate,
    "banana": banana,
    "screwdriver": screwdriver,
    "pen": pen,
    "toy block": toy_block,
    "scissors": scissors,
}
SUCTION_CATEGORIES = tuple(
    name for name, build in CATEGORIES.items() if build(np.random.default_rng(0)).suction
)


def make_object(category: str, rng: np.random.Generator) -> ObjectSpec:
    """Build one object of ``category`` with a random size and colour."""
    if category not in CATEGORIES:
        raise ConfigError(f"unknown object category {category!r}; known: {', '.join(CATEGORIES)}")
    spec = CATEGORIES[category](rng)
    if category == "banana":
        return spec
    hue = rng.uniform(0, 1)
    rgb = _hsv_to_rgb(hue, rng.uniform(0.55, 0.9), rng.uniform(0.45, 0.85))
    return ObjectSpec(**{**spec.__dict__, "rgba": (*rgb, 1.0)})


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
