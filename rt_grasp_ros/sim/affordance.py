"""ManipLLM-style affordance maps of articulated objects.

For every pixel on the moving part, the 3D surface point it sees is moved by a small joint
motion; the map holds the displacement's direction (unit 3D vector) and its length D normalised
over the part's pixels, A = (D - min(D)) / (max(D) - min(D)) (ManipLLM, Eq. 1). The paper
prints the denominator only, A = D / |max(D) - min(D)|, but says A lies in [0, 1] and its
released code subtracts the minimum, as here. A prismatic part is 1 everywhere; a revolute part
grows from 0 at the visible point nearest its axis to 1 at the farthest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.frame import RGBDFrame


@dataclass(frozen=True)
class AffordanceMap:
    """Per-pixel affordance of the articulated object's moving part.

    Attributes:
        magnitude: ``(H, W)`` float32 in [0, 1]; 0 off the moving part.
        direction: ``(H, W, 3)`` float32 unit displacement directions (base frame); 0 off it.
        movable: ``(H, W)`` bool, pixels that see the moving part.
    """

    magnitude: np.ndarray
    direction: np.ndarray
    movable: np.ndarray

    def sample(
        self, n: int, rng: np.random.Generator, high: float = 0.8, low: float = 0.2
    ) -> tuple[np.ndarray, np.ndarray]:
        """ManipLLM's training pixels: up to ``n`` with A > ``high`` and ``n`` with A < ``low``.

        Returns ``(positives, negatives)`` as ``(k, 2)`` arrays of pixel centres ``(u, v)``.
        Negatives are drawn from the object's other pixels and from the part near its axis.
        """
        pos = np.argwhere(self.movable & (self.magnitude > high))
        neg = np.argwhere(~self.movable | (self.magnitude < low))

        def pick(idx: np.ndarray) -> np.ndarray:
            if not len(idx):
                return idx
            return idx[rng.choice(len(idx), min(n, len(idx)), replace=False)]

        def to_uv(rc: np.ndarray) -> np.ndarray:
            return rc[:, ::-1].astype(float) + 0.5

        return to_uv(pick(pos)), to_uv(pick(neg))


def affordance_map(world: object, frame: RGBDFrame, delta: float = 1e-3) -> AffordanceMap:
    """Affordance of ``world``'s articulated part in ``frame`` (rendered with segmentation).

    Raises:
        RtGraspError: the scene has no articulated object, or the frame has no segmentation.
    """
    spec = world.spec.articulated
    if spec is None:
        raise RtGraspError("affordance maps need a scene with an articulated object")
    if frame.segmentation is None:
        raise RtGraspError("render the frame with segmentation=True to compute an affordance map")
    seg = frame.segmentation
    bodies = np.where(seg >= 0, world.model.geom_bodyid[np.maximum(seg, 0)], -1)
    movable = bodies == world.part_body
    h, w = seg.shape
    magnitude = np.zeros((h, w), np.float32)
    direction = np.zeros((h, w, 3), np.float32)
    if movable.any():
        rows, cols = np.nonzero(movable)
        uv = np.column_stack([cols + 0.5, rows + 0.5])
        points = frame.camera.back_project(uv, frame.depth[rows, cols])
        axis = world.data.xaxis[world.part_joint].copy()
        if spec.joint_type == "slide":
            disp = np.broadcast_to(axis * delta, points.shape)
        else:
            anchor = world.data.xanchor[world.part_joint]
            disp = np.cross(axis, points - anchor) * delta
        length = np.linalg.norm(disp, axis=1)
        direction[rows, cols] = disp / np.maximum(length, 1e-12)[:, None]
        magnitude[rows, cols] = length
        low, span = length.min(), length.max() - length.min()
        if span > 1e-9 * max(length.max(), 1e-12):
            magnitude[rows, cols] = (length - low) / span
        else:
            magnitude = movable.astype(np.float32)
    return AffordanceMap(magnitude.astype(np.float32), direction, movable)
