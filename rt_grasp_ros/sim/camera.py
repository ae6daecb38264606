"""A fixed RGB-D camera: intrinsics, extrinsics, projection and headless rendering.

Image coordinates are continuous: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``, so
its centre is ``(j + 0.5, i + 0.5)``. The camera frame follows OpenCV (x right, y down, z
forward); depth is the z coordinate in that frame (metres), as depth cameras report it.
"""

from __future__ import annotations

import atexit
import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from rt_grasp_ros.errors import ConfigError, RtGraspError


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

    def mjcf(self, name: str = "rgbd") -> dict[str, Any]:
        """Attributes of the MJCF ``<camera>`` element."""
        x, y, _ = self.axes()
        return {"name": name, "pos": self.position, "xyaxes": (*x, *y), "fovy": self.fovy_deg}


@dataclass(frozen=True)
class CameraModel:
    """Pinhole model of the scene camera, for projection and back-projection."""

    config: CameraConfig

    @property
    def intrinsics(self) -> np.ndarray:
        """3x3 matrix K (continuous pixel coordinates, principal point at the image centre)."""
        c = self.config
        return np.array([[c.focal_px, 0, c.width / 2], [0, c.focal_px, c.height / 2], [0, 0, 1.0]])

    @property
    def world_from_camera(self) -> np.ndarray:
        """4x4 pose of the OpenCV camera frame in the world (robot base) frame."""
        x, y, z = self.config.axes()
        t = np.eye(4)
        t[:3, :3] = np.stack([x, -y, -z], axis=1)
        t[:3, 3] = self.config.position
        return t

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points ``(N, 3)`` -> pixel coordinates ``(N, 2)`` and depths ``(N,)``."""
        t = self.world_from_camera
        p = (np.asarray(points, float).reshape(-1, 3) - t[:3, 3]) @ t[:3, :3]
        depth = p[:, 2]
        uv = (p[:, :2] / depth[:, None]) * self.config.focal_px + [
            self.config.width / 2,
            self.config.height / 2,
        ]
        return uv, depth

    def deproject(self, uv: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixel coordinates ``(N, 2)`` with depths ``(N,)`` -> world points ``(N, 3)``."""
        uv = np.asarray(uv, float).reshape(-1, 2)
        depth = np.asarray(depth, float).reshape(-1)
        c = self.config
        xy = (uv - [c.width / 2, c.height / 2]) / c.focal_px * depth[:, None]
        p_cam = np.column_stack([xy, depth])
        t = self.world_from_camera
        return p_cam @ t[:3, :3].T + t[:3, 3]

    def crop_origin(self) -> tuple[int, int]:
        """Top-left pixel of the square workspace crop, centred on the camera target."""
        uv, _ = self.project(np.asarray(self.config.target)[None])
        u, v = uv[0]
        half = self.config.crop // 2
        x0 = int(np.clip(round(u) - half, 0, self.config.width - self.config.crop))
        y0 = int(np.clip(round(v) - half, 0, self.config.height - self.config.crop))
        return x0, y0


@dataclass(frozen=True)
class RGBDFrame:
    """One rendered frame.

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        depth: ``(H, W)`` float32 metres along the optical axis.
        segmentation: ``(H, W)`` int32 geom id per pixel (-1 for background), if rendered.
        camera: the model that produced it.
    """

    rgb: np.ndarray
    depth: np.ndarray
    camera: CameraModel
    segmentation: np.ndarray | None = None

    def depth_at(self, u: float, v: float) -> float:
        """Depth of the pixel containing continuous coordinates ``(u, v)``."""
        h, w = self.depth.shape
        if not (0 <= u < w and 0 <= v < h):
            raise RtGraspError(f"pixel ({u:.1f}, {v:.1f}) is outside the {w}x{h} image")
        d = float(self.depth[int(v), int(u)])
        if not np.isfinite(d) or d <= 0:
            raise RtGraspError(f"no depth at pixel ({u:.1f}, {v:.1f})")
        return d

    def crop(self) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """The square workspace crop of RGB and depth, and its top-left pixel."""
        x0, y0 = self.camera.crop_origin()
        s = self.camera.config.crop
        return self.rgb[y0 : y0 + s, x0 : x0 + s], self.depth[y0 : y0 + s, x0 : x0 + s], (x0, y0)


_OPEN_RENDERERS: weakref.WeakSet[SceneRenderer] = weakref.WeakSet()


@atexit.register
def _close_open_renderers() -> None:
    # GL contexts freed by garbage collection during interpreter shutdown can fail noisily.
    for renderer in list(_OPEN_RENDERERS):
        renderer.close()


class SceneRenderer:
    """Headless renderer of one MuJoCo model's scene camera (no shadows)."""

    def __init__(self, model: Any, config: CameraConfig, camera_name: str = "rgbd") -> None:
        from rt_grasp_ros.sim.gl import make_renderer, mujoco_module

        mujoco = mujoco_module()
        self._mujoco = mujoco
        self._renderer = make_renderer(model, config.height, config.width)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        self._camera = camera_name
        self.model = CameraModel(config)
        # Beyond the far clip plane nothing was hit: report 0 ("no depth") like a real sensor.
        self._far = 0.99 * model.vis.map.zfar * model.stat.extent
        _OPEN_RENDERERS.add(self)

    def render(self, data: Any, segmentation: bool = False) -> RGBDFrame:
        """Render RGB and metric depth (and geom ids if asked) from the scene camera."""
        r = self._renderer
        r.update_scene(data, camera=self._camera)
        rgb = r.render().copy()
        r.enable_depth_rendering()
        r.update_scene(data, camera=self._camera)
        depth = r.render().astype(np.float32)
        depth[depth >= self._far] = 0.0
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
        return RGBDFrame(rgb, depth, self.model, seg)

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
