"""Eye-to-hand calibration: the fixed camera's pose in the robot base frame.

Each sample pairs the TCP pose the robot measured (``base_from_tcp``) with the board pose the
camera saw (``camera_from_board``), the board rigidly on the flange. Two unknowns stay fixed
over the samples: the camera in the base (``base_from_camera``, what the stack needs) and the
board on the TCP (``tcp_from_board``)::

    base_from_tcp[i] @ tcp_from_board == base_from_camera @ camera_from_board[i]

``cv2.calibrateHandEye`` solves the eye-in-hand form of this; for eye-to-hand its docs say to
pass the base in the gripper frame (``tcp_from_base``, the inverse of the robot poses) as
"gripper to base", and then its "camera to gripper" output is the camera in the base. That
closed form is then refined by least squares on the reprojection error of every detected
corner over both unknowns (12 parameters), which is what the corner noise is Gaussian in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from rt_grasp_ros.calibration.board import BoardObservation, opencv_intrinsics
from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.transforms import Pose

METHODS = {
    "tsai": cv2.CALIB_HAND_EYE_TSAI,
    "park": cv2.CALIB_HAND_EYE_PARK,
    "horaud": cv2.CALIB_HAND_EYE_HORAUD,
    "andreff": cv2.CALIB_HAND_EYE_ANDREFF,
    "daniilidis": cv2.CALIB_HAND_EYE_DANIILIDIS,
}
MIN_SAMPLES = 3  # calibrateHandEye's minimum; use 10 or more
MIN_ROTATION_DEG = 5.0  # between the two most different robot orientations, about 2 axes


@dataclass(frozen=True)
class Sample:
    """One robot pose and what the camera saw there."""

    base_from_tcp: Pose
    observation: BoardObservation


@dataclass(frozen=True)
class HandEyeResult:
    """The calibration.

    Attributes:
        base_from_camera: the camera's optical frame in the base frame (the extrinsic).
        tcp_from_board: the board on the TCP (check it against the mount's drawing).
        samples: how many samples were used.
        method: the closed form that started the refinement.
        rms_px: reprojection error of all corners with the solution (pixels).
        position_spread: RMS over the samples of where each one puts the camera (m), given
            the solved board mount: how well the samples agree.
        rotation_spread: the same for the camera's orientation (rad).
        closed_form: the closed form's camera pose, before the refinement.
    """

    base_from_camera: Pose
    tcp_from_board: Pose
    samples: int
    method: str
    rms_px: float
    position_spread: float
    rotation_spread: float
    closed_form: Pose

    def summary(self) -> dict:
        """The numbers, for JSON and the command's report."""
        return {
            "camera_extrinsic": extrinsic_list(self.base_from_camera),
            "tcp_from_board": extrinsic_list(self.tcp_from_board),
            "samples": self.samples,
            "method": self.method,
            "rms_px": round(self.rms_px, 4),
            "position_spread_mm": round(self.position_spread * 1000, 3),
            "rotation_spread_deg": round(math.degrees(self.rotation_spread), 4),
        }


def extrinsic_list(pose: Pose) -> list[float]:
    """``pose`` as 7 numbers ``x y z qx qy qz qw``, the stack's ``camera_extrinsic``."""
    return [float(v) for v in (*pose.position, *pose.quat_xyzw)]


def _check_motion(samples: list[Sample]) -> None:
    if len(samples) < MIN_SAMPLES:
        raise RtGraspError(
            f"hand-eye calibration needs at least {MIN_SAMPLES} samples with the board "
            f"detected (10 or more for a good one), got {len(samples)}"
        )
    first = samples[0].base_from_tcp.rotation
    turns = np.array([(first.inv() * s.base_from_tcp.rotation).as_rotvec() for s in samples])
    # the robot must turn about two independent axes, or the solution is not unique
    singular = np.linalg.svd(turns, compute_uv=False)
    if len(singular) < 2 or math.degrees(singular[1]) < MIN_ROTATION_DEG:
        raise RtGraspError(
            "the robot poses turn the board about fewer than two axes (by at least "
            f"{MIN_ROTATION_DEG:g} deg): tilt the flange about different axes between poses"
        )


def closed_form(samples: list[Sample], method: str = "park") -> tuple[Pose, Pose]:
    """``cv2.calibrateHandEye`` for eye-to-hand: ``(base_from_camera, tcp_from_board)``."""
    if method not in METHODS:
        raise ConfigError(f"hand-eye method {method!r} is not one of {sorted(METHODS)}")
    _check_motion(samples)
    tcp_from_base = [s.base_from_tcp.inverse() for s in samples]
    camera_from_board = [s.observation.camera_from_board for s in samples]
    r, t = cv2.calibrateHandEye(
        [p.rotation_matrix for p in tcp_from_base],
        [p.position.reshape(3, 1) for p in tcp_from_base],
        [p.rotation_matrix for p in camera_from_board],
        [p.position.reshape(3, 1) for p in camera_from_board],
        method=METHODS[method],
    )
    base_from_camera = Pose.from_rotation_matrix(np.asarray(t).reshape(3), r)
    return base_from_camera, _mean_mount(samples, base_from_camera)


def _mean_mount(samples: list[Sample], base_from_camera: Pose) -> Pose:
    """The board on the TCP that the samples imply for this camera pose, averaged."""
    mounts = [
        s.base_from_tcp.inverse() @ base_from_camera @ s.observation.camera_from_board
        for s in samples
    ]
    rotation = Rotation.concatenate([m.rotation for m in mounts]).mean()
    return Pose(np.mean([m.position for m in mounts], axis=0), rotation)


def _pack(a: Pose, b: Pose) -> np.ndarray:
    return np.concatenate([a.rotation.as_rotvec(), a.position, b.rotation.as_rotvec(), b.position])


def _unpack(x: np.ndarray) -> tuple[Pose, Pose]:
    return (
        Pose(x[3:6], Rotation.from_rotvec(x[0:3])),
        Pose(x[9:12], Rotation.from_rotvec(x[6:9])),
    )


def _residuals(x: np.ndarray, samples: list[Sample], k: np.ndarray, d: np.ndarray) -> np.ndarray:
    base_from_camera, tcp_from_board = _unpack(x)
    camera_from_base = base_from_camera.inverse()
    out = []
    for s in samples:
        cam_from_board = camera_from_base @ s.base_from_tcp @ tcp_from_board
        rvec = cam_from_board.rotation.as_rotvec()
        projected, _ = cv2.projectPoints(
            s.observation.object_points, rvec, cam_from_board.position, k, d
        )
        out.append((projected.reshape(-1, 2) - s.observation.image_points).reshape(-1))
    return np.concatenate(out)


def solve_eye_to_hand(
    samples: list[Sample], camera: PinholeCamera, method: str = "park", refine: bool = True
) -> HandEyeResult:
    """Calibrate the fixed camera from ``samples`` (see the module doc).

    Raises:
        RtGraspError: too few samples, or robot poses that do not turn about two axes.
    """
    start_camera, start_mount = closed_form(samples, method)
    k, d = opencv_intrinsics(camera)
    x = _pack(start_camera, start_mount)
    if refine:
        x = least_squares(_residuals, x, args=(samples, k, d), method="lm").x
    base_from_camera, tcp_from_board = _unpack(x)
    errors = _residuals(x, samples, k, d).reshape(-1, 2)
    rms = float(np.sqrt(np.mean(np.sum(errors**2, axis=1))))
    # where each sample alone puts the camera, given the board mount
    implied = [
        s.base_from_tcp @ tcp_from_board @ s.observation.camera_from_board.inverse()
        for s in samples
    ]
    gaps = [base_from_camera.distance_to(p) for p in implied]
    position_spread = float(np.sqrt(np.mean([g[0] ** 2 for g in gaps])))
    rotation_spread = float(np.sqrt(np.mean([g[1] ** 2 for g in gaps])))
    return HandEyeResult(
        base_from_camera,
        tcp_from_board,
        len(samples),
        method,
        rms,
        position_spread,
        rotation_spread,
        start_camera,
    )


def extrinsic_argument(pose: Pose) -> str:
    """The launch argument that sets ``pose`` for the whole stack."""
    return "camera_extrinsic:='" + " ".join(f"{v:.6f}" for v in extrinsic_list(pose)) + "'"


def write_extrinsic(path: Path, result: HandEyeResult, note: str = "") -> None:
    """Write the calibration as a ROS parameters file every rt_grasp node reads.

    ``--params-file FILE`` sets ``camera_extrinsic`` on any node (``/**``); the launch
    argument with the same numbers is in the file's header.
    """
    numbers = ", ".join(f"{v:.7f}" for v in extrinsic_list(result.base_from_camera))
    s = result.summary()
    header = [
        "# Eye-to-hand calibration by `rt-grasp calibrate`" + (f" ({note})" if note else ""),
        f"# {s['samples']} samples, {s['method']} + refinement: reprojection {s['rms_px']} px,",
        f"# spread over samples {s['position_spread_mm']} mm, {s['rotation_spread_deg']} deg.",
        "# board on the TCP (x y z qx qy qz qw): "
        + " ".join(f"{v:.5f}" for v in s["tcp_from_board"]),
        "# The whole stack: ros2 launch rt_grasp grasp.launch.py sim:=false \\",
        f"#   {extrinsic_argument(result.base_from_camera)}",
        "# (or rt-grasp ros up sim:=false ... with the same argument)",
    ]
    body = ["/**:", "  ros__parameters:", f"    camera_extrinsic: [{numbers}]", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header + body), encoding="utf-8")


def read_extrinsic(path: Path) -> Pose:
    """The camera pose in a file written by :func:`write_extrinsic` (or any such params file)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        numbers = [float(v) for v in data["/**"]["ros__parameters"]["camera_extrinsic"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: no /**: ros__parameters: camera_extrinsic: [7 numbers] ({exc})"
        ) from None
    if len(numbers) != 7:
        raise ConfigError(f"{path}: camera_extrinsic must have 7 numbers, got {len(numbers)}")
    return Pose.from_position_quat(numbers[:3], numbers[3:])
