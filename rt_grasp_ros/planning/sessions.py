"""A grasp planner with refinement sessions: what the /plan_grasp service serves, ROS-free.

Every request is checked against :class:`~rt_grasp_ros.planning.limits.PlannerLimits` before
the model sees it (a bad field raises RequestError naming it); sessions are bounded in number
(least recently used evicted) and in turns.
"""

from __future__ import annotations

import inspect
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import WorkspaceCrop
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.contact import PlannedContact
from rt_grasp_ros.planning.limits import Decoding, PlannerLimits, RequestError, Sampling
from rt_grasp_ros.planning.plan import CropSpec, PlannedGrasp, PlanOptions, plan_from_prediction

Placer = Callable[[Any, WorkspaceCrop, PlanOptions, float], PlannedGrasp | PlannedContact]
"""Places a model's answer on its crop: ``plan_from_prediction`` (grasps), ``place_contact``."""


@dataclass(frozen=True)
class PlanRequest:
    """One request: a new instruction, or a follow-up in an earlier session.

    ``samples`` 0 or 1, ``temperature`` 0 and ``top_p`` 0 mean the planner's defaults, as do
    ``Decoding.DEFAULT`` (the planner's ``decoding``).
    """

    instruction: str = ""
    session_id: str = ""
    follow_up: str = ""
    decoding: Decoding = Decoding.DEFAULT
    samples: int = 1
    temperature: float = 0.0
    top_p: float = 0.0


@dataclass(frozen=True)
class SessionAnswer:
    """A request's plan, the session it belongs to and a note for the caller ('' if none)."""

    plan: PlannedGrasp | PlannedContact
    session_id: str
    note: str = ""


def token_counter(predictor: Any) -> Callable[[str], int] | None:
    """Count tokens with the predictor's tokenizer (``backbone.processor.tokenizer``), if any."""
    processor = getattr(getattr(predictor, "backbone", None), "processor", None)
    tokenizer = getattr(processor, "tokenizer", processor)
    if tokenizer is None or not callable(tokenizer):
        return None
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def accepts(function: Any, name: str) -> bool:
    """Whether ``function`` takes a keyword argument ``name`` (or any, via ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


class SessionPlanner:
    """Plans grasps on frames; a follow-up continues the conversation about the same crop.

    Args:
        predictor: the model (``GraspPredictor`` or anything with ``session(image)``).
        options: how grasps are planned (crop, gripper, geometry).
        limits: the request bounds and decoding defaults.
        whole_frame: plan on the whole frame (it is already the workspace crop) instead of
            ``options.crop``.
        count_tokens: tokens of a text; default: the predictor's tokenizer, when it has one.
        place: places an answer on its crop: grasps (default) or contact poses
            (:func:`~rt_grasp_ros.planning.contact.place_contact` with a
            :class:`~rt_grasp_ros.planning.contact.ContactModel`).
    """

    def __init__(
        self,
        predictor: Any,
        options: PlanOptions | None = None,
        limits: PlannerLimits | None = None,
        whole_frame: bool = False,
        count_tokens: Callable[[str], int] | None = None,
        place: Placer = plan_from_prediction,
    ) -> None:
        self.predictor = predictor
        self.place = place
        self.options = options or PlanOptions()
        self.limits = limits or PlannerLimits()
        self.whole_frame = whole_frame
        self.count_tokens = count_tokens or token_counter(predictor)
        # nucleus sampling is passed on only where the model's predict takes it
        self.top_p_supported = accepts(getattr(predictor, "predict", None), "top_p")
        self._sessions: OrderedDict[str, tuple[Any, WorkspaceCrop]] = OrderedDict()
        self._evicted: deque[str] = deque(maxlen=4 * self.limits.max_sessions)
        self._ids = itertools.count(1)

    @property
    def session_ids(self) -> list[str]:
        """The live sessions, least recently used first."""
        return list(self._sessions)

    def plan(self, frame: RGBDFrame | None, request: PlanRequest) -> SessionAnswer:
        """Answer ``request``.

        Raises:
            RequestError: a field is out of its bound (the message names it), a follow-up
                names an unknown or evicted session, or its session has no turn left.
            RtGraspError: no frame is given for a new instruction.
        """
        start = time.perf_counter()  # the plan's ``total`` covers cropping and geometry too
        sampling = self.limits.sampling(
            request.decoding, request.samples, request.temperature, request.top_p
        )
        if request.follow_up:
            self.limits.check_text("follow_up", request.follow_up, self.count_tokens)
            session, crop = self._session(request.session_id)
            prediction = session.ask(request.follow_up, **self._predict_options(sampling))
            return self._answer(
                self.place(prediction, crop, self._options(sampling), start),
                request.session_id,
                sampling,
            )
        self.limits.check_text("instruction", request.instruction, self.count_tokens)
        if frame is None:
            raise RtGraspError(
                "no image: the request has none and no camera crop (crop/color, crop/depth, "
                "crop/camera_info of one stamp) has arrived yet"
            )
        crop = (whole_image(frame) if self.whole_frame else self.options.crop).apply(frame)
        session = self.predictor.session(crop.frame.rgb)
        prediction = session.ask(request.instruction or None, **self._predict_options(sampling))
        session_id = f"s{next(self._ids)}"
        self._sessions[session_id] = (session, crop)
        while len(self._sessions) > self.limits.max_sessions:
            evicted, _ = self._sessions.popitem(last=False)
            self._evicted.append(evicted)
        return self._answer(
            self.place(prediction, crop, self._options(sampling), start),
            session_id,
            sampling,
        )

    def lookup(self, session_id: str) -> tuple[Any, WorkspaceCrop]:
        """The conversation of session ``session_id`` and the crop it is about.

        Raises:
            RequestError: the session is unknown or was evicted (names ``session_id``).
        """
        if session_id not in self._sessions:
            why = (
                f"was evicted (at most max_sessions={self.limits.max_sessions} sessions are "
                "kept, the least recently used goes first)"
                if session_id in self._evicted
                else "is unknown (expired or never started)"
            )
            raise RequestError(
                "session_id",
                f"{session_id!r} {why}; send an instruction to start a new session",
            )
        return self._sessions[session_id]

    def _session(self, session_id: str) -> tuple[Any, WorkspaceCrop]:
        session, crop = self.lookup(session_id)
        turns = len(getattr(session, "turns", ()))
        if turns >= self.limits.max_turns:
            raise RequestError(
                "follow_up",
                f"session {session_id!r} already has {turns} turns, the most max_turns="
                f"{self.limits.max_turns} allows; send an instruction to start a new session",
            )
        self._sessions.move_to_end(session_id)
        return session, crop

    def _options(self, sampling: Sampling) -> PlanOptions:
        return replace(
            self.options,
            constrained=sampling.constrained,
            samples=sampling.samples,
            temperature=sampling.temperature,
        )

    def _predict_options(self, sampling: Sampling) -> dict[str, Any]:
        options: dict[str, Any] = {"constrained": sampling.constrained}
        if sampling.samples > 1:
            options.update(samples=sampling.samples, temperature=sampling.temperature)
            if self.top_p_supported:
                options["top_p"] = sampling.top_p
        return options

    def _answer(
        self, plan: PlannedGrasp | PlannedContact, session_id: str, sampling: Sampling
    ) -> SessionAnswer:
        note = ""
        if sampling.samples > 1 and sampling.top_p < 1.0 and not self.top_p_supported:
            note = f"top_p={sampling.top_p:g} ignored: this model's predictor has no top_p"
        return SessionAnswer(plan, session_id, note)


def whole_image(frame: RGBDFrame) -> CropSpec:
    """A crop spec covering a frame that is already the workspace crop."""
    size = min(frame.camera.width, frame.camera.height)
    return CropSpec(size)
