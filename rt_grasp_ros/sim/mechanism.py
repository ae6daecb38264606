"""An articulated object as data: static shapes, one moving part on one joint, materials.

Every category (:mod:`rt_grasp_ros.sim.articulated`) draws one of these from a seed; this module
writes it into the MJCF scene. Shapes of the static body are in the base frame; shapes of the
moving part are in the part's frame, whose origin is the joint anchor and whose axes are the
base frame's when the part is closed.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.mjcf import WORLD_COLLISION, sub

Vec3 = tuple[float, float, float]
_CYLINDER_QUAT = {  # MuJoCo (w, x, y, z) turning a cylinder's z axis onto x, y or z
    "x": (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0),
    "y": (math.cos(math.pi / 4), -math.sin(math.pi / 4), 0.0, 0.0),
    "z": None,
}
TEXTURES = ("plain", "speckle", "checker", "gradient")


@dataclass(frozen=True)
class Shape:
    """A box or cylinder of an articulated object.

    Attributes:
        name: unique within its body.
        type: ``box`` or ``cylinder``.
        size: half extents (box), or radius and half length (cylinder).
        pos: centre, in the body's frame.
        material: key of the object's material it is drawn with.
        axis: a cylinder's axis (``x``, ``y`` or ``z``).
    """

    name: str
    type: str
    size: tuple[float, ...]
    pos: Vec3
    material: str = "body"
    axis: str = "z"

    def __post_init__(self) -> None:
        if self.type not in ("box", "cylinder"):
            raise ConfigError(f"Shape.type must be box or cylinder, got {self.type!r}")
        if len(self.size) != (3 if self.type == "box" else 2) or min(self.size) <= 0:
            raise ConfigError(f"Shape.size of {self.name!r} is invalid: {self.size}")
        if self.axis not in _CYLINDER_QUAT:
            raise ConfigError(f"Shape.axis must be x, y or z, got {self.axis!r}")


@dataclass(frozen=True)
class Material:
    """Colour and texture of a surface.

    Attributes:
        rgba: base colour.
        texture: ``plain``, ``speckle`` (random marks), ``checker`` or ``gradient``.
        rgb2: the texture's second colour.
        specular: highlight strength in [0, 1].
    """

    rgba: tuple[float, float, float, float]
    texture: str = "plain"
    rgb2: Vec3 = (0.0, 0.0, 0.0)
    specular: float = 0.2

    def __post_init__(self) -> None:
        if self.texture not in TEXTURES:
            raise ConfigError(f"Material.texture must be one of {TEXTURES}, got {self.texture!r}")


@dataclass(frozen=True)
class ArticulatedSpec:
    """An articulated object and its ground truth, in the robot base frame.

    Attributes:
        kind: the category (see :data:`rt_grasp_ros.sim.articulated.ARTICULATED`).
        joint_type: ``slide`` (prismatic) or ``hinge`` (revolute).
        axis: joint axis; moving along (or about) it by a positive amount opens the part.
        anchor: the part frame's origin; on the axis for a hinge.
        joint_range: (closed, fully open), metres or radians.
        suction_point, suction_normal: a flat point on the moving part where pulling along
            the outward normal opens it (the ground-truth contact), and that normal.
        static, part: the shapes of the fixed body (base frame) and of the moving part (part
            frame).
        materials: material of each key the shapes use.
        handle_center, grasp_rotation: where the Franka Hand's fingers close on the handle
            and the hand orientation (rows of a 3x3 matrix whose columns are the hand's x, y
            (opening) and z (approach) axes); None where the part has no graspable handle.
        center, half_extent: centre and half size of the whole object (to frame a camera).
        density: of the moving part (kg/m^3).
        damping, frictionloss, armature, stiffness: joint dynamics; a stiffness pulls the
            part towards closed (a door closer, an oven's spring).
        gravcomp: the part is counterweighted (a sash window).
    """

    kind: str
    joint_type: str
    axis: Vec3
    anchor: Vec3
    joint_range: tuple[float, float]
    suction_point: Vec3
    suction_normal: Vec3
    static: tuple[Shape, ...]
    part: tuple[Shape, ...]
    materials: tuple[tuple[str, Material], ...]
    center: Vec3
    half_extent: Vec3
    handle_center: Vec3 | None = None
    grasp_rotation: tuple[tuple[float, ...], ...] | None = None
    density: float = 600.0
    damping: float = 0.3
    frictionloss: float = 0.05
    armature: float = 0.01
    stiffness: float = 0.0
    gravcomp: bool = False
    moving_body: str = "part"
    joint_name: str = "part_joint"
    static_body: str = "shell"
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.joint_type not in ("slide", "hinge"):
            raise ConfigError(f"joint_type must be slide or hinge, got {self.joint_type!r}")
        keys = {k for k, _ in self.materials}
        missing = {s.material for s in (*self.static, *self.part)} - keys
        if missing:
            raise ConfigError(f"{self.kind}: shapes use undefined materials {sorted(missing)}")

    @property
    def part_type(self) -> str:
        """``prismatic`` or ``revolute`` (ManipLLM's action types)."""
        return "prismatic" if self.joint_type == "slide" else "revolute"

    @property
    def suction_bodies(self) -> list[str]:
        """Bodies a suction cup may attach to."""
        return [self.moving_body]

    def opening_direction(self, q: float = 0.0, point: np.ndarray | None = None) -> np.ndarray:
        """Unit direction in which ``point`` (default: the suction point) moves as the part opens.

        ``point`` is where it is at joint value 0; ``q`` is the current joint value.
        """
        axis = np.asarray(self.axis, float)
        if self.joint_type == "slide":
            return axis / np.linalg.norm(axis)
        p = np.asarray(self.suction_point if point is None else point, float)
        r = Rotation.from_rotvec(q * axis / np.linalg.norm(axis)).apply(p - self.anchor)
        v = np.cross(axis, r)
        return v / np.linalg.norm(v)

    def add_assets(self, asset: ET.Element) -> None:
        """Add the object's textures and materials to the MJCF ``<asset>`` element."""
        for key, m in self.materials:
            texture = None
            if m.texture != "plain":
                texture = f"art_{key}_tex"
                builtin = {"speckle": "flat", "checker": "checker", "gradient": "gradient"}
                extra = {"mark": "random", "random": 0.08, "markrgb": m.rgb2}
                sub(
                    asset,
                    "texture",
                    name=texture,
                    type="2d",
                    builtin=builtin[m.texture],
                    rgb1=m.rgba[:3],
                    rgb2=m.rgb2,
                    width=64,
                    height=64,
                    **(extra if m.texture == "speckle" else {}),
                )
            sub(
                asset,
                "material",
                name=f"art_{key}",
                rgba=m.rgba,
                texture=texture,
                texrepeat=(4, 4) if m.texture == "checker" else None,
                texuniform="true" if texture else None,
                specular=m.specular,
            )

    def add_to(self, world: ET.Element) -> None:
        """Add the static body and the moving part to the MJCF worldbody."""
        shell = sub(world, "body", name=self.static_body, pos=(0, 0, 0))
        for shape in self.static:
            _geom(shell, self.static_body, shape)
        part = sub(
            world,
            "body",
            name=self.moving_body,
            pos=self.anchor,
            gravcomp="1" if self.gravcomp else None,
        )
        sub(
            part,
            "joint",
            name=self.joint_name,
            type=self.joint_type,
            axis=self.axis,
            pos=(0, 0, 0),
            range=self.joint_range,
            damping=self.damping,
            frictionloss=self.frictionloss,
            armature=self.armature,
            stiffness=self.stiffness or None,
            springref=0.0 if self.stiffness else None,
        )
        for shape in self.part:
            _geom(part, self.moving_body, shape, self.density)


def _geom(body: ET.Element, prefix: str, shape: Shape, density: float = 600.0) -> None:
    sub(
        body,
        "geom",
        name=f"{prefix}_{shape.name}",
        type=shape.type,
        size=shape.size,
        pos=shape.pos,
        quat=_CYLINDER_QUAT[shape.axis] if shape.type == "cylinder" else None,
        material=f"art_{shape.material}",
        friction=(1.0, 0.02, 0.0005),
        condim="4",
        density=density,
        **WORLD_COLLISION,
    )
