"""ManipLLM scenes: one articulated object, the suction Panda, a randomised camera and lights.

As in ManipLLM's data collection, the view the model sees is randomised: the camera is placed
on a sphere around the object (azimuth, elevation, distance, look-at point jittered) and the
lights' intensities and direction vary; the object's sizes, colours and textures come from its
category's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.camera import CameraConfig
from rt_grasp_ros.sim.scene import Lighting, SceneConfig, SceneSpec, generate_scene
from rt_grasp_ros.sim.tools import SuctionTool

IMAGE_SIZE = 336  # ManipLLM's image size (its CLIP encoder's input)
FOCAL_PX = 300.0


@dataclass(frozen=True)
class ViewRandomization:
    """Ranges of the randomised view (angles in degrees).

    Attributes:
        azimuth: camera direction about the vertical, 0 looking along +x from the robot's
            side; drawn on either side, within ``[lo, hi]`` in magnitude (the arm stands at
            0).
        elevation: camera height angle above the object's centre.
        distance_scale: camera distance relative to the one that frames the object.
        target_jitter: look-at point jitter around the object's centre (m).
        ambient, headlight, key: light intensity ranges.
        key_tilt: largest tilt of the key light from vertical.
        image_size: width and height of the image (px).
    """

    azimuth: tuple[float, float] = (15.0, 55.0)
    elevation: tuple[float, float] = (18.0, 42.0)
    distance_scale: tuple[float, float] = (0.95, 1.2)
    target_jitter: float = 0.02
    ambient: tuple[float, float] = (0.15, 0.4)
    headlight: tuple[float, float] = (0.2, 0.45)
    key: tuple[float, float] = (0.2, 0.6)
    key_tilt: float = 35.0
    image_size: int = IMAGE_SIZE

    def __post_init__(self) -> None:
        for name in ("azimuth", "elevation", "distance_scale", "ambient", "headlight", "key"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ConfigError(f"ViewRandomization.{name}: low {lo} above high {hi}")
        if not (self.elevation[0] >= 0 and self.elevation[1] < 90):
            raise ConfigError("ViewRandomization.elevation must lie in [0, 90) degrees")

    def camera(
        self,
        center: np.ndarray,
        radius: float,
        rng: np.random.Generator | None,
        side: float | None = None,
    ) -> CameraConfig:
        """A camera looking at ``center``, framing a sphere of ``radius`` (None: no jitter).

        ``side``: +1 or -1 to keep the camera on the robot's left (+y) or right (-y) side.
        """
        pick = (lambda r: sum(r) / 2) if rng is None else (lambda r: rng.uniform(*r))
        coin = 1.0 if rng is None or rng.random() < 0.5 else -1.0
        side = float(side) if side is not None else coin
        az = math.radians(pick(self.azimuth)) * side
        el = math.radians(pick(self.elevation))
        half_fov = math.atan(self.image_size / 2 / FOCAL_PX)
        dist = pick(self.distance_scale) * 1.1 * radius / math.sin(half_fov)
        jitter = np.zeros(3) if rng is None else rng.uniform(-1, 1, 3) * self.target_jitter
        target = np.asarray(center, float) + jitter
        offset = np.array(
            [-math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
        )
        position = target + dist * offset
        return CameraConfig(
            width=self.image_size,
            height=self.image_size,
            focal_px=FOCAL_PX * self.image_size / IMAGE_SIZE,
            position=tuple(float(v) for v in position),
            target=tuple(float(v) for v in target),
            up=(0.0, 0.0, 1.0),
            crop=self.image_size,
        )

    def lighting(self, rng: np.random.Generator) -> Lighting:
        """Random light intensities and key light direction."""
        tilt = math.radians(rng.uniform(0, self.key_tilt))
        heading = rng.uniform(0, 2 * math.pi)
        direction = (
            math.sin(tilt) * math.cos(heading),
            math.sin(tilt) * math.sin(heading),
            -math.cos(tilt),
        )
        return Lighting(
            float(rng.uniform(*self.ambient)),
            float(rng.uniform(*self.headlight)),
            float(rng.uniform(*self.key)),
            direction,
        )


def manip_scene(
    seed: int, category: str, view: ViewRandomization | None = None, randomize: bool = True
) -> SceneSpec:
    """A scene with one articulated ``category`` object and the bellows suction tool.

    The object comes from ``seed``; camera and lights from a second stream of the same seed
    (``randomize=False``: the view at the middle of every range, default lights).
    """
    view = view or ViewRandomization()
    config = SceneConfig(
        n_objects=0,
        gripper="suction",
        articulated=category,
        camera=CameraConfig.front_view(),
        suction_tool=SuctionTool.bellows(),
    )
    spec = generate_scene(seed, config)
    art = spec.articulated
    rng = np.random.default_rng([seed, 7]) if randomize else None
    radius = float(np.linalg.norm(art.half_extent))
    camera = view.camera(np.asarray(art.center), radius, rng, art.extra.get("view_side"))
    lighting = view.lighting(rng) if rng is not None else None
    return replace(spec, config=replace(config, camera=camera, lighting=lighting))
