"""The simulated RGB-D camera: where it is mounted, and headless rendering into perception frames.

The camera model itself (projection, crops, CameraInfo) is :mod:`rt_grasp_ros.perception`; this
module places a distortion-free one in the scene and renders frames from it.
"""

from __future__ import annotations

import atexit
import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.crop import crop_origin
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.transforms import Pose

OPTICAL_FRAME = "camera_color_optical_frame"


@dataclass(frozen=True)
class CameraConfig:
    """Resolution, focal length and placement of the scene camera.

    The defaults are close to an Intel RealSense D435 colour stream at 640x480 (f = 615 px),
    mounted 0.75 m above the workspace centre and looking straight down, with the far side of
    the table (+x, away from the robot) at the top of the image.
    """

    width: int = 640
    height: int = 480
    focal_px: float = 615.0
    position: tuple[float, float, float] = (0.5, 0.0, 0.75)
    target: tuple[float, float, float] = (0.5, 0.0, 0.0)
    up: tuple[float, float, float] = (1.0, 0.0, 0.0)
    crop: int = 400

    @classmethod
    def front_view(cls) -> CameraConfig:
        """A camera low on the robot's right, facing the fronts of articulated objects."""
        return cls(position=(0.12, -0.32, 0.34), target=(0.52, 0.0, 0.09), up=(0.0, 0.0, 1.0))

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16:
            raise ConfigError(f"camera resolution {self.width}x{self.height} is too small")
        if self.focal_px <= 0:
            raise ConfigError(f"camera focal_px must be positive, got {self.focal_px}")
        if not 16 <= self.crop <= min(self.width, self.height):
            raise ConfigError(f"camera crop {self.crop} must fit in {self.width}x{self.height}")

    @property
    def fovy_deg(self) -> float:
        """Vertical field of view (degrees)."""
        return math.degrees(2 * math.atan(self.height / 2 / self.focal_px))

    def axes(self) -> np.ndarray:
        """Rows: MuJoCo camera x (image right), y (image up) and z (backwards) in the world."""
        z = np.subtract(self.position, self.target).astype(float)
        z /= np.linalg.norm(z)
        up = np.asarray(self.up, float)
        y = up - up.dot(z) * z
        if np.linalg.norm(y) < 1e-6:
            raise ConfigError("camera 'up' must not be parallel to the viewing direction")
        y /= np.linalg.norm(y)
        return np.stack([np.cross(y, z), y, z])

    def camera(self) -> PinholeCamera:
        """The calibrated pinhole model of this camera, placed in the base frame."""
        x, y, z = self.axes()
        # MuJoCo cameras look along -z with y up; the optical frame looks along +z with y down.
        base_from_camera = Pose.from_rotation_matrix(self.position, np.stack([x, -y, -z], axis=1))
        return PinholeCamera.ideal(
            self.width, self.height, self.focal_px, base_from_camera, OPTICAL_FRAME
        )

    def crop_origin(self) -> tuple[int, int]:
        """Top-left pixel of the workspace crop, centred on the projected camera target."""
        return crop_origin(self.camera(), self.crop, center_point=self.target)

    def mjcf(self, name: str = "rgbd") -> dict[str, Any]:
        """Attributes of the MJCF ``<camera>`` element."""
        x, y, _ = self.axes()
        return {"name": name, "pos": self.position, "xyaxes": (*x, *y), "fovy": self.fovy_deg}


_OPEN_RENDERERS: weakref.WeakSet[SceneRenderer] = weakref.WeakSet()


@atexit.register
def _close_open_renderers() -> None:
    # GL contexts freed by garbage collection during interpreter shutdown can fail noisily.
    for renderer in list(_OPEN_RENDERERS):
        renderer.close()


class SceneRenderer:
    """Headless renderer of one MuJoCo model's scene camera (no shadows)."""

    def __init__(
        self,
        model: Any,
        config: CameraConfig,
        camera_name: str = "rgbd",
        shared_gl: bool = False,
    ) -> None:
        from rt_grasp_ros.sim.gl import make_renderer, mujoco_module

        mujoco = mujoco_module()
        self._mujoco = mujoco
        self._renderer = make_renderer(model, config.height, config.width, shared_gl)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        self._camera = camera_name
        self.camera = config.camera()
        # Beyond the far clip plane nothing was hit: no reading, NaN as REP-118 says.
        self._far = 0.99 * model.vis.map.zfar * model.stat.extent
        _OPEN_RENDERERS.add(self)

    def render(self, data: Any, segmentation: bool = False) -> RGBDFrame:
        """Render RGB and metric depth (and geom ids if asked) from the scene camera.

        The frame's stamp is the simulated time.
        """
        r = self._renderer
        r.update_scene(data, camera=self._camera)
        rgb = r.render().copy()
        r.enable_depth_rendering()
        r.update_scene(data, camera=self._camera)
        depth = r.render().astype(np.float32)
        depth[depth >= self._far] = np.nan
        r.disable_depth_rendering()
        seg = None
        if segmentation:
            r.enable_segmentation_rendering()
            r.update_scene(data, camera=self._camera)
            ids = r.render()
            r.disable_segmentation_rendering()
            seg = np.where(
                ids[..., 1] == int(self._mujoco.mjtObj.mjOBJ_GEOM), ids[..., 0], -1
            ).astype(np.int32)
        return RGBDFrame(rgb, depth, self.camera, float(data.time), seg)

    def close(self) -> None:
        """Release the GL context (idempotent)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        _OPEN_RENDERERS.discard(self)

    def __enter__(self) -> SceneRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
