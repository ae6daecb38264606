"""Scenes generated from a seed: which objects, their sizes, colours and poses."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim import mjcf, panda
from rt_grasp_ros.sim.camera import CameraConfig
from rt_grasp_ros.sim.control import ImpedanceGains
from rt_grasp_ros.sim.objects import CATEGORIES, ObjectSpec, make_object
from rt_grasp_ros.sim.tools import GripperKind, SuctionTool, Tool, make_tool

if TYPE_CHECKING:
    from rt_grasp_ros.sim.articulated import ArticulatedSpec

MAX_PLACEMENT_TRIES = 100
MAX_OBJECT_DRAWS = 20  # a large object that does not fit is replaced by another draw
MOUNTS = ("arm", "flying")


@dataclass(frozen=True)
class Lighting:
    """The scene's lights: the camera's headlight and a directional key light.

    Attributes:
        ambient: ambient intensity of the headlight.
        headlight: diffuse intensity of the headlight.
        key: diffuse intensity of the key light.
        key_direction: where the key light shines (base frame).
    """

    ambient: float = 0.3
    headlight: float = 0.35
    key: float = 0.4
    key_direction: tuple[float, float, float] = (0.0, 0.0, -1.0)

    def __post_init__(self) -> None:
        for name in ("ambient", "headlight", "key"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"Lighting.{name} must be in [0, 1], got {getattr(self, name)}")

    def apply(self, root: ET.Element) -> None:
        """Set the lights of an MJCF scene made by :func:`mjcf.scene_root`."""
        head = root.find("visual/headlight")
        head.set("ambient", mjcf.fmt([self.ambient] * 3))
        head.set("diffuse", mjcf.fmt([self.headlight] * 3))
        key = root.find("worldbody/light")
        key.set("diffuse", mjcf.fmt([self.key] * 3))
        key.set("dir", mjcf.fmt(self.key_direction))


@dataclass(frozen=True)
class SceneConfig:
    """What a generated scene holds.

    Attributes:
        n_objects: graspable objects on the table.
        categories: categories to draw from (default: all).
        gripper: ``parallel`` (Franka Hand) or ``suction``.
        articulated: an articulated category (:data:`~rt_grasp_ros.sim.articulated.ARTICULATED`)
            to add one, or None.
        camera: the scene camera (default: looking down at the table, or, with an
            articulated object, :meth:`CameraConfig.front_view`).
        workspace_center: centre of the region where objects are placed (m, base frame).
        workspace_half: half extents of that region (m).
        suction_tool: the suction tool's parameters (default :class:`SuctionTool`); only
            with the suction gripper.
        lighting: the lights (default: the fixed ones of :func:`mjcf.scene_root`).
        mount: ``arm``: the tool on the Panda's flange; ``flying``: the suction tool on a free
            body of its own, starting where the arm (in view, fixed in its ready pose and
            touching nothing) would hold it.
    """

    n_objects: int = 1
    categories: tuple[str, ...] | None = None
    gripper: GripperKind = GripperKind.PARALLEL
    articulated: str | None = None
    camera: CameraConfig | None = None
    workspace_center: tuple[float, float] = (0.5, 0.0)
    workspace_half: tuple[float, float] = (0.12, 0.16)
    suction_tool: SuctionTool | None = None
    lighting: Lighting | None = None
    mount: str = "arm"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gripper", make_tool(self.gripper).kind)
        if self.mount not in MOUNTS:
            raise ConfigError(f"SceneConfig.mount must be one of {MOUNTS}, got {self.mount!r}")
        if self.mount == "flying" and self.gripper is not GripperKind.SUCTION:
            raise ConfigError("SceneConfig.mount='flying' needs gripper='suction'")
        if self.suction_tool is not None and self.gripper is not GripperKind.SUCTION:
            raise ConfigError("SceneConfig.suction_tool needs gripper='suction'")
        if self.camera is None:
            front = self.articulated is not None
            object.__setattr__(
                self, "camera", CameraConfig.front_view() if front else CameraConfig()
            )
        if not 0 <= self.n_objects <= 6:
            raise ConfigError(f"n_objects must be in [0, 6], got {self.n_objects}")
        unknown = [c for c in self.categories or () if c not in CATEGORIES]
        if unknown:
            raise ConfigError(
                f"unknown object categories {unknown}; known: {', '.join(CATEGORIES)}"
            )
        if self.categories is not None and not self.categories:
            raise ConfigError("categories must not be empty (use None for all)")
        from rt_grasp_ros.sim.articulated import ARTICULATED

        if self.articulated is not None and self.articulated not in ARTICULATED:
            raise ConfigError(
                f"unknown articulated object {self.articulated!r}; known: {', '.join(ARTICULATED)}"
            )

    def tool(self) -> Tool:
        """The tool on the flange: the Franka Hand, or the (configured) suction tool."""
        return self.suction_tool or make_tool(self.gripper)


@dataclass(frozen=True)
class PlacedObject:
    """An object and where it was put on the table."""

    name: str
    spec: ObjectSpec
    xy: tuple[float, float]
    yaw: float


@dataclass(frozen=True)
class SceneSpec:
    """A fully determined scene: everything needed to build the MuJoCo model."""

    seed: int
    config: SceneConfig
    objects: tuple[PlacedObject, ...]
    articulated: ArticulatedSpec | None = None

    def to_mjcf(self) -> str:
        """The scene as an MJCF string."""
        cam = self.config.camera
        root, world = mjcf.scene_root(cam.mjcf(), cam.width, cam.height)
        if self.config.lighting is not None:
            self.config.lighting.apply(root)
        tool = self.config.tool()
        flying = self.config.mount == "flying"
        if flying:
            mjcf.add_static_arm(world, panda.Q_READY)
            tcp = panda.forward_kinematics(panda.Q_READY, tool.tcp_offset)[-1]
            gains = ImpedanceGains()
            mjcf.add_flying_tool(world, tool, tcp, (gains.translational, gains.rotational))
        else:
            mjcf.add_robot(world, tool)
        for obj in self.objects:
            quat = (math.cos(obj.yaw / 2), 0.0, 0.0, math.sin(obj.yaw / 2))
            mjcf.add_object(world, obj.name, obj.spec, (*obj.xy, mjcf.TABLE_TOP + 1e-4), quat)
        if self.articulated is not None:
            self.articulated.add_assets(root.find("asset"))
            self.articulated.add_to(world)
        names = [o.name for o in self.objects]
        if self.articulated is not None:
            names += self.articulated.suction_bodies
        mjcf.add_robot_actuation(root, tool, names, arm=not flying)
        return mjcf.to_string(root)


def generate_scene(seed: int, config: SceneConfig | None = None) -> SceneSpec:
    """Draw a scene: categories, sizes, colours and non-overlapping poses, all from ``seed``."""
    config = config or SceneConfig()
    rng = np.random.default_rng(seed)
    categories = config.categories or tuple(CATEGORIES)
    articulated = None
    if config.articulated is not None:
        from rt_grasp_ros.sim.articulated import make_articulated

        articulated = make_articulated(config.articulated, rng)
    placed: list[PlacedObject] = []
    for i in range(config.n_objects):
        for _ in range(MAX_OBJECT_DRAWS):
            spec = make_object(categories[int(rng.integers(len(categories)))], rng)
            pose = _place(rng, spec, placed, config)
            if pose is not None:
                placed.append(PlacedObject(f"obj{i}", spec, *pose))
                break
        else:
            raise ConfigError(
                f"could not place {i + 1} objects without overlap; use fewer objects"
            )
    return SceneSpec(seed, config, tuple(placed), articulated)


def _place(
    rng: np.random.Generator, spec: ObjectSpec, placed: list[PlacedObject], config: SceneConfig
) -> tuple[tuple[float, float], float] | None:
    """A free pose for ``spec``, or None when the table has no room left for it."""
    cx, cy = config.workspace_center
    hx, hy = config.workspace_half
    for _ in range(MAX_PLACEMENT_TRIES):
        xy = (float(cx + rng.uniform(-hx, hx)), float(cy + rng.uniform(-hy, hy)))
        clear = all(
            math.dist(xy, other.xy) > spec.footprint + other.spec.footprint + 0.02
            for other in placed
        )
        if clear:
            return xy, float(rng.uniform(-math.pi, math.pi))
    return None


def object_view(instance_seed: int, view: int, config: SceneConfig | None = None) -> SceneSpec:
    """Object instance ``instance_seed`` (its size and colour) placed anew for ``view``."""
    config = config or SceneConfig()
    base = generate_scene(instance_seed, config)
    placed = generate_scene(instance_seed + 100_000 * (view + 1), config).objects[0]
    obj = type(placed)(placed.name, base.objects[0].spec, placed.xy, placed.yaw)
    return SceneSpec(base.seed * 1000 + view, config, (obj,), None)
