"""Furniture categories: drawer, door, lid, sliding door and window, flap, safe, bin, toilet.

Each ``make_*`` draws sizes, placement, hinge side, handle and materials from ``rng``. Objects
stand in front of the robot with their front towards it (-x).
"""

from __future__ import annotations

import numpy as np

from rt_grasp_ros.sim.mechanism import ArticulatedSpec
from rt_grasp_ros.sim.moving import (
    ACROSS,
    UP,
    Bar,
    Knob,
    box_bounds,
    drawer,
    part_on_joint,
    side_hinged,
    top_hinged,
)
from rt_grasp_ros.sim.parts import (
    GAP,
    WALL,
    bar_handle,
    box,
    cylinder,
    fixed,
    handle_material,
    material,
    shell,
)

T = WALL / 2


def make_drawer(rng: np.random.Generator) -> ArticulatedSpec:
    """A cabinet on a plinth with one drawer and a vertical bar handle.

    The plinth lifts the drawer front so that the arm, pulling it with the tool level, keeps
    its wrist clear of the table.
    """
    d, w, h = rng.uniform(0.2, 0.24), rng.uniform(0.24, 0.3), rng.uniform(0.14, 0.18)
    fx, cy, z0 = rng.uniform(0.56, 0.61), rng.uniform(-0.04, 0.04), rng.uniform(0.06, 0.08)
    length = rng.uniform(0.06, 0.09)
    side = 1 if rng.random() < 0.5 else -1
    part = drawer(fx, cy, z0, (d, w, h), length, side * (w / 2 - 0.05))
    plinth = box("plinth", (fx + d / 2 + 0.01, cy, z0 / 2), (d / 2 - 0.01, w / 2 - 0.01, z0 / 2))
    return part.spec(
        "drawer",
        (*shell(fx, cy, (d, w, h), "front", z0), plinth),
        _wooden(rng),
        box_bounds(fx, cy, (d, w, h), z0),
        damping=3.0,
        frictionloss=0.5,
        armature=0.05,
    )


def make_door(rng: np.random.Generator) -> ArticulatedSpec:
    """A cabinet with a door hinged on its left or right edge and a bar handle at the other."""
    d, w, h = rng.uniform(0.2, 0.24), rng.uniform(0.24, 0.3), rng.uniform(0.2, 0.26)
    fx, cy = rng.uniform(0.56, 0.6), rng.uniform(-0.04, 0.04)
    return _front_door("door", rng, (d, w, h), fx, cy, _wooden(rng), thickness=WALL)


def make_safe(rng: np.random.Generator) -> ArticulatedSpec:
    """A steel safe: a thick door hinged on one side, a dial and a bar handle."""
    d, w, h = rng.uniform(0.24, 0.28), rng.uniform(0.24, 0.3), rng.uniform(0.24, 0.3)
    fx, cy = rng.uniform(0.56, 0.6), rng.uniform(-0.04, 0.04)
    materials = (
        ("body", material(rng, "metal")),
        ("part", material(rng, "metal")),
        ("handle", fixed((0.75, 0.72, 0.6, 1.0), 0.8)),
    )
    z0 = rng.uniform(0.04, 0.06)  # on a low stand
    return _front_door(
        "safe", rng, (d, w, h), fx, cy, materials, 0.025, dial=True, density=2500, z0=z0
    )


def _front_door(
    kind: str,
    rng: np.random.Generator,
    size: tuple[float, float, float],
    fx: float,
    cy: float,
    materials: tuple,
    thickness: float,
    dial: bool = False,
    density: float = 600.0,
    z0: float = 0.0,
) -> ArticulatedSpec:
    """A cabinet (on a stand where ``z0`` > 0) with a side-hinged door (and a dial on it)."""
    d, w, h = size
    sign = 1 if rng.random() < 0.5 else -1  # +1: hinge on the left (-y) edge
    part = side_hinged(
        "panel",
        (fx - WALL, cy - sign * w / 2, z0),
        sign,
        (thickness, w, h),
        suction=(w - 0.09, (0.42 if dial else 0.5) * h),
        bar=Bar(w - 0.045, h / 2, 0.08),
        knobs=(Knob("dial", w / 2, 0.7 * h, 0.025, 0.015),) if dial else (),
    )
    static = list(shell(fx, cy, (d, w, h), "front", z0))
    if z0 > 0:
        static.append(box("stand", (fx + d / 2, cy, z0 / 2), (d / 2, w / 2, z0 / 2)))
    return part.spec(
        kind,
        static,
        materials,
        box_bounds(fx, cy, (d, w, h), z0),
        density=density,
        damping=1.0 if dial else 0.3,
        frictionloss=0.2 if dial else 0.05,
    )


def make_lid(rng: np.random.Generator) -> ArticulatedSpec:
    """A box whose lid is hinged along its back edge, with a bar handle on top at the front."""
    d, w, h = rng.uniform(0.14, 0.18), rng.uniform(0.16, 0.22), rng.uniform(0.07, 0.1)
    fx, cy = rng.uniform(0.44, 0.5), rng.uniform(-0.04, 0.04)
    top = h + WALL
    panel = box("panel", (fx + d / 2, cy, h + T), (d / 2 + 0.004, w / 2 + 0.004, T), "part")
    handle = bar_handle("handle", (fx + 0.03, cy, top), UP, (0, 1, 0), 0.08, 0.022)
    part = part_on_joint(
        "hinge",
        (fx + d, cy, h),
        ACROSS,
        1.6,
        [panel, *handle.shapes],
        ((fx + d / 2 - 0.01, cy + w / 4, top), UP),
        handle,
    )
    return part.spec(
        "lid",
        shell(fx, cy, (d, w, h), "top"),
        _wooden(rng),
        box_bounds(fx, cy, (d, w, h)),
        damping=0.05,
        frictionloss=0.02,
        armature=0.005,
    )


def make_storage_flap(rng: np.random.Generator) -> ArticulatedSpec:
    """A storage box on a shelf whose front flap hangs from a hinge along its top edge."""
    d, w, h = rng.uniform(0.2, 0.26), rng.uniform(0.24, 0.32), rng.uniform(0.18, 0.22)
    fx, cy, z0 = rng.uniform(0.55, 0.6), rng.uniform(-0.04, 0.04), rng.uniform(0.04, 0.07)
    side = 1 if rng.random() < 0.5 else -1
    knob = Knob("knob", 0.0, 0.035, 0.012, 0.025)
    part = top_hinged("flap", (fx - GAP, cy, z0 + h), (WALL, w, h), (side * w / 4, 0.05), (knob,))
    shelf = box("shelf", (fx + d / 2, cy, z0 / 2), (d / 2 + 0.02, w / 2 + 0.02, z0 / 2), "shelf")
    return part.spec(
        "storage_flap",
        (*shell(fx, cy, (d, w, h), "front", z0), shelf),
        (*_plastic(rng), ("handle", handle_material(rng)), ("shelf", material(rng, "wood"))),
        box_bounds(fx, cy, (d, w, h), z0),
        density=400,
        damping=0.1,
        frictionloss=0.02,
    )


def make_sliding_door(rng: np.random.Generator) -> ArticulatedSpec:
    """A cabinet whose front half is a panel sliding sideways over the fixed other half."""
    d, w, h = rng.uniform(0.2, 0.24), rng.uniform(0.3, 0.36), rng.uniform(0.18, 0.22)
    fx, cy = rng.uniform(0.55, 0.6), rng.uniform(-0.03, 0.03)
    sign = 1 if rng.random() < 0.5 else -1  # the panel slides towards -sign * y
    fixed_panel = box("fixed_panel", (fx - T, cy - sign * w / 4, h / 2), (T, w / 4, h / 2 - 0.002))
    x_panel = fx - WALL - GAP - T
    panel_y = cy + sign * w / 4
    panel = box("panel", (x_panel, panel_y, h / 2), (T, w / 4 + 0.004, h / 2 - 0.002), "part")
    face = x_panel - T
    pull_y = panel_y - sign * (w / 4 - 0.035)
    # A deep pull keeps the arm, which reaches it from the side, clear of the cabinet's front.
    pull = box("pull", (face - 0.035, pull_y, h / 2), (0.035, 0.01, 0.035), "handle")
    axis = (0.0, -float(sign), 0.0)
    suction = ((face - 0.05, pull_y - sign * 0.01, h / 2), axis)
    part = part_on_joint(
        "slide", (x_panel, panel_y, 0.0), axis, w / 2 - 0.03, [panel, pull], suction
    )
    return part.spec(
        "sliding_door",
        (*shell(fx, cy, (d, w, h), "front"), fixed_panel),
        _wooden(rng),
        box_bounds(fx, cy, (d, w, h)),
        damping=2.0,
        frictionloss=0.3,
        armature=0.05,
        # The camera stays on the side the pull faces, so that the contact face is seen.
        extra={"slides": "left" if sign > 0 else "right", "view_side": -sign},
    )


def make_sliding_window(rng: np.random.Generator) -> ArticulatedSpec:
    """A sash window: the counterweighted lower sash slides up; a lift block on its rail."""
    wd, hw, depth = rng.uniform(0.32, 0.4), rng.uniform(0.52, 0.6), 0.05
    fx, cy = rng.uniform(0.5, 0.56), rng.uniform(-0.03, 0.03)
    cx, sill = fx + depth / 2, 0.03
    static = [
        box("sill", (cx, cy, sill / 2), (depth / 2, wd / 2, sill / 2)),
        box("head", (cx, cy, hw - 0.015), (depth / 2, wd / 2, 0.015)),
        box("upper_sash", (cx + 0.012, cy, hw * 0.72), (0.01, wd / 2 - 0.02, hw * 0.25), "glass"),
    ]
    for k, s in enumerate((-1, 1)):
        jamb = (cx, cy + s * (wd / 2 - 0.01), hw / 2)
        static.append(box(f"jamb{k}", jamb, (depth / 2, 0.01, hw / 2)))
    sash_h, x_sash = hw / 2 - sill, cx - 0.012
    z_mid = sill + sash_h / 2
    face = x_sash - 0.016
    sash = [
        box("glass", (x_sash, cy, z_mid), (0.008, wd / 2 - 0.022, sash_h / 2 - 0.002), "glass"),
        box("rail", (x_sash - 0.004, cy, sill + 0.02), (0.012, wd / 2 - 0.022, 0.018), "part"),
        # A long lift keeps the arm, which reaches down onto it, in front of the frame's head.
        box("lift", (face - 0.055, cy, sill + 0.03), (0.055, 0.03, 0.006), "handle"),
    ]
    suction = ((face - 0.09, cy, sill + 0.036), UP)
    part = part_on_joint("slide", (x_sash, cy, sill), UP, sash_h - 0.03, sash, suction)
    return part.spec(
        "sliding_window",
        static,
        (*_wooden(rng), ("glass", fixed((0.6, 0.75, 0.85, 1.0), 0.9))),
        ((cx, cy, hw / 2), (depth / 2, wd / 2, hw / 2)),
        damping=2.0,
        frictionloss=0.3,
        armature=0.05,
        gravcomp=True,
    )


def make_trash_can(rng: np.random.Generator) -> ArticulatedSpec:
    """A round bin whose lid is hinged at the back, with a lip at the front."""
    r, hc = rng.uniform(0.09, 0.12), rng.uniform(0.16, 0.22)
    cx, cy = rng.uniform(0.55, 0.6), rng.uniform(-0.04, 0.04)
    lid = cylinder("lid", (cx, cy, hc + 0.006), r + 0.005, 0.006, "z", "part")
    lip = box("lip", (cx - r - 0.01, cy, hc + 0.004), (0.014, 0.03, 0.004), "part")
    suction = ((cx - 0.45 * r, cy, hc + 0.012), UP)
    part = part_on_joint("hinge", (cx + r, cy, hc), ACROSS, 1.5, [lid, lip], suction)
    return part.spec(
        "trash_can",
        (cylinder("bin", (cx, cy, hc / 2), r, hc / 2, "z", "body"),),
        _plastic(rng),
        ((cx, cy, hc / 2), (r, r, hc / 2)),
        density=500,
        damping=0.05,
        frictionloss=0.02,
    )


def make_toilet(rng: np.random.Generator) -> ArticulatedSpec:
    """A (small) toilet: bowl, tank and a round lid hinged in front of the tank."""
    rb, hb = rng.uniform(0.12, 0.14), rng.uniform(0.17, 0.2)
    cx, cy = rng.uniform(0.52, 0.56), rng.uniform(-0.03, 0.03)
    tank_x = cx + rb + 0.02  # front of the tank, behind the lid's swing
    static = [
        cylinder("bowl", (cx, cy, hb / 2 + 0.02), rb, hb / 2 - 0.02, "z", "body"),
        box("pedestal", (cx + 0.02, cy, 0.02), (rb * 0.7, rb * 0.6, 0.02)),
        box("tank", (tank_x + 0.05, cy, hb + 0.06), (0.05, rb * 1.1, 0.14), "body"),
        box("neck", (cx + rb, cy, hb - 0.01), (0.03, rb * 0.5, 0.01)),
    ]
    lid = cylinder("lid", (cx, cy, hb + 0.011), rb, 0.006, "z", "part")
    suction = ((cx - 0.45 * rb, cy, hb + 0.017), UP)
    part = part_on_joint("hinge", (cx + rb + 0.004, cy, hb + 0.005), ACROSS, 1.4, [lid], suction)
    return part.spec(
        "toilet",
        static,
        (("body", material(rng, "ceramic")), ("part", material(rng, "ceramic"))),
        ((cx + 0.05, cy, (hb + 0.2) / 2), (rb + 0.05, rb * 1.1, (hb + 0.2) / 2)),
        density=900,
        damping=0.05,
        frictionloss=0.02,
    )


def _wooden(rng: np.random.Generator) -> tuple:
    return (
        ("body", material(rng, "wood")),
        ("part", material(rng, "wood")),
        ("handle", handle_material(rng)),
    )


def _plastic(rng: np.random.Generator) -> tuple:
    return (("body", material(rng, "plastic")), ("part", material(rng, "plastic")))
