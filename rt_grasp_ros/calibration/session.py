"""A calibration run: poses for the arm to visit, and the samples collected there.

The robot is anything that moves its TCP to a pose and reports the pose it measured (the
embedded robot, or the stack's executor interfaces on a real one); the camera is any
:class:`~rt_grasp_ros.perception.sources.FrameSource`. Samples can also be saved and loaded
as a folder (``poses.json`` with the robot poses and intrinsics, ``NNN.png`` images), so a
calibration recorded elsewhere is solved the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from rt_grasp_ros.calibration.board import CharucoSpec, detect_board
from rt_grasp_ros.calibration.handeye import Sample, extrinsic_list
from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.transforms import Pose


class CalibrationRobot(Protocol):
    """What a calibration needs from the arm."""

    def move_to(self, pose: Pose) -> None:
        """Move the TCP to ``pose`` and let it settle (UnreachableError if it cannot)."""
        ...

    def tcp_pose(self) -> Pose:
        """The TCP pose the robot measures, in the base frame."""
        ...


class Camera(Protocol):
    """What a calibration needs from the camera: frames and the intrinsics."""

    camera: PinholeCamera

    def read(self, timeout: float = 1.0):  # -> RGBDFrame
        """The next frame (``.rgb`` is used)."""
        ...


@dataclass(frozen=True)
class PoseSet:
    """Where the arm goes: tilts and turns of the board about its own centre.

    Attributes:
        count: how many poses.
        tilt_deg: largest tilt of the board away from its start orientation.
        yaw_deg: largest turn about the board's normal.
        shift: largest shift of the board's centre along each axis (m).
        seed: the draw.
    """

    count: int = 16
    tilt_deg: float = 22.0
    yaw_deg: float = 35.0
    shift: float = 0.04
    seed: int = 0

    def __post_init__(self) -> None:
        if self.count < 3:
            raise ConfigError(f"a calibration needs at least 3 poses, got {self.count}")
        if not (0 < self.tilt_deg <= 60 and 0 <= self.yaw_deg <= 180 and 0 <= self.shift < 0.5):
            raise ConfigError(
                f"PoseSet tilt_deg in (0, 60], yaw_deg in [0, 180], shift in [0, 0.5) m; got "
                f"{self.tilt_deg}, {self.yaw_deg}, {self.shift}"
            )


def calibration_poses(start: Pose, board_in_tcp: np.ndarray, poses: PoseSet) -> list[Pose]:
    """TCP poses that keep the board near where it is at ``start``, turned in every direction.

    Each pose turns the TCP about the board centre (``board_in_tcp``, its nominal place in
    the TCP frame: a ruler measurement is enough), so the board stays in view: tilt
    directions spread evenly around the circle (golden angle), tilt sizes and turns about
    the normal alternate between small and large, the centre shifts a little.
    """
    rng = np.random.default_rng(poses.seed)
    pivot = start.apply(np.asarray(board_in_tcp, float))
    normal = start.rotation.apply(np.array([0.0, 0.0, 1.0]))
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    out = []
    golden = math.pi * (3.0 - math.sqrt(5.0))
    for i in range(poses.count):
        azimuth = i * golden
        tilt = math.radians(poses.tilt_deg) * (0.45 + 0.55 * ((i * 0.618034) % 1.0))
        yaw = math.radians(poses.yaw_deg) * (1 if i % 2 else -1) * ((i * 0.381966) % 1.0)
        axis = math.cos(azimuth) * u + math.sin(azimuth) * v
        turn = Rotation.from_rotvec(tilt * axis) * Rotation.from_rotvec(yaw * normal)
        shift = rng.uniform(-poses.shift, poses.shift, 3)
        centre = pivot + shift
        # rotate the TCP about the pivot, then move the pivot to the shifted centre
        position = centre + turn.apply(start.position - pivot)
        out.append(Pose(position, turn * start.rotation))
    return out


@dataclass(frozen=True)
class Collected:
    """The samples of a run, and why the other poses gave none."""

    samples: list[Sample]
    skipped: list[str]
    images: list[np.ndarray]


def collect(
    robot: CalibrationRobot,
    camera: Camera,
    poses: list[Pose],
    spec: CharucoSpec | None = None,
    log: Callable[[str], None] | None = None,
    keep_images: bool = False,
) -> Collected:
    """Visit ``poses``; at each, read the measured TCP pose and detect the board.

    A pose the arm cannot reach, or where the board is not seen, is skipped (and said why).
    """
    from rt_grasp_ros.skills.motion import UnreachableError

    spec = spec or CharucoSpec()
    samples, skipped, images = [], [], []
    for i, pose in enumerate(poses):
        try:
            robot.move_to(pose)
        except UnreachableError as exc:
            skipped.append(f"pose {i}: unreachable ({exc})")
            continue
        measured = robot.tcp_pose()
        frame = camera.read()
        seen = detect_board(frame.rgb, camera.camera, spec)
        if seen is None:
            skipped.append(f"pose {i}: the board is not in view (too few corners)")
            continue
        samples.append(Sample(measured, seen))
        if keep_images:
            images.append(frame.rgb)
        if log is not None:
            log(f"pose {i}: {len(seen.ids)} corners, {seen.rms_px:.3f} px")
    return Collected(samples, skipped, images)


# -- samples on disk ------------------------------------------------------------------------


def save_samples(folder: Path, collected: Collected, camera: PinholeCamera) -> None:
    """Write ``poses.json`` (robot poses, intrinsics) and one PNG per sample."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if len(collected.images) != len(collected.samples):
        raise RtGraspError("save_samples needs the images: collect(..., keep_images=True)")
    entries = []
    for i, (sample, image) in enumerate(zip(collected.samples, collected.images, strict=True)):
        name = f"{i:03d}.png"
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        entries.append({"image": name, "base_from_tcp": extrinsic_list(sample.base_from_tcp)})
    (folder / "poses.json").write_text(
        json.dumps({"camera": camera_json(camera), "samples": entries}, indent=1),
        encoding="utf-8",
    )


def camera_json(camera: PinholeCamera) -> dict:
    """Intrinsics as JSON (OpenCV convention, as in CameraInfo)."""
    k = camera.k.copy()
    k[0, 2] -= 0.5
    k[1, 2] -= 0.5
    return {
        "width": camera.width,
        "height": camera.height,
        "k": k.tolist(),
        "d": camera.d.tolist(),
        "distortion_model": camera.distortion_model,
    }


def camera_from_json(data: dict) -> PinholeCamera:
    """The camera of :func:`camera_json`."""
    try:
        k = np.array(data["k"], float)
        k[0, 2] += 0.5
        k[1, 2] += 0.5
        return PinholeCamera(
            int(data["width"]),
            int(data["height"]),
            k,
            np.array(data.get("d", []), float),
            data.get("distortion_model", "plumb_bob"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"camera intrinsics need width, height, k (3x3), d: {exc}") from None


def load_samples(
    folder: Path, spec: CharucoSpec | None = None
) -> tuple[list[Sample], PinholeCamera, list[str]]:
    """Samples from a folder of :func:`save_samples`: detect the board in each image again."""
    folder = Path(folder)
    index = folder / "poses.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        camera = camera_from_json(data["camera"])
        entries = data["samples"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"{index}: expected {{'camera': {{width, height, k, d}}, 'samples': [{{'image', "
            f"'base_from_tcp': [x y z qx qy qz qw]}}]}} ({exc})"
        ) from None
    samples, skipped = [], []
    for entry in entries:
        path = folder / entry["image"]
        bgr = cv2.imread(str(path))
        if bgr is None:
            skipped.append(f"{path.name}: cannot read the image")
            continue
        seen = detect_board(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), camera, spec)
        if seen is None:
            skipped.append(f"{path.name}: the board is not in view (too few corners)")
            continue
        p = entry["base_from_tcp"]
        samples.append(Sample(Pose.from_position_quat(p[:3], p[3:]), seen))
    return samples, camera, skipped
