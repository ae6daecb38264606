"""Appliance categories: microwave, oven, dishwasher, refrigerator, laptop and faucet lever.

Sizes are scaled to the Panda's workspace on the table (a countertop oven, a mini fridge).
"""

from __future__ import annotations

import numpy as np

from rt_grasp_ros.sim.mechanism import ArticulatedSpec, Material
from rt_grasp_ros.sim.moving import (
    ACROSS,
    UP,
    Bar,
    Window,
    bottom_hinged,
    box_bounds,
    part_on_joint,
    side_hinged,
)
from rt_grasp_ros.sim.parts import (
    GAP,
    WALL,
    box,
    cylinder,
    fixed,
    handle_material,
    knob,
    material,
    shell,
)

T = WALL / 2
DARK_GLASS = fixed((0.08, 0.09, 0.1, 1.0), 0.9)
GRAVITY = 9.81


def _appliance(rng: np.random.Generator) -> tuple[tuple[str, Material], ...]:
    body = material(rng, "appliance")
    door = body if rng.random() < 0.6 else material(rng, "appliance")
    return (
        ("body", body),
        ("part", door),
        ("handle", handle_material(rng)),
        ("glass", DARK_GLASS),
    )


def make_microwave(rng: np.random.Generator) -> ArticulatedSpec:
    """A microwave: a door with a window hinged on the left, a control panel on the right."""
    d, w, h = rng.uniform(0.26, 0.3), rng.uniform(0.38, 0.44), rng.uniform(0.2, 0.24)
    fx, cy = rng.uniform(0.55, 0.59), rng.uniform(-0.03, 0.03)
    door_w = 0.72 * w
    part = side_hinged(
        "door",
        (fx - WALL, cy - w / 2, 0.0),
        1,
        (WALL, door_w, h),
        suction=(door_w - 0.075, h / 2),
        bar=Bar(door_w - 0.03, h / 2, 0.1, 0.025),
        window=Window(0.35 * door_w, h / 2, 0.27 * door_w, 0.3 * h),
    )
    panel_y, panel_w = cy - w / 2 + door_w + (w - door_w) / 2, (w - door_w) / 2
    controls = (T, panel_w - 0.003, h / 2 - 0.003)
    static = [
        *shell(fx, cy, (d, w, h), "front"),
        box("controls", (fx - T, panel_y, h / 2), controls, "glass"),
    ]
    for k in range(3):
        button = (fx - WALL - 0.002, panel_y, h * (0.7 - 0.15 * k))
        static.append(box(f"button{k}", button, (0.003, 0.02, 0.01), "handle"))
    return part.spec(
        "microwave",
        static,
        _appliance(rng),
        box_bounds(fx, cy, (d, w, h)),
        density=500,
        damping=0.3,
        frictionloss=0.05,
    )


def make_oven(rng: np.random.Generator) -> ArticulatedSpec:
    """A countertop oven: a door hinged along its bottom edge, knobs above it."""
    d, w, h = rng.uniform(0.28, 0.32), rng.uniform(0.34, 0.4), rng.uniform(0.26, 0.3)
    return _bottom_hinged("oven", rng, (d, w, h), strip=0.06, window=True)


def make_dishwasher(rng: np.random.Generator) -> ArticulatedSpec:
    """A (compact) dishwasher: a full-height door hinged at the bottom, a grip at its top."""
    d, w, h = rng.uniform(0.28, 0.32), rng.uniform(0.3, 0.36), rng.uniform(0.26, 0.3)
    return _bottom_hinged("dishwasher", rng, (d, w, h), strip=0.0, window=False)


def _bottom_hinged(
    kind: str, rng: np.random.Generator, size: tuple, strip: float, window: bool
) -> ArticulatedSpec:
    """An appliance on a counter, its door hinged at the bottom, a knob ``strip`` above it."""
    d, w, h = size
    # On a counter: the door's lower part is then pulled without the wrist nearing the table.
    fx, cy, z0 = rng.uniform(0.55, 0.59), rng.uniform(-0.03, 0.03), rng.uniform(0.05, 0.08)
    door_h = h - 0.02 - strip
    side = 1 if rng.random() < 0.5 else -1
    part = bottom_hinged(
        "door",
        (fx - GAP, cy, z0 + 0.02),
        (WALL, w, door_h),
        suction=(side * w / 5, 0.5 * door_h),
        bar=Bar(0.0, door_h - (0.035 if window else 0.03), 0.6 * w, 0.03 if window else 0.02),
        window=Window(0.0, 0.45 * door_h, 0.32 * w, 0.25 * door_h) if window else None,
        suction_proud=0.0015 if window else 0.0,  # on the window
    )
    counter = box("counter", (fx + d / 2, cy, z0 / 2), (d / 2 + 0.03, w / 2 + 0.03, z0 / 2))
    static = [*shell(fx, cy, (d, w, h), "front", z0), counter]
    top = z0 + h
    if strip:
        static.append(box("strip", (fx - T, cy, top - strip / 2), (T, w / 2, strip / 2), "glass"))
        for k, s in enumerate((-0.3, -0.1, 0.1, 0.3)):
            static += knob(
                f"knob{k}", (fx - WALL, cy + s * w, top - strip / 2), (-1, 0, 0), 0.012, 0.015
            )
    # A spring that holds the door closed against its own weight (as real ovens have).
    mass = 500 * WALL * w * door_h
    return part.spec(
        kind,
        static,
        _appliance(rng),
        box_bounds(fx, cy, (d, w, h), z0),
        density=500,
        damping=0.5,
        frictionloss=0.1,
        stiffness=1.6 * mass * GRAVITY * door_h / 2,
    )


def make_refrigerator(rng: np.random.Generator) -> ArticulatedSpec:
    """A mini fridge: a tall door hinged on one side with a long bar handle."""
    d, w, h = rng.uniform(0.28, 0.32), rng.uniform(0.26, 0.32), rng.uniform(0.42, 0.5)
    fx, cy = rng.uniform(0.55, 0.6), rng.uniform(-0.03, 0.03)
    sign = 1 if rng.random() < 0.5 else -1
    part = side_hinged(
        "door",
        (fx - WALL, cy - sign * w / 2, 0.0),
        sign,
        (0.02, w, h),
        suction=(w - 0.085, 0.32 * h),
        bar=Bar(w - 0.035, 0.55 * h, 0.18, 0.03),
    )
    grille = box("grille", (fx + d / 2, cy, 0.01), (d / 2, w / 2, 0.01), "glass")
    return part.spec(
        "refrigerator",
        (*shell(fx, cy, (d, w, h), "front"), grille),
        _appliance(rng),
        box_bounds(fx, cy, (d, w, h)),
        density=300,
        damping=0.5,
        frictionloss=0.1,
    )


def make_laptop(rng: np.random.Generator) -> ArticulatedSpec:
    """A closed laptop on a stand; its screen is hinged along the back edge of the base."""
    d, w, z0 = rng.uniform(0.2, 0.24), rng.uniform(0.28, 0.34), rng.uniform(0.04, 0.08)
    fx, cy, base_t, lid_t = rng.uniform(0.42, 0.47), rng.uniform(-0.04, 0.04), 0.018, 0.008
    top = z0 + base_t
    hinge = (fx + d, cy, top)
    static = [
        box("stand", (fx + d / 2, cy, z0 / 2), (d / 2 + 0.03, w / 2 + 0.03, z0 / 2), "stand"),
        box("base", (fx + d / 2, cy, z0 + base_t / 2), (d / 2, w / 2, base_t / 2)),
    ]
    screen = box(
        "screen", (fx + d / 2, cy, top + lid_t / 2 + 0.0005), (d / 2, w / 2, lid_t / 2), "part"
    )
    display = box(
        "display", (fx + d / 2, cy, top + 0.0012), (d / 2 - 0.012, w / 2 - 0.012, 0.0005), "glass"
    )
    side = 1 if rng.random() < 0.5 else -1
    suction = ((fx + 0.045, cy + side * w / 5, top + lid_t + 0.0005), UP)
    part = part_on_joint("hinge", hinge, ACROSS, 1.9, [screen, display], suction)
    return part.spec(
        "laptop",
        static,
        (
            ("body", material(rng, "metal")),
            ("part", material(rng, "metal")),
            ("glass", DARK_GLASS),
            ("stand", material(rng, "wood")),
        ),
        box_bounds(fx, cy, (d, w, base_t), z0),
        density=1200,
        damping=0.05,
        frictionloss=0.08,
    )


def make_faucet(rng: np.random.Generator) -> ArticulatedSpec:
    """A single-lever mixer tap on a sink deck; the lever lifts about a horizontal axis."""
    fx, cy, deck = rng.uniform(0.44, 0.48), rng.uniform(-0.04, 0.04), 0.04
    body_h, lever = rng.uniform(0.14, 0.17), rng.uniform(0.09, 0.12)
    bx = fx + 0.13
    mount_top = deck + body_h + 0.02
    pivot = (bx, cy, mount_top + 0.016)  # the cap turns about its own axis, clear of the mount
    static = [
        box("deck", (fx + 0.1, cy, deck / 2), (0.1, 0.16, deck / 2), "deck"),
        cylinder("body", (bx, cy, deck + body_h / 2), 0.022, body_h / 2, "z", "body"),
        cylinder("spout", (bx - 0.06, cy, deck + body_h - 0.03), 0.011, 0.06, "x", "body"),
        cylinder("mount", (bx, cy, mount_top - 0.01), 0.02, 0.01, "z", "body"),
    ]
    paddle = box("lever", (bx - lever / 2, cy, pivot[2]), (lever / 2, 0.017, 0.006), "part")
    cap = cylinder("cap", pivot, 0.014, 0.02, "y", "part")
    chrome = fixed((*[float(v) for v in rng.uniform(0.7, 0.85, 3)], 1.0), 0.9)
    suction = ((bx - 0.7 * lever, cy, pivot[2] + 0.006), UP)
    part = part_on_joint("hinge", pivot, ACROSS, 0.8, [paddle, cap], suction)
    return part.spec(
        "faucet",
        static,
        (("body", chrome), ("part", chrome), ("deck", material(rng, "ceramic"))),
        ((fx + 0.1, cy, pivot[2] / 2), (0.1, 0.16, pivot[2] / 2)),
        density=2000,
        damping=0.02,
        frictionloss=0.01,
        armature=0.002,
    )
