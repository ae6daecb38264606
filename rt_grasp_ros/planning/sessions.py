"""A grasp planner with refinement sessions: what the /plan_grasp service serves, ROS-free."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import WorkspaceCrop
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.plan import CropSpec, PlannedGrasp, PlanOptions, plan_from_prediction

MAX_SESSIONS = 32


@dataclass(frozen=True)
class PlanRequest:
    """One request: a new instruction, or a follow-up in an earlier session."""

    instruction: str = ""
    session_id: str = ""
    follow_up: str = ""
    constrained: bool = True
    samples: int = 1
    temperature: float = 0.0


class SessionPlanner:
    """Plans grasps on frames; a follow-up continues the conversation about the same crop.

    Sessions are kept for the ``MAX_SESSIONS`` most recent conversations.
    """

    def __init__(self, predictor: Any, options: PlanOptions | None = None) -> None:
        self.predictor = predictor
        self.options = options or PlanOptions()
        self._sessions: OrderedDict[str, tuple[Any, WorkspaceCrop]] = OrderedDict()
        self._ids = itertools.count(1)

    def plan(self, frame: RGBDFrame | None, request: PlanRequest) -> tuple[PlannedGrasp, str]:
        """Answer ``request``; returns the plan and the session id to pass back.

        Raises:
            RtGraspError: a follow-up names an unknown session, or no frame is given for a
                new instruction.
        """
        start = time.perf_counter()  # the plan's ``total`` covers cropping and geometry too
        options = replace(
            self.options,
            constrained=request.constrained,
            samples=max(1, request.samples),
            temperature=request.temperature or self.options.temperature,
        )
        if request.follow_up:
            if request.session_id not in self._sessions:
                raise RtGraspError(
                    f"session_id {request.session_id!r} is unknown (expired or never started); "
                    "send an instruction to start a new session"
                )
            session, crop = self._sessions[request.session_id]
            self._sessions.move_to_end(request.session_id)
            prediction = session.ask(request.follow_up, constrained=options.constrained)
            return plan_from_prediction(prediction, crop, options, start), request.session_id
        if frame is None:
            raise RtGraspError("no image: none was given and no camera crop has arrived yet")
        crop = options.crop.apply(frame)
        session = self.predictor.session(crop.frame.rgb)
        prediction = session.ask(
            request.instruction or None,
            constrained=options.constrained,
            samples=options.samples,
            temperature=options.temperature,
        )
        session_id = f"s{next(self._ids)}"
        self._sessions[session_id] = (session, crop)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return plan_from_prediction(prediction, crop, options, start), session_id


def whole_image(frame: RGBDFrame) -> CropSpec:
    """A crop spec covering a frame that is already the workspace crop."""
    size = min(frame.camera.width, frame.camera.height)
    return CropSpec(size)
