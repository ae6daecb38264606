"""A picture of a contact policy's answers: contact points and gripper directions per scene.

Per category, the scene's randomised view with the moving part outlined, the policy's contact
pixel (green on the moving part, red off it), the pull direction (-up, the direction the cup
pulls first, yellow) and the gripper's forward direction (cyan), both drawn 8 cm long from the
back-projected contact; the oracle's contact pixel in white for reference. The caption names
the category the model's chain of thought named.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.manip.policies import ModelPolicy, make_policy, object_masks, oracle_policy
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.manip.trial import on_movable_part
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim.articulated import CATEGORIES
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.viz.overlay import put_caption, tile

ARROW_M = 0.08  # drawn length of the directions (m)


def _pixel(frame: RGBDFrame, point: np.ndarray) -> tuple[int, int]:
    (uv,), _ = frame.camera.project(point[None])
    return round(float(uv[0])), round(float(uv[1]))


def draw_contact(image: np.ndarray, frame: RGBDFrame, contact: ContactPose, on_part: bool) -> None:
    """Draw ``contact``'s pixel and, where its pixel has depth, its pull and forward arrows."""
    at = (round(contact.x), round(contact.y))
    try:
        point = contact.point(frame)
    except RtGraspError:  # no depth at the pixel: the point alone
        point = None
    if point is not None:
        pull = -contact.up_base(frame.camera)
        for direction, colour in (
            (pull, (255, 220, 0)),
            (contact.forward_base(frame.camera), (0, 220, 255)),
        ):
            cv2.arrowedLine(
                image, at, _pixel(frame, point + ARROW_M * direction), colour, 2, tipLength=0.25
            )
    cv2.circle(image, at, 6, (0, 200, 0) if on_part else (230, 0, 0), -1)
    cv2.circle(image, at, 6, (0, 0, 0), 1)


def contact_tile(policy: str, category: str, seed: int, size: int) -> np.ndarray:
    """One scene as the evaluation shows it: the policy's contact and the oracle's pixel."""
    question = load_task_formats().pose.questions[0]
    with World(manip_scene(seed, category)) as world:
        SimRobot(world).wait(0.3)
        frame = world.render(segmentation=True)
        rng = np.random.default_rng([seed, 13])
        image = frame.rgb.copy()
        _, movable = object_masks(world, frame)
        outline, _ = cv2.findContours(
            movable.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        cv2.drawContours(image, outline, -1, (255, 255, 255), 1)
        truth = oracle_policy(world, rng)(frame, question)
        cv2.drawMarker(
            image, (int(truth.x), int(truth.y)), (255, 255, 255), cv2.MARKER_CROSS, 14, 2
        )
        chosen = make_policy(policy)(world, rng)
        caption = CATEGORIES[category].display
        try:
            contact = chosen(frame, question)
            draw_contact(
                image, frame, contact, on_movable_part(world, frame, contact.x, contact.y)
            )
        except RtGraspError:
            caption += ": no contact"
        if isinstance(chosen, ModelPolicy) and chosen.last is not None:
            caption += f' (named "{chosen.last.named_category}")'
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    put_caption(image, caption)
    return image


def render_contacts(
    out: Path,
    policy: str,
    categories: tuple[str, ...],
    seed: int,
    size: int = 224,
    columns: int = 5,
) -> Path:
    """Write the grid of :func:`contact_tile` (seeds ``seed, seed + 1, ...``); its path.

    Raises:
        ConfigError: an unknown category.
    """
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown or not categories:
        raise ConfigError(f"render: unknown categories {unknown} or none given")
    tiles = [contact_tile(policy, c, seed + k, size) for k, c in enumerate(categories)]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(tile(tiles, columns)).quantize(
        colors=192, method=Image.Quantize.MEDIANCUT
    ).save(out, optimize=True)
    return out
