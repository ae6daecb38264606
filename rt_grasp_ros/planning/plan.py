"""``plan_grasp``: crop the frame, ask the model, place its grasp in the base frame.

The one path from an RGB-D frame and an instruction to a TCP target, used by the demo, the
simulator's trials and the ROS planner node. A grasp that cannot be placed (the model gave no
pose, no depth at the point) is a result with a reason, not an exception.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rt_grasp_ros.grasp.target import GraspTarget, GripperKind, ImageGrasp
from rt_grasp_ros.perception.crop import (
    DEFAULT_CROP,
    ObjectCrop,
    WorkspaceCrop,
    crop_object,
    crop_workspace,
)
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import GraspGeometry, PlanningError, image_grasp_to_target
from rt_grasp_ros.transforms import Pose

if TYPE_CHECKING:
    from rt_grasp_ros.vlm.predictor import Prediction

OPENING_PX = 40.0  # pixels along the opening axis searched for the top surface


class Predictor(Protocol):
    """What planning needs of a model (``GraspPredictor`` is one)."""

    def predict(self, image: Any, instruction: str | None = None, **options: Any) -> Prediction:
        """Answer one image."""
        ...


@dataclass(frozen=True)
class CropSpec:
    """Where the crop is taken: the workspace square, then maybe the object inside it.

    The workspace is a ``size`` square around a pixel or base-frame point (with no centre, the
    image centre); with ``object``, the crop is the object-centred square inside it (the whole
    workspace when nothing stands on the table).
    """

    size: int = DEFAULT_CROP
    center_px: tuple[float, float] | None = None
    center_point: tuple[float, float, float] | None = None
    object: ObjectCrop | None = None

    def apply(self, frame: RGBDFrame) -> WorkspaceCrop:
        """Crop ``frame``."""
        crop = crop_workspace(frame, self.size, self.center_px, self.center_point)
        return crop if self.object is None else crop_object(crop, self.object)[0]


@dataclass(frozen=True)
class PlanOptions:
    """How a grasp is planned.

    Attributes:
        crop: the workspace crop shown to the model.
        gripper: which tool the grasp is for.
        geometry: how a planar grasp becomes a 3D one.
        opening_px: opening (pixels) searched for the top surface between the fingers.
        constrained: constrain the pose's syntax while decoding.
        samples: k > 1 samples k answers and takes their consensus.
        temperature: sampling temperature when ``samples > 1``.
    """

    crop: CropSpec = field(default_factory=CropSpec)
    gripper: GripperKind = GripperKind.PARALLEL
    geometry: GraspGeometry = field(default_factory=GraspGeometry)
    opening_px: float = OPENING_PX
    constrained: bool = True
    samples: int = 1
    temperature: float = 0.7


@dataclass(frozen=True)
class PlannedGrasp:
    """The model's grasp placed in the base frame, with everything it said.

    Attributes:
        ok: whether ``target`` holds a grasp the robot can try.
        reason: why not, when not ``ok``.
        crop: the crop the model was shown.
        prediction: the model's answer (reasoning, raw text, pose, timings).
        image: the grasp in full-image pixels (when the answer had a pose).
        depth: depth at the grasp centre (m, NaN when none).
        target: the TCP target in the base frame.
        timings: the model's timings plus ``total`` for the whole plan (s).
    """

    ok: bool
    reason: str
    crop: WorkspaceCrop
    prediction: Prediction | None = None
    image: ImageGrasp | None = None
    depth: float = math.nan
    target: GraspTarget | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pose_camera(self) -> Pose | None:
        """The TCP target in the camera's optical frame."""
        if self.target is None:
            return None
        return self.crop.frame.camera.base_from_camera.inverse() @ self.target.pose


def plan_grasp(
    predictor: Predictor,
    frame: RGBDFrame,
    instruction: str | None = None,
    options: PlanOptions | None = None,
    **predict_options: Any,
) -> PlannedGrasp:
    """Crop ``frame``, let the model reason and predict, and place the grasp in 3D."""
    options = options or PlanOptions()
    start = time.perf_counter()
    crop = options.crop.apply(frame)
    prediction = predictor.predict(
        crop.frame.rgb,
        instruction,
        constrained=options.constrained,
        samples=options.samples,
        temperature=options.temperature,
        **predict_options,
    )
    return plan_from_prediction(prediction, crop, options, start)


def plan_from_prediction(
    prediction: Prediction,
    crop: WorkspaceCrop,
    options: PlanOptions | None = None,
    start: float | None = None,
) -> PlannedGrasp:
    """Place an answer already given on ``crop`` (e.g. a refinement turn) in 3D."""
    options = options or PlanOptions()
    timings = dict(prediction.timings)

    def done(**fields: Any) -> PlannedGrasp:
        if start is not None:
            timings["total"] = time.perf_counter() - start
        return PlannedGrasp(crop=crop, prediction=prediction, timings=timings, **fields)

    if prediction.pose is None:
        return done(ok=False, reason=f"the model's answer has no valid pose: {prediction.error}")
    image = image_grasp_from_pose(prediction.pose, crop, options.opening_px)
    local = _in_crop(image, crop)
    try:
        target = image_grasp_to_target(crop.frame, local, options.gripper, options.geometry)
    except PlanningError as exc:
        return done(ok=False, reason=str(exc), image=image)
    depth = crop.frame.depth_at(local.u, local.v)
    return done(ok=True, reason="", image=image, depth=depth, target=target)


def image_grasp_from_pose(pose: Any, crop: WorkspaceCrop, opening_px: float) -> ImageGrasp:
    """A normalised GraspPose on ``crop`` as a grasp in full-image pixels."""
    w, h = crop.size
    u, v = crop.to_full(pose.x * w, pose.y * h)
    return ImageGrasp(u, v, pose.theta, opening_px)


def _in_crop(grasp: ImageGrasp, crop: WorkspaceCrop) -> ImageGrasp:
    x0, y0 = crop.origin
    return ImageGrasp(grasp.u - x0, grasp.v - y0, grasp.theta, grasp.opening_px)
