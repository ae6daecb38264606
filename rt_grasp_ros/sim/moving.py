"""Moving parts, built by mechanism: a door hinged at its side, bottom or top, a drawer.

Each builder takes the part's dimensions, where it is hinged and what is on its face (a bar
handle, knobs, a window) and returns a :class:`MovingPart`: the joint, the part's shapes in its
own frame and the ground truth (the suction point, the handle grasp). A category
(:mod:`rt_grasp_ros.sim.furniture`, :mod:`rt_grasp_ros.sim.appliances`) describes the fixed
body around it and turns the two into an :class:`ArticulatedSpec` with :meth:`MovingPart.spec`.
Shapes and points are given in the base frame with the part closed. Parts of other shapes (a
lid hinged at its back, a sliding panel) are built with :func:`part_on_joint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rt_grasp_ros.sim.mechanism import ArticulatedSpec, Material, Shape, Vec3
from rt_grasp_ros.sim.parts import WALL, Handle, bar_handle, box, in_part_frame, knob

OUT = (-1.0, 0.0, 0.0)  # the front faces' outward normal: towards the robot
UP = (0.0, 0.0, 1.0)
ACROSS = (0.0, 1.0, 0.0)  # the axis of a hinge along a back or top edge, opening upwards
EDGE_CLEARANCE = 0.002  # a closed door or front is this much smaller than its opening, per edge


@dataclass(frozen=True)
class Bar:
    """A bar handle on a door's face, centred ``across`` and ``up`` (see :class:`Leaf`)."""

    across: float
    up: float
    length: float
    standoff: float = 0.035


@dataclass(frozen=True)
class Knob:
    """A round knob (or dial) on a door's face, centred ``across`` and ``up``."""

    name: str
    across: float
    up: float
    radius: float
    length: float


@dataclass(frozen=True)
class Window:
    """A glass pane 1 mm proud of a door's face, centred ``across`` and ``up``."""

    across: float
    up: float
    half_width: float
    half_height: float


@dataclass(frozen=True)
class Leaf:
    """A door's face; a point on it is ``across`` (along y, from ``y0``) and ``up`` (from ``z0``).

    Attributes:
        face_x: x of the closed door's outer face.
        y0, sign: ``across`` is measured from ``y0`` towards ``sign`` * y.
        z0: ``up`` is measured from this height.
    """

    face_x: float
    y0: float
    sign: float
    z0: float

    def point(self, across: float, up: float, out: float = 0.0) -> Vec3:
        """The base-frame point ``across`` and ``up`` on the face, ``out`` in front of it."""
        return (self.face_x - out, self.y0 + self.sign * across, self.z0 + up)


@dataclass(frozen=True)
class MovingPart:
    """A moving part on one joint and its ground truth, as a mechanism builder returns it.

    Attributes:
        joint_type, axis, anchor, joint_range: as in :class:`ArticulatedSpec`.
        shapes: the part's shapes in its frame (origin at ``anchor``).
        suction_point, suction_normal: the ground-truth contact and its outward normal.
        handle: the graspable handle, if any.
        extra: what the builder records about the part (the hinge side).
    """

    joint_type: str
    axis: Vec3
    anchor: Vec3
    joint_range: tuple[float, float]
    shapes: tuple[Shape, ...]
    suction_point: Vec3
    suction_normal: Vec3
    handle: Handle | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def spec(
        self,
        kind: str,
        static: Sequence[Shape],
        materials: tuple[tuple[str, Material], ...],
        bounds: tuple[Vec3, Vec3],
        extra: dict[str, object] | None = None,
        **dynamics: float | bool,
    ) -> ArticulatedSpec:
        """The whole object: this part, the fixed body's ``static`` shapes and materials.

        ``bounds`` is the object's centre and half extent (:func:`box_bounds`); ``dynamics``
        are :class:`ArticulatedSpec`'s density, damping, ... fields; ``extra`` is added to the
        part's.
        """
        return ArticulatedSpec(
            kind=kind,
            joint_type=self.joint_type,
            axis=self.axis,
            anchor=self.anchor,
            joint_range=self.joint_range,
            suction_point=self.suction_point,
            suction_normal=self.suction_normal,
            static=tuple(static),
            part=self.shapes,
            materials=materials,
            center=bounds[0],
            half_extent=bounds[1],
            handle_center=self.handle.center if self.handle else None,
            grasp_rotation=self.handle.rotation if self.handle else None,
            extra={**self.extra, **(extra or {})},
            **dynamics,
        )


def part_on_joint(
    joint_type: str,
    anchor: Vec3,
    axis: Vec3,
    limit: float,
    shapes: Sequence[Shape],
    suction: tuple[Vec3, Vec3],
    handle: Handle | None = None,
    extra: dict[str, object] | None = None,
) -> MovingPart:
    """A part turning (``hinge``) or sliding (``slide``) from 0 to ``limit`` about/along ``axis``.

    A hinge's axis passes through ``anchor``. ``shapes`` (the handle's among them) and
    ``suction`` (point, normal) are the closed part's, in the base frame; ``handle`` gives
    the grasp on it.
    """
    return MovingPart(
        joint_type,
        axis,
        anchor,
        (0.0, limit),
        in_part_frame(list(shapes), anchor),
        suction[0],
        suction[1],
        handle,
        dict(extra or {}),
    )


def box_bounds(front_x: float, cy: float, size: Vec3, z0: float = 0.0) -> tuple[Vec3, Vec3]:
    """Centre and half extent of a box-shaped object (and what it stands on, up from the table).

    Its front is at ``front_x``, its middle at ``cy``; ``size`` (depth, width, height) stands
    on ``z0``.
    """
    d, w, h = size
    top = z0 + h
    return (front_x + d / 2, cy, top / 2), (d / 2, w / 2, top / 2)


def front_panel(
    name: str, back_x: float, y: float, z: float, size: Vec3, material: str = "part"
) -> Shape:
    """A closed door, flap or drawer front: its back face at ``back_x``, centred at ``y``, ``z``.

    ``size`` is the thickness and the width and height of the opening it closes.
    """
    t, w, h = size
    half = (t / 2, w / 2 - EDGE_CLEARANCE, h / 2 - EDGE_CLEARANCE)
    return box(name, (back_x - t / 2, y, z), half, material)


def _fittings(
    leaf: Leaf, bar: Bar | None, along: Vec3, knobs: Sequence[Knob], window: Window | None
) -> tuple[list[Shape], Handle | None]:
    """The shapes on a door's face (window, handle, knobs) and its handle."""
    shapes = []
    if window is not None:
        pane = (0.001, window.half_width, window.half_height)
        shapes.append(box("window", leaf.point(window.across, window.up, 0.0005), pane, "glass"))
    handle = None
    if bar is not None:
        base = leaf.point(bar.across, bar.up)
        handle = bar_handle("handle", base, OUT, along, bar.length, bar.standoff)
        shapes += handle.shapes
    for k in knobs:
        shapes += knob(k.name, leaf.point(k.across, k.up), OUT, k.radius, k.length)
    return shapes, handle


def side_hinged(
    name: str,
    hinge: Vec3,
    sign: int,
    size: Vec3,
    suction: tuple[float, float],
    bar: Bar | None = None,
    knobs: Sequence[Knob] = (),
    window: Window | None = None,
) -> MovingPart:
    """A front door hinged on a vertical edge: at ``hinge`` (its back, bottom corner).

    ``sign`` +1 hinges it on its left (-y) edge, -1 on its right; ``size`` is its thickness,
    width and height. ``across`` (of the suction point, the bar, knobs and window) is measured
    from the hinged edge, ``up`` from the door's bottom; a vertical bar.
    """
    t, w, h = size
    leaf = Leaf(hinge[0] - t, hinge[1], sign, hinge[2])
    panel = front_panel(name, hinge[0], hinge[1] + sign * w / 2, hinge[2] + h / 2, size)
    shapes, handle = _fittings(leaf, bar, (0, 0, 1), knobs, window)
    return part_on_joint(
        "hinge",
        hinge,
        (0.0, 0.0, float(sign)),
        1.6,
        [panel, *shapes],
        (leaf.point(*suction), OUT),
        handle,
        {"hinge": "left" if sign > 0 else "right"},
    )


def bottom_hinged(
    name: str,
    hinge: Vec3,
    size: Vec3,
    suction: tuple[float, float],
    bar: Bar | None = None,
    window: Window | None = None,
    suction_proud: float = 0.0,
) -> MovingPart:
    """A front door hinged along its bottom edge at ``hinge`` (its back, bottom, middle).

    ``size`` is its thickness, width and height; ``across`` is measured from its middle
    (towards +y), ``up`` from its bottom; a horizontal bar. The suction point is
    ``suction_proud`` in front of the door's face (on a window).
    """
    t, h = size[0], size[2]
    leaf = Leaf(hinge[0] - t, hinge[1], 1.0, hinge[2])
    panel = front_panel(name, hinge[0], hinge[1], hinge[2] + h / 2, size)
    shapes, handle = _fittings(leaf, bar, (0, 1, 0), (), window)
    point = leaf.point(*suction, suction_proud)
    return part_on_joint(
        "hinge", hinge, (0.0, -1.0, 0.0), 1.4, [panel, *shapes], (point, OUT), handle
    )


def top_hinged(
    name: str,
    hinge: Vec3,
    size: Vec3,
    suction: tuple[float, float],
    knobs: Sequence[Knob] = (),
) -> MovingPart:
    """A front flap hanging from a hinge along its top edge at ``hinge`` (back, top, middle).

    ``size`` is its thickness, width and height; ``across`` is measured from its middle
    (towards +y), ``up`` from its bottom edge.
    """
    t, h = size[0], size[2]
    leaf = Leaf(hinge[0] - t, hinge[1], 1.0, hinge[2] - h)
    panel = front_panel(name, hinge[0], hinge[1], hinge[2] - h / 2, size)
    shapes, _ = _fittings(leaf, None, (0, 1, 0), knobs, None)
    return part_on_joint(
        "hinge", hinge, (0.0, 1.0, 0.0), 1.4, [panel, *shapes], (leaf.point(*suction), OUT)
    )


def drawer(
    front_x: float,
    cy: float,
    z0: float,
    size: Vec3,
    bar_length: float,
    suction_across: float,
    travel: float = 0.16,
) -> MovingPart:
    """A drawer pulled out (-x) of the opening of a shell (``size``: depth, width, height).

    The shell's open front is at ``front_x``, its bottom at ``z0``, its middle at ``cy``; the
    drawer has a vertical bar handle in the middle of its front and its suction point is
    ``suction_across`` towards +y from there.
    """
    d, w, h = size
    depth, inner_w, inner_h = d - 2 * WALL, w / 2 - WALL - 0.003, h / 2 - WALL - 0.003
    low, t = z0 + WALL + 0.002, WALL / 2  # the sides and back clear the shell's bottom
    mid_x, wall_z, wall_h = front_x + depth / 2, low + inner_h * 0.6, inner_h * 0.6
    shapes = [
        front_panel("front", front_x - 0.001, cy, z0 + h / 2, (WALL, w, h)),
        box("bottom", (mid_x, cy, low + t), (depth / 2, inner_w, t), "part"),
        box("back", (front_x + depth - t, cy, wall_z), (t, inner_w, wall_h), "part"),
    ]
    for k, s in enumerate((-1, 1)):
        side = (mid_x, cy + s * (inner_w - t), wall_z)
        shapes.append(box(f"side{k}", side, (depth / 2, t, wall_h), "part"))
    face = Leaf(front_x - WALL - 0.001, cy, 1.0, z0)
    handle = bar_handle("handle", face.point(0, h / 2), OUT, (0, 0, 1), bar_length, 0.022)
    suction = (face.point(suction_across, h / 2), OUT)
    return part_on_joint(
        "slide", (front_x, cy, z0), OUT, travel, [*shapes, *handle.shapes], suction, handle
    )
