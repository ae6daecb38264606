"""Ground-truth grasps of scene objects: TCP targets in the base frame and image rectangles."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.grasp.rectangle import GraspRectangle
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import SUCTION_YAW
from rt_grasp_ros.transforms import Pose, closing_yaw, top_down_rotation

CLEARANCE = 0.01  # finger clearance on each side in a ground-truth rectangle
JAW_SIZE = 0.017  # finger pad width (m)


@dataclass(frozen=True)
class SceneGrasp:
    """A ground-truth grasp of one object: the TCP target and a Cornell-style image rectangle."""

    object_name: str
    category: str
    target: GraspTarget
    rectangle: GraspRectangle


@dataclass(frozen=True)
class SuctionTarget:
    """A suction point: the TCP target on the surface and its pixel."""

    object_name: str
    category: str
    target: GraspTarget
    pixel: tuple[float, float]

    @property
    def position(self) -> np.ndarray:
        """The surface point (m, base frame)."""
        return self.target.pose.position


def object_grasp_targets(world: object, name: str) -> list[GraspTarget]:
    """Object ``name``'s parallel grasps at its current pose, top-down."""
    pos, rot = world.object_pose(name)
    spec = next(o.spec for o in world.spec.objects if o.name == name)
    body = Rotation.from_matrix(rot)
    out = []
    for g in spec.grasps:
        closing = body.apply([math.cos(g.yaw), math.sin(g.yaw), 0.0])
        yaw = math.atan2(closing[1], closing[0])
        pose = Pose(body.apply(g.center) + pos, top_down_rotation(yaw))
        out.append(GraspTarget(pose, g.width, GripperKind.PARALLEL))
    return out


def ground_truth_grasps(world: object, frame: RGBDFrame) -> list[SceneGrasp]:
    """Every object's grasps at its current pose, with rectangles in ``frame``'s image.

    The rectangle's opening is the grasp width plus finger clearance on each side and its jaw
    size the finger pad width, both projected at the grasp's depth. Grasps whose centre falls
    outside the image are left out.
    """
    cam = frame.camera
    out = []
    for obj in world.spec.objects:
        for g in object_grasp_targets(world, obj.name):
            yaw = closing_yaw(g.pose.rotation)
            axis = np.array([math.cos(yaw), math.sin(yaw), 0.0])
            half = (g.width or 0.0) / 2 + CLEARANCE
            p = g.pose.position
            (c, a, b), depth = cam.project(np.stack([p, p - half * axis, p + half * axis]))
            if not (0 <= c[0] < cam.width and 0 <= c[1] < cam.height):
                continue
            opening = float(np.linalg.norm(b - a))
            theta = math.atan2(-(b - a)[1], (b - a)[0])
            jaw = JAW_SIZE * cam.k[0, 0] / depth[0]
            rect = GraspRectangle.from_center(c[0], c[1], theta, opening, jaw)
            out.append(SceneGrasp(obj.name, obj.spec.category, g, rect))
    return out


def suction_targets(world: object, frame: RGBDFrame) -> list[SuctionTarget]:
    """Every object's suction points at its current pose, with their pixels."""
    cam = frame.camera
    out = []
    for obj in world.spec.objects:
        pos, rot = world.object_pose(obj.name)
        for sp in obj.spec.suction:
            p = rot @ np.asarray(sp.position) + pos
            (uv,), _ = cam.project(p[None])
            if 0 <= uv[0] < cam.width and 0 <= uv[1] < cam.height:
                target = GraspTarget(
                    Pose(p, top_down_rotation(SUCTION_YAW)), 0.0, GripperKind.SUCTION
                )
                out.append(
                    SuctionTarget(
                        obj.name, obj.spec.category, target, (float(uv[0]), float(uv[1]))
                    )
                )
    return out
