"""Demo trials by object instance and view: in-process, or through the ROS stack.

Both runners answer the same question for a scene ``(instance seed, view)``: what did the
model (or the ground truth) choose, and did the robot lift the object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.grasp.target import ImageGrasp
from rt_grasp_ros.planning.plan import CropSpec, PlannedGrasp, PlanOptions, plan_grasp
from rt_grasp_ros.sim.scene import SceneConfig, SceneSpec, generate_scene, object_view
from rt_grasp_ros.sim.trials import TrialConfig, TrialResult, run_scene_trial, run_trial
from rt_grasp_ros.sim.world import OBJECT_CROP


@dataclass
class DemoTrial:
    """One trial: the category, what the model saw and said, and whether the object rose.

    Attributes:
        crop: the workspace crop the model was shown (None for oracle trials).
        pose: the model's grasp on the crop (normalised), if it gave one.
        answer: the model's raw answer ("" for oracle trials).
        success: the object was lifted and held.
        failure: why not.
    """

    category: str
    success: bool
    failure: str = ""
    answer: str = ""
    crop: np.ndarray | None = None
    pose: GraspPose | None = None


def demo_scene(seed: int, view: int) -> SceneSpec:
    """Object instance ``seed`` placed for ``view``, or with ``view < 0`` the scene of ``seed``.

    The same scenes as the sim node's ``sim/reset`` with ``seed`` and ``view``.
    """
    if view < 0:
        return generate_scene(seed, SceneConfig(n_objects=1))
    return object_view(seed, view)


class TrialRunner(Protocol):
    """Runs demo trials on scenes ``(instance seed, view)``."""

    def oracle(self, seed: int, view: int) -> DemoTrial:
        """A ground-truth grasp."""
        ...

    def model(self, seed: int, view: int) -> DemoTrial:
        """The model's grasp."""
        ...


class InProcessTrials:
    """Trials with the simulator in this process (no ROS)."""

    def __init__(self, predictor: Any | None = None) -> None:
        self.predictor = predictor

    def oracle(self, seed: int, view: int) -> DemoTrial:
        """A ground-truth grasp through the pixel path, executed by the grasp skill."""
        result = run_scene_trial(demo_scene(seed, view), TrialConfig())
        return DemoTrial(result.category, result.success, result.failure or "")

    def model(self, seed: int, view: int) -> DemoTrial:
        """The model's grasp on the workspace crop, executed by the grasp skill."""
        chooser = ModelChooser(self.predictor)
        result = run_scene_trial(demo_scene(seed, view), TrialConfig(source="model"), chooser)
        plan = chooser.plans[-1]
        return DemoTrial(
            result.category,
            result.success,
            result.failure or "",
            plan.prediction.text if plan.prediction else "",
            plan.crop.frame.rgb,
            plan.prediction.pose if plan.prediction else None,
        )


class ModelChooser:
    """Chooses a trial's grasp with a model: ``plan_grasp`` on the object-centred crop.

    The crop is taken inside the scene camera's workspace square.
    Keeps every plan it made (``plans``), so that a trial can report what the model said.
    """

    def __init__(self, predictor: Any, instruction: str | None = None) -> None:
        self.predictor = predictor
        self.instruction = instruction
        self.plans: list[PlannedGrasp] = []

    def __call__(self, world: Any, frame: Any, rng: Any) -> ImageGrasp:
        """The model's grasp in the full image's pixels."""
        cam = world.spec.config.camera
        crop = CropSpec(cam.crop, center_point=cam.target, object=OBJECT_CROP)
        options = PlanOptions(crop=crop)
        self.plans.append(plan_grasp(self.predictor, frame, self.instruction, options))
        if self.plans[-1].image is None:
            raise RtGraspError(self.plans[-1].reason)
        return self.plans[-1].image


def model_trial(predictor: Any) -> Callable[[int, TrialConfig], TrialResult]:
    """One seeded trial (as :func:`run_trial`) with the model's grasp, keeping its answer.

    The result's ``named`` is the object category the answer's reasoning names first.
    """
    from rt_grasp_ros.prompts.parser import mentioned_category
    from rt_grasp_ros.sim.objects import CATEGORIES

    def trial(seed: int, config: TrialConfig) -> TrialResult:
        chooser = ModelChooser(predictor)
        result = run_trial(seed, config, chooser)
        plan = chooser.plans[-1] if chooser.plans else None
        if plan is not None and plan.prediction is not None:
            result.answer = plan.prediction.text
            result.named = mentioned_category(result.answer, tuple(CATEGORIES))
        return result

    return trial
