"""Ground-truth grasps of scene objects, and grasps between image and robot coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.grasp.rectangle import GraspRectangle
from rt_grasp_ros.sim.camera import RGBDFrame
from rt_grasp_ros.sim.mjcf import TABLE_TOP

MIN_TCP_HEIGHT = 0.012  # the finger pads must stay above the table
GRASP_DEPTH = 0.02  # how far below the top surface the fingers close, at most
CLEARANCE = 0.01  # finger clearance on each side in a ground-truth rectangle
JAW_SIZE = 0.017  # finger pad width (m)


@dataclass(frozen=True)
class WorldGrasp:
    """A top-down grasp in the base frame: where the fingers close, and the opening axis yaw."""

    position: np.ndarray
    yaw: float
    width: float | None = None


@dataclass(frozen=True)
class SceneGrasp:
    """A ground-truth grasp of one object: in 3D and as a Cornell-style image rectangle."""

    object_name: str
    category: str
    world: WorldGrasp
    rectangle: GraspRectangle


@dataclass(frozen=True)
class SuctionTarget:
    """A suction point in 3D and in the image."""

    object_name: str
    category: str
    position: np.ndarray
    pixel: tuple[float, float]


def _object_grasps_world(world: object, name: str) -> list[WorldGrasp]:
    pos, rot = world.object_pose(name)
    spec = next(o.spec for o in world.spec.objects if o.name == name)
    out = []
    for g in spec.grasps:
        axis = rot @ np.array([math.cos(g.yaw), math.sin(g.yaw), 0.0])
        out.append(
            WorldGrasp(rot @ np.asarray(g.center) + pos, math.atan2(axis[1], axis[0]), g.width)
        )
    return out


def ground_truth_grasps(world: object, frame: RGBDFrame) -> list[SceneGrasp]:
    """Every object's grasps at its current pose, with rectangles in ``frame``'s image.

    The rectangle's opening is the grasp width plus finger clearance on each side and its jaw
    size the finger pad width, both projected at the grasp's depth. Grasps whose centre falls
    outside the image are left out.
    """
    cam = frame.camera
    h, w = frame.depth.shape
    out = []
    for obj in world.spec.objects:
        for g in _object_grasps_world(world, obj.name):
            axis = np.array([math.cos(g.yaw), math.sin(g.yaw), 0.0])
            half = (g.width or 0.0) / 2 + CLEARANCE
            pts = np.stack([g.position, g.position - half * axis, g.position + half * axis])
            (c, a, b), depth = cam.project(pts)
            if not (0 <= c[0] < w and 0 <= c[1] < h):
                continue
            opening = float(np.linalg.norm(b - a))
            angle = math.atan2(-(b - a)[1], (b - a)[0])
            jaw = JAW_SIZE * cam.config.focal_px / depth[0]
            rect = GraspRectangle.from_center(c[0], c[1], angle, opening, jaw)
            out.append(SceneGrasp(obj.name, obj.spec.category, g, rect))
    return out


def suction_targets(world: object, frame: RGBDFrame) -> list[SuctionTarget]:
    """Every object's suction points at its current pose, with their pixels."""
    out = []
    h, w = frame.depth.shape
    for obj in world.spec.objects:
        pos, rot = world.object_pose(obj.name)
        for sp in obj.spec.suction:
            p = rot @ np.asarray(sp.position) + pos
            (uv,), _ = frame.camera.project(p[None])
            if 0 <= uv[0] < w and 0 <= uv[1] < h:
                out.append(
                    SuctionTarget(obj.name, obj.spec.category, p, (float(uv[0]), float(uv[1])))
                )
    return out


def image_grasp_to_world(
    frame: RGBDFrame, u: float, v: float, angle: float, opening_px: float = 40.0
) -> WorldGrasp:
    """A planar image grasp (pixel centre, angle counter-clockwise on screen) as a top-down grasp.

    The fingers close ``GRASP_DEPTH`` below the highest surface between them (the smallest depth
    along the opening axis), but no lower than half that surface's height above the table.

    Raises:
        RtGraspError: the centre is outside the image or there is no depth there.
    """
    frame.depth_at(u, v)  # validates the pixel and that it has depth
    h, w = frame.depth.shape
    direction = np.array([math.cos(angle), -math.sin(angle)])
    ts = np.linspace(-opening_px / 2, opening_px / 2, 25)
    samples = np.array([u, v]) + ts[:, None] * direction
    inside = (
        (samples[:, 0] >= 0) & (samples[:, 0] < w) & (samples[:, 1] >= 0) & (samples[:, 1] < h)
    )
    depths = frame.depth[samples[inside, 1].astype(int), samples[inside, 0].astype(int)]
    depths = depths[np.isfinite(depths) & (depths > 0)]
    top = frame.camera.deproject([[u, v]], [float(depths.min())])[0]
    height = max(float(top[2]) - TABLE_TOP, 0.0)
    z = max(TABLE_TOP + MIN_TCP_HEIGHT, float(top[2]) - min(GRASP_DEPTH, height / 2))
    d_ref = frame.depth_at(u, v)
    p0, p1 = frame.camera.deproject(
        [[u, v], [u + 20 * direction[0], v + 20 * direction[1]]], [d_ref, d_ref]
    )
    yaw = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
    return WorldGrasp(np.array([top[0], top[1], z]), yaw)


def image_point_to_world(frame: RGBDFrame, u: float, v: float) -> np.ndarray:
    """The surface point seen at pixel ``(u, v)`` (for suction)."""
    return frame.camera.deproject([[u, v]], [frame.depth_at(u, v)])[0]
