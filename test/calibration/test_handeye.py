"""Hand-eye calibration without the simulator: board detection, the solver, the file."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from rt_grasp_ros.calibration.board import BoardObservation, CharucoSpec, detect_board
from rt_grasp_ros.calibration.handeye import (
    Sample,
    closed_form,
    extrinsic_argument,
    read_extrinsic,
    solve_eye_to_hand,
    write_extrinsic,
)
from rt_grasp_ros.calibration.session import PoseSet, calibration_poses
from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.ros.frames import parse_extrinsic
from rt_grasp_ros.transforms import Pose

CAMERA = PinholeCamera.ideal(640, 480, 615.0)
# a camera 0.75 m above the table looking down, as the sim's
TRUE_CAMERA = Pose.from_rotation_matrix(
    [0.52, 0.01, 0.74],
    Rotation.from_euler("x", 0.05).as_matrix()
    @ np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]),
)
TRUE_MOUNT = Pose([0.07, -0.06, -0.11], Rotation.from_euler("z", 0.3))
START = Pose([0.4, 0.0, 0.3], Rotation.from_matrix(np.diag([1.0, -1.0, -1.0])))


def _observe(base_from_tcp: Pose, spec: CharucoSpec, noise: float = 0.0, rng=None):
    board = spec.board()
    obj = board.getChessboardCorners().astype(float)
    cam_from_board = TRUE_CAMERA.inverse() @ base_from_tcp @ TRUE_MOUNT
    k = CAMERA.k.copy()
    k[:2, 2] -= 0.5
    pixels, _ = cv2.projectPoints(
        obj, cam_from_board.rotation.as_rotvec(), cam_from_board.position, k, np.zeros(5)
    )
    pixels = pixels.reshape(-1, 2)
    if noise:
        pixels = pixels + rng.normal(0, noise, pixels.shape)
    ok, rvec, tvec = cv2.solvePnP(obj, pixels, k, np.zeros(5), flags=cv2.SOLVEPNP_IPPE)
    assert ok
    seen = Pose.from_rotation_matrix(tvec.reshape(3), cv2.Rodrigues(rvec)[0])
    return BoardObservation(seen, np.arange(len(obj)), pixels, obj, 0.0)


def _samples(noise=0.0, count=14):
    spec = CharucoSpec()
    rng = np.random.default_rng(1)
    poses = calibration_poses(START, np.array([0.13, 0.0, -0.1]), PoseSet(count))
    return [Sample(p, _observe(p, spec, noise, rng)) for p in poses]


def test_exact_samples_give_the_camera_pose():
    result = solve_eye_to_hand(_samples(), CAMERA)
    dp, dr = result.base_from_camera.distance_to(TRUE_CAMERA)
    assert dp < 1e-6 and dr < 1e-6
    dp, dr = result.tcp_from_board.distance_to(TRUE_MOUNT)
    assert dp < 1e-6 and dr < 1e-6
    assert result.rms_px < 1e-4


def test_the_refinement_beats_the_closed_form_under_corner_noise():
    samples = _samples(noise=0.3)
    closed, _ = closed_form(samples, "park")
    refined = solve_eye_to_hand(samples, CAMERA).base_from_camera
    closed_err = closed.distance_to(TRUE_CAMERA)
    refined_err = refined.distance_to(TRUE_CAMERA)
    assert refined_err[0] < 0.002 and math.degrees(refined_err[1]) < 0.5
    assert refined_err[0] <= closed_err[0]


def test_too_few_samples_or_one_rotation_axis_say_why():
    samples = _samples()
    with pytest.raises(RtGraspError, match="at least 3 samples"):
        solve_eye_to_hand(samples[:2], CAMERA)
    spec = CharucoSpec()
    # turning about one axis only (the vertical): the mount's height is not observable
    turns = [Rotation.from_euler("z", 0.2 * i) * START.rotation for i in range(6)]
    poses = [Pose(START.translated([0.01 * i, 0, 0]).position, r) for i, r in enumerate(turns)]
    flat = [Sample(p, _observe(p, spec)) for p in poses]
    with pytest.raises(RtGraspError, match="fewer than two axes"):
        solve_eye_to_hand(flat, CAMERA)
    with pytest.raises(ConfigError, match="method"):
        closed_form(samples, "magic")


def test_the_file_is_a_params_file_with_the_stacks_argument(tmp_path):
    result = solve_eye_to_hand(_samples(), CAMERA)
    path = tmp_path / "camera_extrinsic.yaml"
    write_extrinsic(path, result, "test")
    back = read_extrinsic(path)
    assert back.distance_to(result.base_from_camera)[0] < 1e-6
    argument = extrinsic_argument(result.base_from_camera)
    assert argument in path.read_text()
    # the launch argument parses the way the stack parses it
    value = argument.split(":=", 1)[1].strip("'")
    assert parse_extrinsic(value).distance_to(TRUE_CAMERA)[0] < 1e-5
    (tmp_path / "bad.yaml").write_text("camera_extrinsic: [1, 2]\n")
    with pytest.raises(ConfigError, match="ros__parameters"):
        read_extrinsic(tmp_path / "bad.yaml")


def test_the_board_is_found_in_a_synthetic_view_with_its_pose():
    spec = CharucoSpec()
    board_px = spec.image(100)  # 500 x 500 px, 0.125 m: 4000 px/m
    cam_from_board = Pose([-0.06, -0.05, 0.35], Rotation.from_euler("xy", [0.2, -0.15]))
    k = CAMERA.k.copy()
    k[:2, 2] -= 0.5
    scale = board_px.shape[1] / spec.size[0]
    src = np.array([[0, 0], [500, 0], [500, 500], [0, 500]], np.float32) - 0.5
    corners_m = np.array(
        [[0, 0, 0], [spec.size[0], 0, 0], [spec.size[0], spec.size[1], 0], [0, spec.size[1], 0]],
        float,
    )
    dst, _ = cv2.projectPoints(
        corners_m, cam_from_board.rotation.as_rotvec(), cam_from_board.position, k, np.zeros(5)
    )
    h = cv2.getPerspectiveTransform(src, dst.reshape(-1, 2).astype(np.float32))
    view = cv2.warpPerspective(board_px, h, (640, 480), flags=cv2.INTER_AREA, borderValue=128)
    assert scale == pytest.approx(4000)
    seen = detect_board(np.dstack([view] * 3), CAMERA, spec)
    assert seen is not None and len(seen.ids) == 16
    dp, dr = seen.camera_from_board.distance_to(cam_from_board)
    # one view of a small board: its tilt is the least certain part
    assert dp < 0.002 and math.degrees(dr) < 1.0
    assert detect_board(np.full((480, 640, 3), 128, np.uint8), CAMERA, spec) is None


def test_board_and_pose_set_check_their_values():
    with pytest.raises(ConfigError, match="dictionary"):
        CharucoSpec(dictionary="DICT_NOPE")
    with pytest.raises(ConfigError, match="marker"):
        CharucoSpec(square=0.02, marker=0.03)
    with pytest.raises(ConfigError, match="at least 3 poses"):
        PoseSet(2)
