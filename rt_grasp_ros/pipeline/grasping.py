"""Grasps chosen by the model from the camera's workspace crop, for the simulated robot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.sim.camera import RGBDFrame
from rt_grasp_ros.sim.trials import ImageGrasp
from rt_grasp_ros.vlm.predictor import GraspPredictor, Prediction

OPENING_PX = 40.0  # pixels along the opening axis searched for the top surface


@dataclass
class ModelGraspChooser:
    """Asks the model for a grasp on the 400x400 workspace crop, as the paper's robot did.

    Each call keeps the crop it showed the model in ``crops`` and the model's prediction
    (reasoning, raw answer) in ``predictions``. An answer without a valid pose raises, so
    the trial counts it as a failure.
    """

    predictor: GraspPredictor
    constrained: bool = True
    instruction: str | None = None
    predictions: list[Prediction] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)

    def __call__(self, world: Any, frame: RGBDFrame, rng: np.random.Generator) -> ImageGrasp:
        """The model's grasp in full-image pixels."""
        crop, _, (x0, y0) = frame.crop()
        prediction = self.predictor.predict(crop, self.instruction, constrained=self.constrained)
        self.crops.append(crop)
        self.predictions.append(prediction)
        if prediction.pose is None:
            raise RtGraspError(f"the model's answer has no valid pose: {prediction.error}")
        size = crop.shape[1]
        pose = prediction.pose
        return ImageGrasp(x0 + pose.x * size, y0 + pose.y * crop.shape[0], pose.theta, OPENING_PX)
