"""Rendered scenes on disk.

``sim render`` writes pictures, raw depth, the camera and the ground truth of one scene;
``sim dataset`` writes Cornell-layout datasets of object-centred crops.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from rt_grasp_ros.data.cornell import write_cornell_sample
from rt_grasp_ros.data.images import write_rgb
from rt_grasp_ros.data.objects import ObjectInfo, write_object_map
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.rectangle import GraspRectangle
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim.grasps import ground_truth_grasps, suction_targets
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, SceneSpec, generate_scene, object_view
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.transforms import closing_yaw
from rt_grasp_ros.viz.overlay import draw_grasps

SETTLE_S = 0.3


def colorize_depth(depth: np.ndarray) -> np.ndarray:
    """A viewable RGB picture of a depth map (near = bright)."""
    valid = np.isfinite(depth) & (depth > 0)
    lo, hi = np.percentile(depth[valid], [1, 99]) if valid.any() else (0.0, 1.0)
    scaled = np.clip((hi - depth) / max(hi - lo, 1e-6), 0, 1)
    img = cv2.applyColorMap((scaled * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def settled_world(spec: SceneSpec) -> tuple[World, SimRobot]:
    """Build the world and let the objects come to rest (robot holding its pose)."""
    world = World(spec)
    robot = SimRobot(world)
    robot.run(SETTLE_S)
    return world, robot


def scene_record(world: World, frame: RGBDFrame) -> dict[str, Any]:
    """Camera, objects and ground truth of a rendered scene, JSON-ready."""
    cam = frame.camera
    crop = world.workspace_crop(frame)
    record: dict[str, Any] = {
        "seed": world.spec.seed,
        "camera": {
            "width": cam.width,
            "height": cam.height,
            "intrinsics": cam.k.tolist(),
            "world_from_camera": cam.base_from_camera.matrix.tolist(),
            "frame_id": cam.frame_id,
            "crop_origin": list(crop.origin),
            "crop_size": crop.size[0],
        },
        "objects": [],
        "grasps": [],
        "suction": [],
    }
    for obj in world.spec.objects:
        pos, rot = world.object_pose(obj.name)
        record["objects"].append(
            {
                "name": obj.name,
                "category": obj.spec.category,
                "position": pos.tolist(),
                "rotation": rot.tolist(),
            }
        )
    for g in ground_truth_grasps(world, frame):
        record["grasps"].append(
            {
                "object": g.object_name,
                "category": g.category,
                "position": g.target.pose.position.tolist(),
                "quat_xyzw": g.target.pose.quat_xyzw.tolist(),
                "yaw": closing_yaw(g.target.pose.rotation),
                "width": g.target.width,
                "rectangle": g.rectangle.corners.tolist(),
            }
        )
    for s in suction_targets(world, frame):
        record["suction"].append(
            {"object": s.object_name, "position": s.position.tolist(), "pixel": list(s.pixel)}
        )
    if world.spec.articulated is not None:
        a = world.spec.articulated
        record["articulated"] = {
            "kind": a.kind,
            "joint_type": a.joint_type,
            "axis": list(a.axis),
            "anchor": list(a.anchor),
            "joint_position": world.part_position(),
            "handle": list(a.handle_center) if a.handle_center is not None else None,
        }
    return record


def render_scene(spec: SceneSpec, out: Path) -> dict[str, Any]:
    """Save RGB, depth (PNG in mm, raw float metres, a picture), the crop and an overlay."""
    out.mkdir(parents=True, exist_ok=True)
    world, _ = settled_world(spec)
    with world:
        frame = world.render(segmentation=spec.articulated is not None)
        record = scene_record(world, frame)
        write_rgb(out / "rgb.png", frame.rgb)
        np.save(out / "depth.npy", frame.depth)
        depth_mm = np.clip(np.nan_to_num(frame.depth) * 1000, 0, 65535).astype(np.uint16)
        cv2.imwrite(str(out / "depth_mm.png"), depth_mm)
        write_rgb(out / "depth.png", colorize_depth(frame.depth))
        write_rgb(out / "crop.png", world.workspace_crop(frame).frame.rgb)
        write_rgb(out / "overlay.png", overlay(world, frame, record))
    (out / "scene.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def overlay(world: World, frame: RGBDFrame, record: dict[str, Any]) -> np.ndarray:
    """Ground-truth grasps (green), suction points (blue) and an articulated part's affordance."""
    image = frame.rgb.copy()
    if world.spec.articulated is not None:
        from rt_grasp_ros.sim.affordance import affordance_map

        amap = affordance_map(world, frame)
        heat = cv2.applyColorMap((amap.magnitude * 255).astype(np.uint8), cv2.COLORMAP_JET)
        heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
        image[amap.movable] = (0.45 * image[amap.movable] + 0.55 * heat[amap.movable]).astype(
            np.uint8
        )
    corners = np.array([g["rectangle"] for g in record["grasps"]]).reshape(-1, 4, 2)
    image = draw_grasps(image, corners if len(corners) else None)
    for s in record["suction"]:
        cv2.circle(image, tuple(round(c) for c in s["pixel"]), 5, (40, 90, 255), 2, cv2.LINE_AA)
    return image


def object_views(
    n_objects: int, views: int, seed: int = 0, config: SceneConfig | None = None
) -> list[tuple[SceneSpec, str]]:
    """One-object scenes: ``n_objects`` object instances, each placed ``views`` times.

    Returns ``(scene, object id)`` pairs; every view of an instance has the same size and
    colour, so object-wise folds can keep them together.
    """
    config = config or SceneConfig()
    return [
        (object_view(seed + k, view, config), f"sim{seed + k}")
        for k in range(n_objects)
        if generate_scene(seed + k, config).objects
        for view in range(views)
    ]


def export_cornell(
    out: Path,
    n_objects: int,
    views: int = 1,
    seed: int = 0,
    config: SceneConfig | None = None,
    progress: bool = True,
    workers: int = 1,
) -> list[str]:
    """Render :func:`object_views` scenes as a Cornell-layout dataset.

    Images are the object-centred crops (:meth:`World.object_crop`); rectangles are in crop
    pixels; depth is a float TIFF (metres); ``objects.csv`` gives each image's object instance
    and category. With ``workers`` > 1 the scenes render in that many processes; the files are
    the same.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    jobs = [
        (index, spec, object_id)
        for index, (spec, object_id) in enumerate(
            object_views(n_objects, views, seed, config), start=100
        )
    ]
    render = partial(_export_crop, out=out)
    mapping: dict[str, ObjectInfo] = {}
    with (
        process_pool(workers) as pool,
        tqdm(total=len(jobs), desc="scenes", disable=not progress) as bar,
    ):
        results = pool.imap(render, jobs, chunksize=4) if pool is not None else map(render, jobs)
        for result in results:
            bar.update()
            if result is not None:
                mapping[result[0]] = result[1]
    write_object_map(out / "objects.csv", mapping)
    return sorted(mapping)


def _export_crop(job: tuple[int, SceneSpec, str], out: Path) -> tuple[str, ObjectInfo] | None:
    """Render one scene's crop with its rectangles; None when no grasp falls inside it."""
    index, spec, object_id = job
    world, _ = settled_world(spec)
    with world:
        frame = world.render()
        crop = world.object_crop(frame)
        x0, y0 = crop.origin
        rgb, depth = crop.frame.rgb, np.nan_to_num(crop.frame.depth)
        rects = [
            GraspRectangle(g.rectangle.corners - [x0, y0])
            for g in ground_truth_grasps(world, frame)
        ]
    size = crop.size[0]
    rects = [r for r in rects if 0 <= r.center[0] < size and 0 <= r.center[1] < size]
    if not rects:
        return None
    stem = f"pcd{index:04d}"
    write_cornell_sample(out, stem, rgb, rects, (), depth)
    return stem, ObjectInfo(object_id, spec.objects[0].spec.category)
