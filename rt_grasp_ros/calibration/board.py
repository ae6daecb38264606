"""The ChArUco calibration board: its layout, its image, and its pose in a camera image.

Detection is OpenCV's (``cv2.aruco.CharucoDetector``: markers, then the chessboard corners
between them, refined to sub-pixel); the pose is ``cv2.solvePnP`` on the detected corners
(IPPE for a plane, then Levenberg-Marquardt). The board frame is OpenCV's: the origin at the
top-left corner of the board's image (:meth:`CharucoSpec.image`), x to the right, y down, z into
the board (away from someone looking at the printed side), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.perception.camera import PinholeCamera
from rt_grasp_ros.transforms import Pose

MIN_CORNERS = 6  # chessboard corners for a pose (4 suffice for PnP; 6 keep it well posed)


@dataclass(frozen=True)
class CharucoSpec:
    """A ChArUco board: squares along x and y, square and marker side (m), ArUco dictionary.

    The default (5x5 squares of 25 mm, 18 mm markers, DICT_5X5_100) is 125 mm square: it fits
    on a Franka flange plate and fills a quarter of a D435's view from 0.35 m.
    """

    squares_x: int = 5
    squares_y: int = 5
    square: float = 0.025
    marker: float = 0.018
    dictionary: str = "DICT_5X5_100"

    def __post_init__(self) -> None:
        if self.squares_x < 3 or self.squares_y < 3:
            raise ConfigError(
                f"a ChArUco board needs at least 3x3 squares, got {self.squares_x}x"
                f"{self.squares_y}"
            )
        if not 0 < self.marker < self.square:
            raise ConfigError(
                f"ChArUco marker side {self.marker} m must be > 0 and below the square side "
                f"{self.square} m"
            )
        if not self.dictionary.startswith("DICT_") or not hasattr(cv2.aruco, self.dictionary):
            known = sorted(n for n in dir(cv2.aruco) if n.startswith("DICT_"))
            raise ConfigError(
                f"unknown ArUco dictionary {self.dictionary!r}; known: {', '.join(known)}"
            )

    @property
    def size(self) -> tuple[float, float]:
        """Board width and height (m)."""
        return self.squares_x * self.square, self.squares_y * self.square

    def board(self) -> cv2.aruco.CharucoBoard:
        """The OpenCV board."""
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard(
            (self.squares_x, self.squares_y), self.square, self.marker, dictionary
        )

    def image(self, px_per_square: int = 200) -> np.ndarray:
        """The board as a grey image without margin, ``px_per_square`` pixels a square."""
        size = (self.squares_x * px_per_square, self.squares_y * px_per_square)
        return self.board().generateImage(size, marginSize=0, borderBits=1)


@dataclass(frozen=True)
class BoardObservation:
    """The board seen in one image.

    Attributes:
        camera_from_board: the board frame in the camera's optical frame.
        ids: the chessboard corners found (board corner ids), (N,).
        image_points: their pixels, OpenCV convention (pixel centres at integers), (N, 2).
        object_points: their positions in the board frame (m), (N, 3).
        rms_px: reprojection error of the pose (pixels).
    """

    camera_from_board: Pose
    ids: np.ndarray
    image_points: np.ndarray
    object_points: np.ndarray
    rms_px: float


def opencv_intrinsics(camera: PinholeCamera) -> tuple[np.ndarray, np.ndarray]:
    """The camera matrix in OpenCV's pixel convention (centres at integers) and distortion."""
    k = camera.k.copy()
    k[0, 2] -= 0.5
    k[1, 2] -= 0.5
    d = camera.d if camera.d.size else np.zeros(5)
    return k, d


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    raise ConfigError(f"expected a grey or RGB image, got shape {image.shape}")


def detect_board(
    image: np.ndarray,
    camera: PinholeCamera,
    spec: CharucoSpec | None = None,
    min_corners: int = MIN_CORNERS,
) -> BoardObservation | None:
    """Find the board in ``image`` (RGB or grey) and its pose; None if too few corners show."""
    spec = spec or CharucoSpec()
    board = spec.board()
    gray = _gray(image)
    corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(gray)
    if ids is None or len(ids) < min_corners:
        return None
    object_points, image_points = board.matchImagePoints(corners, ids)
    object_points = object_points.reshape(-1, 3).astype(np.float64)
    image_points = image_points.reshape(-1, 2).astype(np.float64)
    k, d = opencv_intrinsics(camera)
    ok, rvec, tvec = cv2.solvePnP(object_points, image_points, k, d, flags=cv2.SOLVEPNP_IPPE)
    if not ok:
        return None
    rvec, tvec = cv2.solvePnPRefineLM(object_points, image_points, k, d, rvec, tvec)
    projected, _ = cv2.projectPoints(object_points, rvec, tvec, k, d)
    rms = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - image_points) ** 2, axis=1))))
    rotation = cv2.Rodrigues(rvec)[0]
    return BoardObservation(
        Pose.from_rotation_matrix(tvec.reshape(3), rotation),
        ids.reshape(-1).astype(int),
        image_points,
        object_points,
        rms,
    )
