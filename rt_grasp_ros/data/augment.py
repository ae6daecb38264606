"""Augmentation applied consistently to image, depth and rectangles.

An :class:`Augmentation` is a similarity transform (rotation about the grasp region, zoom,
shift that moves the crop window, optional horizontal flip) that keeps the image size. It is
drawn deterministically from ``(seed, sample id, index)``, so a built dataset can store the
parameters and render the image on the fly, in any order or process, bit for bit.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.rectangle import GraspRectangle

MAX_TRIES = 20


@dataclass(frozen=True)
class AugmentationConfig:
    """Ranges the augmentation parameters are drawn from.

    Attributes:
        max_rotation_deg: rotations are uniform in [-max, max] degrees.
        min_zoom: smallest scale factor (< 1 zooms out).
        max_zoom: largest scale factor.
        max_shift: largest shift of the crop window, as a fraction of the image size.
        flip: whether half of the samples are mirrored horizontally.
    """

    max_rotation_deg: float = 180.0
    min_zoom: float = 0.8
    max_zoom: float = 1.25
    max_shift: float = 0.1
    flip: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.max_rotation_deg <= 180:
            raise ConfigError(f"max_rotation_deg must be in [0, 180], got {self.max_rotation_deg}")
        if not 0 < self.min_zoom <= self.max_zoom:
            raise ConfigError(
                f"need 0 < min_zoom <= max_zoom, got {self.min_zoom} and {self.max_zoom}"
            )
        if not 0 <= self.max_shift < 0.5:
            raise ConfigError(f"max_shift must be in [0, 0.5), got {self.max_shift}")


@dataclass(frozen=True)
class Augmentation:
    """One concrete transform. ``pivot`` and ``shift`` are pixels of the source image."""

    rotation_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    flip: bool = False
    pivot: tuple[float, float] = (0.0, 0.0)

    def matrix(self, image_size: tuple[int, int]) -> np.ndarray:
        """The ``2x3`` affine map from source to augmented pixels (OpenCV conventions)."""
        # OpenCV: a positive angle turns the image counter-clockwise on screen.
        m = cv2.getRotationMatrix2D(self.pivot, self.rotation_deg, self.scale)
        m[:, 2] += self.shift
        if self.flip:
            width = image_size[0]
            flip = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            m = (flip @ np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
        return m

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        d = asdict(self)
        d["shift"] = list(self.shift)
        d["pivot"] = list(self.pivot)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Augmentation:
        """Inverse of :meth:`to_dict`; raises ValueError naming an unknown or missing key."""
        expected = {"rotation_deg", "scale", "shift", "flip", "pivot"}
        if set(data) != expected:
            raise ValueError(f"augmentation needs keys {sorted(expected)}, got {sorted(data)}")
        return cls(
            rotation_deg=float(data["rotation_deg"]),
            scale=float(data["scale"]),
            shift=(float(data["shift"][0]), float(data["shift"][1])),
            flip=bool(data["flip"]),
            pivot=(float(data["pivot"][0]), float(data["pivot"][1])),
        )


def augmentation_rng(seed: int, sample_id: str, index: int) -> np.random.Generator:
    """A generator that depends only on the seed, the sample and the augmentation index."""
    return np.random.default_rng([seed, zlib.crc32(sample_id.encode()), index])


def transform_rectangles(
    rectangles: tuple[GraspRectangle, ...] | list[GraspRectangle],
    aug: Augmentation,
    image_size: tuple[int, int],
) -> list[GraspRectangle]:
    """Transformed rectangles whose centre stays inside the image."""
    width, height = image_size
    m = aug.matrix(image_size)
    out = []
    for rect in rectangles:
        moved = rect.transformed(m)
        cx, cy = moved.center
        if 0 <= cx < width and 0 <= cy < height:
            out.append(moved)
    return out


def sample_augmentation(
    rng: np.random.Generator, sample: GraspSample, config: AugmentationConfig
) -> Augmentation:
    """Draw a transform that keeps at least one grasp centre inside the image.

    Falls back to the identity after a few tries (rare: only with extreme shifts).
    """
    width, height = sample.image_size
    centres = sample.corners.mean(axis=1)
    pivot = (round(float(centres[:, 0].mean()), 3), round(float(centres[:, 1].mean()), 3))
    for _ in range(MAX_TRIES):
        aug = Augmentation(
            rotation_deg=round(float(rng.uniform(-1, 1) * config.max_rotation_deg), 3),
            scale=round(
                float(np.exp(rng.uniform(np.log(config.min_zoom), np.log(config.max_zoom)))), 4
            ),
            shift=(
                round(float(rng.uniform(-1, 1) * config.max_shift * width), 2),
                round(float(rng.uniform(-1, 1) * config.max_shift * height), 2),
            ),
            flip=bool(config.flip and rng.random() < 0.5),
            pivot=pivot,
        )
        if transform_rectangles(sample.rectangles, aug, sample.image_size):
            return aug
    return Augmentation(pivot=pivot)


def warp_image(image: np.ndarray, aug: Augmentation, nearest: bool = False) -> np.ndarray:
    """Apply ``aug`` to an image or depth map, keeping its size."""
    height, width = image.shape[:2]
    return cv2.warpAffine(
        image,
        aug.matrix((width, height)),
        (width, height),
        flags=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )


def augment_sample(
    sample: GraspSample, aug: Augmentation, with_depth: bool = False
) -> tuple[np.ndarray, np.ndarray | None, list[GraspRectangle]]:
    """Render the augmented RGB image, depth (if asked and present) and rectangles."""
    rgb = warp_image(sample.load_image(), aug)
    depth = sample.load_depth() if with_depth else None
    if depth is not None:
        depth = warp_image(depth, aug, nearest=True)
    return rgb, depth, transform_rectangles(sample.rectangles, aug, sample.image_size)
