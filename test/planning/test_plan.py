"""plan_grasp's coordinate path, checked end to end on the simulated robot."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

pytest.importorskip("mujoco")

from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.grasp.target import GripperKind
from rt_grasp_ros.perception.crop import ObjectCrop
from rt_grasp_ros.planning.plan import CropSpec, PlanOptions, plan_from_prediction, plan_grasp
from rt_grasp_ros.sim.grasps import ground_truth_grasps, suction_targets
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.grasp import execute_grasp
from rt_grasp_ros.transforms import Pose
from rt_grasp_ros.vlm.predictor import Prediction


class AnswerKey:
    """Stands in for the model: answers with a fixed pose, as a trained model would."""

    def __init__(self, pose: GraspPose | None) -> None:
        self.pose, self.calls = pose, []

    def predict(self, image, instruction=None, **options) -> Prediction:
        self.calls.append((image.shape, instruction, options))
        text = "a grasp" if self.pose else "no idea"
        return Prediction(text, self.pose, "reasoning", None if self.pose else "no pose", 10, 5)


def scene(gripper: str, seed: int = 2, category: str = "box"):
    world = World(
        generate_scene(seed, SceneConfig(n_objects=1, categories=(category,), gripper=gripper))
    )
    robot = SimRobot(world)
    robot.wait(0.3)
    return world, robot


def crop_spec(world, on_object: bool = False) -> CropSpec:
    cam = world.spec.config.camera
    return CropSpec(cam.crop, center_point=cam.target, object=ObjectCrop() if on_object else None)


def answer_for(
    world, frame, gripper: str, swap: bool = False, on_object: bool = False
) -> GraspPose:
    """The ground truth as the model would say it: normalised in the crop."""
    crop = world.object_crop(frame) if on_object else world.workspace_crop(frame)
    x0, y0 = crop.origin
    w, h = crop.size
    if gripper == "parallel":
        rect = ground_truth_grasps(world, frame)[0].rectangle
        (cx, cy), theta = rect.center, rect.theta
    else:
        (cx, cy), theta = suction_targets(world, frame)[0].pixel, 0.0
    x, y = (cx - x0) / w, (cy - y0) / h
    return GraspPose.wrapped(y, x, theta) if swap else GraspPose.wrapped(x, y, theta)


def lifted(world, robot, target) -> bool:
    z0 = world.object_com("obj0")[2]
    outcome = execute_grasp(robot, target)
    return outcome.success and world.object_com("obj0")[2] - z0 > 0.05


@pytest.mark.parametrize("on_object", [False, True], ids=["workspace", "object"])
@pytest.mark.parametrize("gripper", ["parallel", "suction"])
def test_a_ground_truth_answer_planned_in_3d_lifts_the_object(gripper, on_object):
    world, robot = scene(gripper)
    frame = world.render()
    model = AnswerKey(answer_for(world, frame, gripper, on_object=on_object))
    options = PlanOptions(crop=crop_spec(world, on_object), gripper=GripperKind(gripper))
    plan = plan_grasp(model, frame, "pick up the box", options)
    assert plan.ok, plan.reason
    crop = world.object_crop(frame) if on_object else world.workspace_crop(frame)
    side = crop.size[0]
    assert model.calls[0][0] == (side, side, 3) and model.calls[0][1] == "pick up the box"
    assert side == 400 if not on_object else side < 400
    assert plan.target.gripper is GripperKind(gripper)
    assert plan.crop.origin == crop.origin
    assert 0.6 < plan.depth < 0.75 and "total" in plan.timings  # the box top, below the camera
    # The camera-frame pose is the same pose seen from the camera.
    cam = plan.crop.frame.camera.base_from_camera
    np.testing.assert_allclose((cam @ plan.pose_camera).matrix, plan.target.pose.matrix, atol=1e-9)
    assert lifted(world, robot, plan.target)
    world.close()


@pytest.mark.parametrize("gripper", ["parallel", "suction"])
def test_swapped_axes_or_a_wrong_extrinsic_miss_the_object(gripper):
    world, robot = scene(gripper, seed=7)
    frame = world.render()
    options = PlanOptions(crop=crop_spec(world), gripper=GripperKind(gripper))
    swapped = plan_grasp(
        AnswerKey(answer_for(world, frame, gripper, swap=True)), frame, None, options
    )
    assert not swapped.ok or not lifted(world, robot, swapped.target)
    world.close()

    world, robot = scene(gripper, seed=7)
    frame = world.render()
    mount = frame.camera.base_from_camera
    # The optical frame's x and y with the wrong sign: pixels land mirrored on the table.
    wrong = mount @ Pose(rotation=Rotation.from_euler("z", math.pi))
    bad = replace(frame, camera=frame.camera.with_pose(wrong))
    plan = plan_grasp(AnswerKey(answer_for(world, frame, gripper)), bad, None, options)
    assert not plan.ok or not lifted(world, robot, plan.target)
    world.close()


def test_an_answer_without_pose_or_depth_is_a_result_with_a_reason():
    world, _ = scene("parallel")
    frame = world.render()
    options = PlanOptions(crop=crop_spec(world))
    plan = plan_grasp(AnswerKey(None), frame, None, options)
    assert not plan.ok and "no valid pose" in plan.reason and plan.target is None
    nodepth = replace(frame, depth=np.full_like(frame.depth, np.nan))
    crop = options.crop.apply(nodepth)
    plan = plan_from_prediction(
        AnswerKey(GraspPose(0.5, 0.5, 0.0)).predict(crop.frame.rgb), crop, options
    )
    assert not plan.ok and "no depth" in plan.reason and plan.image is not None
    assert math.isnan(plan.depth)
    world.close()
