"""The refinement panel's state, ROS-free: the conversation, the grasp shown, the buttons.

A bridge (:mod:`rt_grasp_ros.ros.panel_bridge`, or a test's stand-in) turns what the stack
answers into the events below; :meth:`PanelState.apply` folds each into the state the widget
draws. Nothing here blocks or imports Qt or ROS.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The executor's stages, in order (rt_grasp/action/ExecuteGrasp feedback.stage).
STAGES = ("open", "pre_grasp", "approach", "close", "lift", "hold", "release", "retreat")


@dataclass(frozen=True)
class GraspView:
    """A grasp as the panel shows it (from a /plan_grasp answer or grasp_planner/grasp).

    Attributes:
        x, y: grasp centre normalised on the crop the model saw (ImageGrasp x, y).
        theta: opening-axis angle, radians, counter-clockwise on screen.
        u, v: the centre in the full camera image (pixels), -1 when unknown.
        width_px: the opening in full-image pixels (0: none given, or suction).
        width: the opening in metres.
        position: the TCP position in ``frame_id`` (metres).
        frame_id: the base frame of the pose.
        reasoning, answer: the model's reasoning and raw answer.
        message: the rt_grasp/Grasp message itself, handed back to execute it (opaque here).
    """

    x: float
    y: float
    theta: float
    u: float = -1.0
    v: float = -1.0
    width_px: float = 0.0
    width: float = 0.0
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    frame_id: str = ""
    reasoning: str = ""
    answer: str = ""
    message: Any = field(default=None, compare=False, repr=False)

    def key(self) -> tuple:
        """What identifies this grasp (the same answer on the same image)."""
        return (round(self.x, 6), round(self.y, 6), round(self.theta, 6), self.answer)

    def summary(self) -> str:
        """One line: image centre and angle, TCP position and opening."""
        p = self.position
        return (
            f"x={self.x:.3f} y={self.y:.3f} theta={math.degrees(self.theta):.0f} deg; "
            f"TCP ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) m in {self.frame_id or '?'}, "
            f"width {self.width * 1000:.0f} mm"
        )


@dataclass(frozen=True)
class CropImage:
    """The latest workspace crop (crop/color with its crop/camera_info).

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        origin: the crop's top-left pixel in the full image (camera_info roi offset).
        roi_size: the crop's size in the full image (roi width, height); ``(0, 0)`` if unknown.
    """

    rgb: np.ndarray
    origin: tuple[int, int] = (0, 0)
    roi_size: tuple[int, int] = (0, 0)


# --- events: what the bridge reports (from any thread; the widget applies them in its own) ---


@dataclass(frozen=True)
class PlanAnswered:
    """/plan_grasp answered a request of ``kind`` ("plan" or "follow_up")."""

    kind: str
    success: bool
    message: str
    session_id: str
    grasp: GraspView | None
    reasoning: str = ""
    answer: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class GraspPublished:
    """A grasp arrived on grasp_planner/grasp (the panel's own, or one planned elsewhere)."""

    grasp: GraspView


@dataclass(frozen=True)
class StageReached:
    """The executor reported a stage (ExecuteGrasp feedback)."""

    stage: str


@dataclass(frozen=True)
class ExecutionFinished:
    """/execute_grasp ended (its result)."""

    success: bool
    failure: str
    message: str
    stage: str


@dataclass(frozen=True)
class StackError:
    """A request could not be made or got no answer: ``what`` failed, ``message`` says why."""

    what: str
    message: str


@dataclass(frozen=True)
class PlannerState:
    """The planner's latched status (grasp_planner/status): LOADING, READY or FAILED."""

    state: str
    message: str


@dataclass(frozen=True)
class CropArrived:
    """A new workspace crop."""

    crop: CropImage


@dataclass(frozen=True)
class Turn:
    """One line of the conversation.

    ``role``: instruction, follow_up, reasoning, answer, grasp, external, stage, result, error.
    """

    role: str
    text: str


ROLE_LABELS = {
    "instruction": "You",
    "follow_up": "You (follow-up)",
    "reasoning": "Model reasoning",
    "answer": "Model answer",
    "grasp": "Grasp",
    "external": "From grasp_planner/grasp",
    "stage": "Executor",
    "result": "Result",
    "error": "Error",
}
ROLE_COLOURS = {"error": "#c0392b", "result": "#1e7b34", "external": "#7d3c98"}


class PanelState:
    """The conversation so far, the grasp shown and what is in flight.

    ``busy`` is None or the request in flight ("plan", "follow_up", "execute"); one at a time.
    Grasps published on grasp_planner/grasp that are the panel's own answers are shown once:
    while a plan request is in flight they wait until its answer came.
    """

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.session_id = ""
        self.grasp: GraspView | None = None
        self.crop: CropImage | None = None
        self.busy: str | None = None
        self.stages: list[str] = []
        self.result: ExecutionFinished | None = None
        self.error = ""
        self.planner = PlannerState("UNKNOWN", "no status on grasp_planner/status yet")
        self.revision = 0  # bumped by every change the widget must redraw
        self._seen: set[tuple] = set()
        self._held: list[GraspView] = []

    # --- what the buttons may do ---

    def can_plan(self) -> bool:
        """Plan (a new session) is possible when nothing is in flight."""
        return self.busy is None

    def can_refine(self, text: str) -> bool:
        """Refine needs a session, a follow-up text and nothing in flight."""
        return self.busy is None and bool(self.session_id) and bool(text.strip())

    def can_execute(self) -> bool:
        """Execute needs a grasp with its message and nothing in flight."""
        return self.busy is None and self.grasp is not None and self.grasp.message is not None

    # --- requests the panel starts ---

    def start_plan(self, instruction: str) -> None:
        """A new session with ``instruction`` (empty: the model's default prompt)."""
        self._begin("plan")
        self.turns.append(Turn("instruction", instruction.strip() or "(the model's default)"))

    def start_follow_up(self, text: str) -> None:
        """A follow-up in the current session."""
        if not self.session_id:
            raise ValueError("a follow-up needs a session: plan first")
        self._begin("follow_up")
        self.turns.append(Turn("follow_up", text.strip()))

    def start_execute(self) -> None:
        """Execute the grasp shown."""
        if self.grasp is None:
            raise ValueError("no grasp to execute: plan first")
        self._begin("execute")
        self.stages = []
        self.result = None

    def _begin(self, kind: str) -> None:
        if self.busy is not None:
            raise ValueError(f"{self.busy} is still in flight")
        self.busy = kind
        self.error = ""
        self.revision += 1

    # --- what the stack answers ---

    def apply(self, event: Any) -> None:
        """Fold one bridge event into the state."""
        handler = {
            PlanAnswered: self._on_plan,
            GraspPublished: self._on_published,
            StageReached: self._on_stage,
            ExecutionFinished: self._on_finished,
            StackError: self._on_error,
            PlannerState: self._on_planner,
            CropArrived: self._on_crop,
        }.get(type(event))
        if handler is None:
            raise TypeError(f"unknown panel event {event!r}")
        handler(event)
        self.revision += 1

    def _on_plan(self, event: PlanAnswered) -> None:
        if self.busy in ("plan", "follow_up"):
            self.busy = None
        if event.session_id:
            self.session_id = event.session_id
        reasoning = event.reasoning or (event.grasp.reasoning if event.grasp else "")
        if reasoning:
            self.turns.append(Turn("reasoning", reasoning))
        if event.success and event.grasp is not None:
            self._show(event.grasp)
            self.turns.append(Turn("grasp", f"{event.grasp.summary()} ({event.seconds:.1f} s)"))
        else:
            if event.answer:
                self.turns.append(Turn("answer", event.answer))
            self._fail(f"/plan_grasp: no grasp: {event.message or 'no reason given'}")
        held, self._held = self._held, []
        for grasp in held:
            self._on_published(GraspPublished(grasp))

    def _on_published(self, event: GraspPublished) -> None:
        grasp = event.grasp
        if grasp.key() in self._seen:
            return
        if self.busy in ("plan", "follow_up"):
            self._held.append(grasp)  # perhaps the answer in flight: decide when it came
            return
        self._show(grasp)
        self.turns.append(Turn("external", grasp.reasoning or "(no reasoning)"))
        self.turns.append(Turn("grasp", grasp.summary()))

    def _show(self, grasp: GraspView) -> None:
        self._seen.add(grasp.key())
        self.grasp = grasp
        self.stages, self.result = [], None

    def _on_stage(self, event: StageReached) -> None:
        self.stages.append(event.stage)
        self.turns.append(Turn("stage", event.stage))

    def _on_finished(self, event: ExecutionFinished) -> None:
        if self.busy == "execute":
            self.busy = None
        self.result = event
        if event.success:
            self.turns.append(Turn("result", f"success (stage {event.stage}): {event.message}"))
        else:
            self._fail(
                f"/execute_grasp failed: {event.failure or 'unknown'} in stage "
                f"{event.stage or '?'}: {event.message}"
            )

    def _on_error(self, event: StackError) -> None:
        if self.busy == event.what:
            self.busy = None
        self._fail(f"{event.what}: {event.message}")

    def _fail(self, text: str) -> None:
        self.error = text
        self.turns.append(Turn("error", text))

    def _on_planner(self, event: PlannerState) -> None:
        self.planner = event
        if event.state == "FAILED":
            self._fail(f"the planner failed: {event.message}")

    def _on_crop(self, event: CropArrived) -> None:
        self.crop = event.crop

    # --- drawing the conversation ---

    def conversation_html(self) -> str:
        """The conversation as HTML (every text escaped)."""
        rows = []
        for turn in self.turns:
            colour = ROLE_COLOURS.get(turn.role, "#222222")
            label = html.escape(ROLE_LABELS.get(turn.role, turn.role))
            text = html.escape(turn.text).replace("\n", "<br>")
            rows.append(f'<p style="color:{colour}; margin:2px 0"><b>{label}:</b> {text}</p>')
        return "\n".join(rows) or '<p style="color:#777777">Plan a grasp to start.</p>'
