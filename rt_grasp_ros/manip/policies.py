"""Contact policies: the model seam ``(frame, instruction) -> ContactPose`` and the baselines.

A policy sees only the RGB-D frame and the instruction, as the model will. The baselines that
need no model are made per scene from the simulator's ground truth:

- ``oracle``: the category's ground-truth contact (a flat point on the moving part where
  pulling along the normal opens it), the cup square to the surface;
- ``affordance``: the pixel where the affordance map (ManipLLM Eq. 1) is highest, with the
  surface normal there (ties, e.g. a prismatic part's uniform map, go to the pixel farthest
  from the part's outline), an upper reference for a model that learns the map;
- ``random``: a random pixel on the object (moving part or not) with its surface normal.

Any other name is a model checkpoint (:func:`model_policy`): ManipLLM's chain of thought on
the frame's image, with or without the chain ("w/o CoT"); ``default`` is the shipped contact
model ``manip-default`` (:mod:`rt_grasp_ros.vlm.default`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim.affordance import affordance_map
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.vlm.default import MANIP_DEFAULT_MODEL, resolve_model

if TYPE_CHECKING:
    from rt_grasp_ros.manip.prediction import ContactPrediction
    from rt_grasp_ros.manip.predictor import ContactPredictor

Policy = Callable[[RGBDFrame, str], ContactPose]
PolicyFactory = Callable[[World, np.random.Generator], Policy]
BASELINES = ("oracle", "affordance", "random")
DEFAULT_POLICY = "default"  # the shipped contact model


def default_forward(up: np.ndarray) -> np.ndarray:
    """A forward direction perpendicular to ``up``: base -z, or +x when ``up`` is vertical."""
    ref = np.array([0.0, 0.0, -1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    f = ref - (ref @ up) * up
    return f / np.linalg.norm(f)


def surface_at(world: World, frame: RGBDFrame, x: float, y: float) -> tuple[np.ndarray, int]:
    """The outward surface normal (base frame) and geom seen at pixel ``(x, y)``.

    Cast along the pixel's ray, so the normal is the geometry's, not estimated from depth.

    Raises:
        RtGraspError: the ray hits nothing.
    """
    cam = frame.camera
    origin = cam.base_from_camera.position
    target = cam.back_project([[x, y]], [1.0])[0]
    ray = (target - origin) / np.linalg.norm(target - origin)
    geom = np.array([-1], np.int32)
    normal = np.zeros(3)
    dist = world.mj.mj_ray(world.model, world.data, origin, ray, None, 1, -1, geom, normal)
    if dist < 0 or geom[0] < 0:
        raise RtGraspError(f"nothing is seen at pixel ({x:.0f}, {y:.0f})")
    if normal @ ray > 0:
        normal = -normal
    return normal, int(geom[0])


def _contact_at(world: World, frame: RGBDFrame, x: float, y: float) -> ContactPose:
    normal, _ = surface_at(world, frame, x, y)
    up = -normal
    return ContactPose.from_base((x, y), up, default_forward(up), frame.camera)


def ground_truth_contact(world: World) -> tuple[np.ndarray, np.ndarray]:
    """The category's contact point and outward normal where the part is now (base frame)."""
    spec = world.spec.articulated
    q = world.part_position()
    point = np.asarray(spec.suction_point, float)
    normal = np.asarray(spec.suction_normal, float)
    if spec.joint_type == "slide":
        return point + q * np.asarray(spec.axis, float), normal
    turn = Rotation.from_rotvec(q * np.asarray(spec.axis, float) / np.linalg.norm(spec.axis))
    return turn.apply(point - spec.anchor) + spec.anchor, turn.apply(normal)


def oracle_policy(world: World, rng: np.random.Generator) -> Policy:
    """The ground-truth contact of the scene's part, at the nearest pixel that sees it.

    The pixel must see the same face (geom and normal) as the ground-truth point, which the
    camera may not see itself (a handle in front of it): a pixel seeing something else would
    put the contact there once back-projected with its depth.
    """

    def policy(frame: RGBDFrame, instruction: str) -> ContactPose:
        point, normal = ground_truth_contact(world)
        pixel = _visible_pixel(world, frame, point, normal)
        return ContactPose.from_base(pixel, -normal, default_forward(-normal), frame.camera)

    return policy


def _visible_pixel(
    world: World, frame: RGBDFrame, point: np.ndarray, normal: np.ndarray
) -> tuple[float, float]:
    (uv,), _ = frame.camera.project(point[None])
    origin = point + 0.02 * normal
    geom = np.array([-1], np.int32)
    world.mj.mj_ray(world.model, world.data, origin, -normal, None, 1, -1, geom, None)
    if frame.segmentation is None or geom[0] < 0:
        return float(uv[0]), float(uv[1])
    rows, cols = np.nonzero(frame.segmentation == geom[0])
    if not len(rows):
        return float(uv[0]), float(uv[1])
    seen = frame.camera.back_project(
        np.column_stack([cols + 0.5, rows + 0.5]), frame.depth[rows, cols]
    )
    for k in np.argsort(np.linalg.norm(seen - point, axis=1))[:40]:
        x, y = cols[k] + 0.5, rows[k] + 0.5
        n, g = surface_at(world, frame, x, y)
        if g == geom[0] and n @ normal > 0.98:
            return float(x), float(y)
    return float(uv[0]), float(uv[1])


def object_masks(world: World, frame: RGBDFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the articulated object (static body and part) and of its moving part."""
    if frame.segmentation is None:
        raise RtGraspError("render the frame with segmentation=True")
    seg = frame.segmentation
    bodies = np.where(seg >= 0, world.model.geom_bodyid[np.maximum(seg, 0)], -1)
    shell = world.mj.mj_name2id(
        world.model, world.mj.mjtObj.mjOBJ_BODY, world.spec.articulated.static_body
    )
    movable = bodies == world.part_body
    return movable | (bodies == shell), movable


def random_policy(world: World, rng: np.random.Generator) -> Policy:
    """A uniformly random pixel of the object, with the surface normal there."""

    def policy(frame: RGBDFrame, instruction: str) -> ContactPose:
        obj, _ = object_masks(world, frame)
        rows, cols = np.nonzero(obj)
        if not len(rows):
            raise RtGraspError("the object is not in view")
        k = int(rng.integers(len(rows)))
        return _contact_at(world, frame, cols[k] + 0.5, rows[k] + 0.5)

    return policy


def affordance_policy(world: World, rng: np.random.Generator) -> Policy:
    """The affordance map's best pixel (near-ties: the one deepest inside the part)."""

    def policy(frame: RGBDFrame, instruction: str) -> ContactPose:
        amap = affordance_map(world, frame)
        if not amap.movable.any():
            raise RtGraspError("the moving part is not in view")
        inside = cv2.distanceTransform(amap.movable.astype(np.uint8), cv2.DIST_L2, 5)
        best = amap.magnitude >= amap.magnitude[amap.movable].max() - 0.02
        score = np.where(amap.movable & best, inside, -1.0)
        row, col = np.unravel_index(int(np.argmax(score)), score.shape)
        return _contact_at(world, frame, col + 0.5, row + 0.5)

    return policy


def model_policy(checkpoint: Path, cot: bool = True) -> PolicyFactory:
    """A ManipLLM model's policy: the chain of thought, then the contact pose it answers.

    The model sees the frame's RGB image only (the world is not used). It is loaded once per
    process, however many scenes it is asked about.

    Args:
        checkpoint: a trained checkpoint or a base model (``ContactPredictor.from_pretrained``).
        cot: ask the three turns (False: the pose prompt alone, "w/o CoT").

    Raises:
        RtGraspError: the model cannot be loaded.
    """
    try:
        predictor = _contact_predictor(str(checkpoint), cot)
    except RtGraspError as exc:
        raise RtGraspError(
            f"cannot load the ManipLLM model {checkpoint} ({exc}); a policy is a checkpoint "
            "or one of the baselines: " + ", ".join(BASELINES)
        ) from exc

    def factory(world: World, rng: np.random.Generator) -> Policy:
        return ModelPolicy(predictor)

    return factory


class ModelPolicy:
    """A model's policy for one scene; ``last`` keeps its last answer (category, turns)."""

    def __init__(self, predictor: ContactPredictor) -> None:
        self.predictor = predictor
        self.last: ContactPrediction | None = None

    def __call__(self, frame: RGBDFrame, instruction: str) -> ContactPose:
        """The contact pose the model answers about ``frame``'s image.

        Raises:
            RtGraspError: the model gave no contact pose.
        """
        self.last = answer = self.predictor.predict(frame.rgb, instruction or None)
        if answer.contact is None:
            raise RtGraspError(f"the model gave no contact pose ({answer.error})")
        return answer.contact


@lru_cache(maxsize=2)
def _contact_predictor(checkpoint: str, cot: bool) -> ContactPredictor:
    from rt_grasp_ros.manip.predictor import ContactPredictor

    return ContactPredictor.from_pretrained(checkpoint, cot=cot)


FACTORIES: dict[str, PolicyFactory] = {
    "oracle": oracle_policy,
    "affordance": affordance_policy,
    "random": random_policy,
}


def make_policy(name: str, cot: bool = True) -> PolicyFactory:
    """A baseline by name, ``default`` (the shipped ``manip-default``), or a checkpoint.

    ``cot``: for a model, ask the chain of thought (False: the pose prompt alone).

    Raises:
        RtGraspError: the model cannot be loaded (``default``: it is not in the package,
            with the command that rebuilds it).
    """
    if name in FACTORIES:
        return FACTORIES[name]
    if name == DEFAULT_POLICY:
        name = resolve_model(MANIP_DEFAULT_MODEL)
    return model_policy(Path(name), cot)
