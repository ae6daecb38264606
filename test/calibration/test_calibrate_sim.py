"""``rt-grasp calibrate`` on the embedded robot, where the camera's true pose is known.

The sim renders a ChArUco board on the flange (rt_grasp_ros/sim/calibration_board.py), the
arm visits 16 poses and the calibration must recover the sim camera's pose within 2 mm and
0.5 degrees.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.calibration.handeye import read_extrinsic, solve_eye_to_hand
from rt_grasp_ros.calibration.session import (
    PoseSet,
    calibration_poses,
    collect,
    load_samples,
    save_samples,
)
from rt_grasp_ros.cli.main import main
from rt_grasp_ros.ros.stack import sim_camera_extrinsic
from rt_grasp_ros.sim.calibration_board import CalibrationRig
from rt_grasp_ros.transforms import Pose

POSES = 16


@pytest.fixture(scope="module")
def run():
    with CalibrationRig() as rig:
        start = rig.start_pose()
        rig.move_to(start)
        poses = calibration_poses(start, rig.board_in_tcp, PoseSet(POSES))
        collected = collect(rig, rig, poses, keep_images=True)
        yield rig, collected


def test_the_calibration_recovers_the_sim_camera_within_2_mm_and_half_a_degree(run):
    rig, collected = run
    assert len(collected.samples) == POSES, collected.skipped
    result = solve_eye_to_hand(collected.samples, rig.camera)
    dp, dr = result.base_from_camera.distance_to(rig.true_base_from_camera)
    assert dp < 0.002 and math.degrees(dr) < 0.5, (dp, math.degrees(dr))
    # the truth is the pose the stack gives the nodes with sim:=true
    stack = Pose.from_position_quat(sim_camera_extrinsic()[:3], sim_camera_extrinsic()[3:])
    assert rig.true_base_from_camera.distance_to(stack)[0] < 1e-9
    # the board's mount, as the sim built it: its corner beside the hand, facing away
    sx, sy = rig.spec.board.size
    mount = rig.spec.mount
    expected = [mount.offset - sx / 2, -sy / 2, -rig.world.tool.tcp_offset - mount.thickness]
    assert np.allclose(result.tcp_from_board.position, expected, atol=0.002)
    assert math.degrees(result.tcp_from_board.rotation.magnitude()) < 0.5
    assert result.rms_px < 0.5


def test_the_closed_form_alone_is_close_too(run):
    rig, collected = run
    result = solve_eye_to_hand(collected.samples, rig.camera, "daniilidis", refine=False)
    dp, dr = result.base_from_camera.distance_to(rig.true_base_from_camera)
    assert dp < 0.002 and math.degrees(dr) < 0.5, (dp, math.degrees(dr))


def test_saved_samples_solve_to_the_same_pose(run, tmp_path):
    rig, collected = run
    save_samples(tmp_path, collected, rig.camera)
    samples, camera, skipped = load_samples(tmp_path)
    assert not skipped and len(samples) == POSES
    assert np.allclose(camera.k, rig.camera.k)
    a = solve_eye_to_hand(collected.samples, rig.camera).base_from_camera
    b = solve_eye_to_hand(samples, camera).base_from_camera
    assert a.distance_to(b)[0] < 1e-4


def test_rt_grasp_calibrate_writes_the_extrinsic_the_stack_reads(tmp_path, capsys):
    out = tmp_path / "camera_extrinsic.yaml"
    assert main(["calibrate", "--sim", "--poses", "10", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 10
    assert report["error_vs_sim_truth"]["position_mm"] < 2.0
    assert report["error_vs_sim_truth"]["rotation_deg"] < 0.5
    truth = Pose.from_position_quat(sim_camera_extrinsic()[:3], sim_camera_extrinsic()[3:])
    assert read_extrinsic(out).distance_to(truth)[0] < 0.002
    assert report["launch_argument"].startswith("camera_extrinsic:='")


def test_rt_grasp_calibrate_on_an_empty_folder_says_what_it_expects(tmp_path, capsys):
    assert main(["calibrate", "--samples", str(tmp_path)]) == 2
    assert "poses.json" in capsys.readouterr().err
