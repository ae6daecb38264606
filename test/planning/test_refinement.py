"""The refinement core without ROS: a drag placed on the depth, follow-ups, the state machine."""

import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import GraspGeometry, PlanningError
from rt_grasp_ros.planning.refinement import (
    FOLLOW_UPS,
    MENU,
    Correction,
    PlanCall,
    RefinedGrasp,
    Refinement,
    RefinementError,
    Stage,
    corrected_target,
    follow_up_text,
    model_coordinates,
)
from rt_grasp_ros.transforms import Pose, closing_yaw, top_down_rotation

SIZE, FOCAL, HEIGHT = 200, 200.0, 1.0  # a 200x200 camera 1 m above the table, looking down
BOX = 0.10  # a 10 cm high box under the image's centre, 20 cm square


def scene(box_height=BOX):
    """A camera straight above (0.5, 0, 0): image right = base -y, image down = base -x."""
    down = np.column_stack([[0, -1, 0], [-1, 0, 0], [0, 0, -1]])  # optical x, y, z in base
    camera = PinholeCamera.ideal(
        SIZE, SIZE, FOCAL, Pose.from_rotation_matrix([0.5, 0.0, HEIGHT], down)
    )
    depth = np.full((SIZE, SIZE), HEIGHT, np.float32)
    # the box's top seen at depth 0.9: 0.2 m across at 0.9 m = 44 px, around the centre
    half = round(0.1 * FOCAL / (HEIGHT - box_height))
    depth[100 - half : 100 + half, 100 - half : 100 + half] = HEIGHT - box_height
    rgb = np.zeros((SIZE, SIZE, 3), np.uint8)
    return RGBDFrame(rgb, depth, camera)


def planned(x=0.5, y=0.0, z=0.07, yaw=0.0, gripper=GripperKind.PARALLEL):
    width = 0.04 if gripper is GripperKind.PARALLEL else 0.0
    return GraspTarget(Pose([x, y, z], top_down_rotation(yaw)), width, gripper)


def test_a_drag_keeps_its_place_in_the_table_plane_and_takes_its_height_from_the_depth():
    frame = scene()
    # dragged 4 cm along base -y (to the right in the image), still on the box, z said 0.3
    dragged = Pose([0.5, -0.04, 0.3], top_down_rotation(0.0))
    target, pixel = corrected_target(planned(), dragged, frame)
    x, y, z = target.pose.position
    assert (x, y) == pytest.approx((0.5, -0.04), abs=1e-9)  # exactly where it was dragged
    # the planner's rule: the top surface (0.10) minus min(grasp_depth 0.03, height / 2)
    assert z == pytest.approx(BOX - GraspGeometry().grasp_depth, abs=1e-6)
    assert pixel.u > 100 and pixel.v == pytest.approx(100.0, abs=0.5)  # right of the centre
    assert target.width == 0.04 and target.gripper is GripperKind.PARALLEL


def test_a_drag_off_the_box_lands_on_the_table_clearance():
    target, _ = corrected_target(planned(), Pose([0.5, -0.2, 0.07]), scene())
    geometry = GraspGeometry()
    assert target.pose.position[2] == pytest.approx(geometry.table_z + geometry.min_tcp_height)


def test_a_drag_turns_only_about_the_approach_axis():
    # the client sends a tilted orientation: only its turn about the approach axis counts
    tilt = top_down_rotation(math.radians(30)) * Rotation.from_euler("x", 0.3)
    target, pixel = corrected_target(planned(), Pose([0.5, 0.0, 0.07], tilt), scene())
    z_axis = target.pose.rotation_matrix[:, 2]
    assert z_axis == pytest.approx([0.0, 0.0, -1.0], abs=1e-9)  # still top-down
    assert closing_yaw(target.pose.rotation) == pytest.approx(math.radians(30), abs=1e-9)
    assert np.linalg.det(target.pose.rotation_matrix) == pytest.approx(1.0)
    # the closing axis in the image (base +x is image up, base +y image left), as theta
    assert pixel.theta == pytest.approx(math.radians(120), abs=1e-6)


def test_a_suction_drag_seals_on_the_surface_under_the_cup():
    cup = planned(z=0.096, gripper=GripperKind.SUCTION)
    target, _ = corrected_target(cup, Pose([0.52, 0.03, 0.5]), scene())
    press = GraspGeometry().suction_press
    assert target.pose.position == pytest.approx([0.52, 0.03, BOX - press], abs=1e-6)
    assert target.width == 0.0 and target.gripper is GripperKind.SUCTION


def test_a_drag_out_of_the_crop_is_refused():
    with pytest.raises(PlanningError, match="out of the camera crop"):
        corrected_target(planned(), Pose([0.5, -0.9, 0.07]), scene())
    hole = scene()
    hole.depth[:, :] = np.nan
    with pytest.raises(PlanningError, match="no depth"):
        corrected_target(planned(), Pose([0.5, 0.0, 0.07]), hole)


def drag_to(core, frame, x, y, yaw=0.0):
    target, pixel = corrected_target(
        core.planned_grasp.target, Pose([x, y, 0.0], top_down_rotation(yaw)), frame
    )
    base = core.planned_grasp
    return core.drag(
        RefinedGrasp(target, base.reasoning, base.answer, model_coordinates(pixel, frame))
    )


def model_grasp(frame, x=0.5, y=0.0):
    target = planned(x, y)
    (uv,), _ = frame.camera.project(target.pose.position[None])
    image = (uv[0] / SIZE, uv[1] / SIZE, 0.0)
    return RefinedGrasp(target, "the box's long sides are parallel", "[0.5, 0.5], 0.0", image)


def test_the_next_follow_up_tells_the_model_where_the_user_moved_its_grasp():
    frame = scene()
    core = Refinement()
    core.plan()
    core.planned("s1", model_grasp(frame))
    correction = drag_to(core, frame, 0.5, -0.05, math.radians(40))
    assert core.stage is Stage.CORRECTED and core.grasp.target.pose.position[1] == -0.05
    assert correction.shift_m == pytest.approx(0.05)
    assert math.degrees(correction.turn) == pytest.approx(40.0)
    call = core.follow_up("grasp it by the handle instead")
    assert call.session_id == "s1"
    text = call.follow_up
    # names the move in the model's own coordinates and in words, then the user's words
    assert "[0.500, 0.500]" in text and "to the right" in text and "5.0 cm" in text
    assert "40 degrees counter-clockwise" in text
    assert text.endswith("grasp it by the handle instead")
    x1, y1, _ = core.grasp.image
    assert f"[{x1:.3f}, {y1:.3f}]" in text and x1 > 0.5


def test_a_follow_up_without_a_correction_is_the_users_text():
    assert follow_up_text("  more to the left ", None) == "more to the left"
    still = Correction(Pose(), Pose([0.0005, 0, 0]), (0.5, 0.5, 0.0), (0.5, 0.5, 0.0))
    assert not still.significant and follow_up_text("left", still) == "left"


def test_refinement_sessions_turns_and_refusals():
    frame = scene()
    core = Refinement(default_instruction="pick up the box")
    with pytest.raises(RefinementError, match="no grasp"):
        core.follow_up("more to the left")
    with pytest.raises(RefinementError, match="no grasp to execute"):
        core.execute()
    assert core.plan() == PlanCall(instruction="pick up the box")
    assert core.busy and core.stage is Stage.PLANNING
    with pytest.raises(RefinementError, match="still being answered"):
        core.plan()
    core.planned("s7", model_grasp(frame))
    assert (core.session_id, core.turn, core.stage) == ("s7", 1, Stage.PLANNED)
    call = core.follow_up("more to the left")
    assert call == PlanCall(session_id="s7", follow_up="more to the left")
    core.plan_failed("/plan_grasp: the model's answer has no valid pose")
    assert core.stage is Stage.PLANNED and "no valid pose" in core.error  # the grasp stays
    core.follow_up("more to the left")
    core.planned("s7", model_grasp(frame, y=0.02))
    assert core.turn == 2 and core.error == "" and core.correction is None
    drag_to(core, frame, 0.48, 0.0)
    target = core.execute()
    assert target is core.grasp.target and core.executed_target is target
    with pytest.raises(RefinementError, match="being executed"):
        core.follow_up("more to the right")
    with pytest.raises(RefinementError, match="being executed"):
        drag_to(core, frame, 0.5, 0.0)
    core.executing("approach")
    assert core.headline() == "executing: approach"
    core.executed(False, "not_grasped", "closed on nothing", "close")
    assert core.stage is Stage.FAILED and "not_grasped" in core.error
    assert "close" in core.headline()
    core.execute()
    core.executed(True, stage="hold")
    assert core.stage is Stage.SUCCEEDED and core.result["success"]
    state = json.loads(json.dumps(core.snapshot()))
    assert state["session"] == "s7" and state["turn"] == 2 and state["stage"] == "succeeded"
    assert state["grasp"]["position"] == pytest.approx([0.48, 0.0, 0.07], abs=1e-6)
    assert state["executed"] == state["grasp"] and state["corrected"]
    assert state["follow_ups"] == list(FOLLOW_UPS)
    core.foreign(model_grasp(frame))  # a grasp planned by another client: no session
    with pytest.raises(RefinementError, match="Re-plan"):
        core.follow_up("more to the left")
    assert core.plan().instruction == "pick up the box"


def test_the_menu_offers_execute_replan_and_the_follow_ups():
    titles = [title for title, _ in MENU]
    assert titles == ["Execute", "Re-plan", "Follow-up"]
    assert dict(MENU)["Follow-up"] == FOLLOW_UPS
    assert "grasp it by the handle instead" in FOLLOW_UPS and "more to the left" in FOLLOW_UPS
