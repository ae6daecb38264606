"""Contact poses from ManipLLM's chain of thought, placed in the base frame (ROS-free).

The contact path of the planner: a frame's image goes to
:class:`~rt_grasp_ros.manip.predictor.ContactPredictor` (category, affordance reasoning, pose),
and the contact pixel with its depth becomes the TCP pose at the contact in the base frame and
in the camera's optical frame (:meth:`~rt_grasp_ros.manip.contact.ContactPose.tcp_pose`,
:meth:`~rt_grasp_ros.manip.contact.ContactPose.tcp_pose_camera`). A contact that cannot be
placed (no pose in the answer, no depth at the pixel) is a result with a reason.

:class:`ContactModel` gives the predictor the ``session(image)`` of
:class:`~rt_grasp_ros.planning.sessions.SessionPlanner`, so refinement sessions work here as for
grasps: a follow-up re-asks the pose turn in the same conversation (:class:`ContactSession`)
and :func:`place_contact` places its new contact.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import WorkspaceCrop
from rt_grasp_ros.planning.limits import RequestError
from rt_grasp_ros.transforms import Pose

if TYPE_CHECKING:
    from rt_grasp_ros.manip.contact import ContactPose
    from rt_grasp_ros.manip.prediction import ContactPrediction
    from rt_grasp_ros.manip.predictor import ContactPredictor
    from rt_grasp_ros.planning.plan import PlanOptions


@dataclass(frozen=True)
class PlannedContact:
    """The model's contact pose placed in the base frame, with its chain of thought.

    Attributes:
        ok: whether ``pose`` holds a contact the robot can try.
        reason: why not, when not ``ok``.
        crop: the image the model was shown (its frame places the contact).
        prediction: the chain of thought's turns and the contact they end in.
        pose: the TCP at the contact, base frame (z = up, the approach; x = forward).
        pose_camera: the same TCP in the camera's optical frame.
        depth: depth at the contact pixel (m, NaN when none).
        timings: the model's timings plus ``total`` for the whole plan (s).
    """

    ok: bool
    reason: str
    crop: WorkspaceCrop
    prediction: ContactPrediction | None = None
    pose: Pose | None = None
    pose_camera: Pose | None = None
    depth: float = math.nan
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def contact(self) -> ContactPose | None:
        """The contact pose of the answer (pixel of ``crop.frame``, camera-frame directions)."""
        return self.prediction.contact if self.prediction is not None else None


def place_contact(
    prediction: ContactPrediction,
    crop: WorkspaceCrop,
    options: PlanOptions | None = None,
    start: float | None = None,
) -> PlannedContact:
    """Place the contact ``prediction`` ends in on ``crop``'s frame (base and camera frame).

    ``options`` is unused (a contact has no grasp geometry); it keeps the signature of
    :func:`~rt_grasp_ros.planning.plan.plan_from_prediction`, the grasp's placer.
    """
    del options
    timings = dict(prediction.timings)

    def done(**fields: Any) -> PlannedContact:
        if start is not None:
            timings["total"] = time.perf_counter() - start
        return PlannedContact(crop=crop, prediction=prediction, timings=timings, **fields)

    contact = prediction.contact
    if contact is None:
        return done(ok=False, reason=f"the model's answer has no contact pose: {prediction.error}")
    frame = crop.frame
    try:
        pose, pose_camera = contact.tcp_pose(frame), contact.tcp_pose_camera(frame)
    except RtGraspError as exc:
        return done(ok=False, reason=f"contact pixel ({contact.x:g}, {contact.y:g}): {exc}")
    depth = frame.depth_at(contact.x, contact.y)
    return done(ok=True, reason="", pose=pose, pose_camera=pose_camera, depth=depth)


class ContactSession:
    """One conversation about one image: the chain of thought, then follow-ups on its pose.

    ``turns`` counts the requests answered (the first chain of thought is one), which is what
    the planner's ``max_turns`` bounds.
    """

    def __init__(self, predictor: ContactPredictor, image: Any) -> None:
        self.predictor = predictor
        self.image = image
        self.turns: list[ContactPrediction] = []

    def ask(
        self, text: str | None = None, constrained: bool = True, **options: Any
    ) -> ContactPrediction:
        """The first call asks the chain of thought; later ones re-ask the pose turn with ``text``.

        Raises:
            RequestError: ``samples > 1`` (names the field): a contact is one greedy chain.
        """
        if options.get("samples", 1) > 1:
            raise RequestError(
                "samples",
                f"{options['samples']} sampled answers asked; contact poses are decoded "
                "greedily (one chain of thought): send 0 or 1",
            )
        if not self.turns:
            answer = self.predictor.predict(self.image, constrained=constrained)
        else:
            answer = self.predictor.follow_up(
                self.image, self.turns[-1], text or "", constrained=constrained
            )
        self.turns.append(answer)
        return answer


class ContactModel:
    """A :class:`ContactPredictor` as the session planner's model: ``session(image)``.

    The instruction of a new session is not put into the chain of thought: ManipLLM's prompts
    are fixed (category, affordance, pose), and the category comes from the image.
    """

    def __init__(self, predictor: ContactPredictor) -> None:
        self.predictor = predictor
        # the session planner counts an instruction's tokens with this backbone's tokenizer
        self.backbone = getattr(predictor.predictor, "backbone", None)

    def session(self, image: Any) -> ContactSession:
        """A new conversation about ``image``."""
        return ContactSession(self.predictor, image)


def load_contact_model(
    model: str, cot: bool = True, dtype: str = "auto", merge_adapter: bool = False
) -> ContactModel:
    """Load ``model`` (a checkpoint folder, ``manip-default`` or a hub id) as the planner's.

    Through :meth:`~rt_grasp_ros.vlm.predictor.GraspPredictor.from_pretrained`, given the
    default grasp answer format: a ManipLLM checkpoint records ``manipllm``, which is no grasp
    format, and the contact turns are read by their own specs.
    """
    from rt_grasp_ros.manip.predictor import ContactPredictor
    from rt_grasp_ros.prompts.formats import AnswerFormat
    from rt_grasp_ros.vlm.predictor import GraspPredictor

    grasp = GraspPredictor.from_pretrained(
        model, dtype=dtype, merge_adapter=merge_adapter, answer_format=AnswerFormat.RT
    )
    return ContactModel(ContactPredictor(grasp, cot=cot))
