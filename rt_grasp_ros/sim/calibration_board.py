"""The embedded robot with a ChArUco board on its flange: a hand-eye calibration rig.

The board is a thin textured plate on a bracket of the tool body, printed side facing away
from the tool (up, when the TCP points down), beside the hand so that the arm's links do not
hide it from the scene camera. It has no mass and collides with nothing, so the arm moves as
it does without it. The scene camera is the stack's (:class:`CameraConfig`), rendered at its
own resolution; its pose is the truth a calibration is checked against.

Only :func:`calibration_rig` builds this scene; the embedded default scene is unchanged.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

from rt_grasp_ros.calibration.board import CharucoSpec
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim.camera import CameraConfig
from rt_grasp_ros.sim.mjcf import fmt
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, SceneSpec, generate_scene
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.motion import UnreachableError
from rt_grasp_ros.transforms import Pose

PX_PER_SQUARE = 200  # texture resolution: finer than the camera sees the board


@dataclass(frozen=True)
class BoardMount:
    """Where the board's centre sits in the tool (TCP-oriented) frame at the flange plane.

    ``offset``: the bracket along the tool's x axis (m); the plate lies in the flange plane
    (tool z = 0, where the hand starts), printed side facing -z of the tool.
    """

    offset: float = 0.13
    thickness: float = 0.003


@dataclass(frozen=True)
class BoardSceneSpec(SceneSpec):
    """A scene with the board on the flange (see the module doc)."""

    board: CharucoSpec = field(default_factory=CharucoSpec)
    mount: BoardMount = field(default_factory=BoardMount)

    def to_mjcf(self) -> str:
        """The scene's MJCF with the board plate and its (blank) texture added."""
        root = ET.fromstring(super().to_mjcf())
        asset = root.find("asset")
        width, height = self.texture_size()
        ET.SubElement(
            asset,
            "texture",
            name="charuco_tex",
            type="2d",
            builtin="flat",
            width=str(width),
            height=str(height),
            rgb1="1 1 1",
        )
        ET.SubElement(
            asset,
            "material",
            name="charuco_mat",
            texture="charuco_tex",
            texrepeat="1 1",
            texuniform="false",
            specular="0",
            shininess="0",
            reflectance="0",
        )
        tool = root.find(".//body[@name='tool']")
        sx, sy = self.board.size
        # Turned by pi about x: the plate's +z face (the textured top of a box) looks along
        # the tool's -z, away from the hand.
        plate = ET.SubElement(
            tool,
            "body",
            name="charuco_board",
            pos=fmt((self.mount.offset, 0.0, -self.mount.thickness / 2)),
            quat="0 1 0 0",
        )
        ET.SubElement(
            plate,
            "geom",
            name="charuco_plate",
            type="box",
            size=fmt((sx / 2, sy / 2, self.mount.thickness / 2)),
            material="charuco_mat",
            mass="0",
            contype="0",
            conaffinity="0",
            group="1",
        )
        return ET.tostring(root, encoding="unicode")

    def texture_size(self) -> tuple[int, int]:
        """Texture width and height (pixels)."""
        return self.board.squares_x * PX_PER_SQUARE, self.board.squares_y * PX_PER_SQUARE


class CalibrationRig:
    """The embedded Panda with the board, its camera, and the truth (the camera's pose).

    Implements :class:`~rt_grasp_ros.calibration.session.CalibrationRobot` (``move_to``,
    ``tcp_pose``) and :class:`~rt_grasp_ros.calibration.session.Camera` (``camera``,
    ``read``). ``camera`` carries only the intrinsics: the pose is what is calibrated.
    """

    def __init__(
        self,
        board: CharucoSpec | None = None,
        camera: CameraConfig | None = None,
        mount: BoardMount | None = None,
        settle: float = 0.6,
    ) -> None:
        base = generate_scene(0, SceneConfig(n_objects=0, camera=camera or CameraConfig()))
        self.spec = BoardSceneSpec(
            base.seed,
            base.config,
            base.objects,
            base.articulated,
            board or CharucoSpec(),
            mount or BoardMount(),
        )
        self.world = World(self.spec)
        self._paint_board()
        self.robot = SimRobot(self.world)
        self.settle = settle
        truth = self.spec.config.camera.camera()
        self.true_base_from_camera = truth.base_from_camera
        self.camera = PinholeCamera(
            truth.width,
            truth.height,
            truth.k,
            truth.d,
            truth.distortion_model,
            Pose(),
            truth.frame_id,
        )

    def _paint_board(self) -> None:
        """Write the board's image into the texture (before the renderer uploads it)."""
        mj, model = self.world.mj, self.world.model
        tex = mj.mj_name2id(model, mj.mjtObj.mjOBJ_TEXTURE, "charuco_tex")
        width, height = self.spec.texture_size()
        image = self.spec.board.image(PX_PER_SQUARE)
        channels = int(model.tex_nchannel[tex])
        start = int(model.tex_adr[tex])
        pixels = np.repeat(image[:, :, None], channels, axis=2).reshape(-1)
        model.tex_data[start : start + width * height * channels] = pixels

    @property
    def board_in_tcp(self) -> np.ndarray:
        """The board centre in the TCP frame (the nominal mount, as a ruler would give it)."""
        tcp_offset = self.world.tool.tcp_offset
        return np.array([self.spec.mount.offset, 0.0, -tcp_offset - self.spec.mount.thickness])

    def start_pose(self, distance: float = 0.33) -> Pose:
        """The TCP pose that puts the board's centre ``distance`` straight below the camera."""
        tcp = self.robot.tcp_pose()
        cam = self.spec.config.camera
        # the board centre on the camera's optical axis
        axis = np.subtract(cam.target, cam.position).astype(float)
        centre = np.asarray(cam.position, float) + distance * axis / np.linalg.norm(axis)
        return Pose(centre - tcp.rotation.apply(self.board_in_tcp), tcp.rotation)

    def move_to(self, pose: Pose) -> None:
        """Move the TCP there along a straight line and let it settle (the impedance arm)."""
        outcome = self.robot.move_to(pose, settle=self.settle)
        if not outcome.reached and outcome.position_error > 0.02:
            raise UnreachableError(
                f"the TCP stopped {outcome.position_error * 1000:.0f} mm from the pose"
            )

    def tcp_pose(self) -> Pose:
        """The measured TCP pose."""
        return self.robot.tcp_pose()

    def read(self, timeout: float = 1.0) -> RGBDFrame:
        """Render the scene camera."""
        return self.world.render()

    def close(self) -> None:
        """Release the renderer."""
        self.world.close()

    def __enter__(self) -> CalibrationRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pose_error(estimate: Pose, truth: Pose) -> tuple[float, float]:
    """Position (m) and rotation (deg) between a calibrated pose and the truth."""
    dp, dr = estimate.distance_to(truth)
    return dp, math.degrees(dr)
