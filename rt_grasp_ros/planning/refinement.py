"""Refining a planned grasp with the user: the state behind the grasp_refinement node, ROS-free.

One grasp at a time is refined: the model's latest grasp (a refinement session of the planner,
see :mod:`rt_grasp_ros.planning.sessions`), maybe corrected by the user, who drags it in the
table plane and turns it about its approach axis. A drag is a correction: its pose (the height
taken from the depth at the new pixel, :func:`corrected_target`) is what Execute sends, and the
next follow-up tells the model where the user moved its grasp (:meth:`Correction.describe`).

:class:`Refinement` is the state machine: it says which request to send (a new session, a
follow-up in the session, an execution), takes the answers, refuses what cannot be done now
with a reason (:class:`RefinementError`) and describes itself (:meth:`Refinement.snapshot`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind, ImageGrasp
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import GraspGeometry, PlanningError, image_grasp_to_target
from rt_grasp_ros.planning.plan import OPENING_PX
from rt_grasp_ros.transforms import Pose

# The follow-ups the menu offers; the panel sends any text.
FOLLOW_UPS = (
    "grasp it by the handle instead",
    "rotate the gripper by 90 degrees",
    "more to the left",
    "more to the right",
)
EXECUTE = "Execute"
REPLAN = "Re-plan"
FOLLOW_UP_MENU = "Follow-up"
MENU = ((EXECUTE, ()), (REPLAN, ()), (FOLLOW_UP_MENU, FOLLOW_UPS))
"""The marker's menu: (title, sub-entries); a follow-up's title is the text sent."""

MIN_SHIFT_M = 0.002  # a drag shorter than this (and turned less than MIN_TURN) is no correction
MIN_TURN = math.radians(2.0)


class RefinementError(RtGraspError):
    """A command cannot be done now (busy, no grasp, no session); the message says why."""


class Stage(str, Enum):
    """Where the refinement stands."""

    IDLE = "idle"  # no grasp yet
    PLANNING = "planning"  # a plan request (new session or follow-up) is in flight
    PLANNED = "planned"  # the model's grasp is shown
    CORRECTED = "corrected"  # the user moved the model's grasp
    EXECUTING = "executing"  # an execution is running (``detail``: its stage)
    SUCCEEDED = "succeeded"  # the last execution lifted and held the object
    FAILED = "failed"  # the last execution failed (``result`` says how)


@dataclass(frozen=True)
class RefinedGrasp:
    """A grasp on the marker: the TCP target in the base frame and what the model said.

    Attributes:
        target: the TCP target (what Execute sends).
        reasoning: the model's reasoning ('' for a grasp without one).
        answer: the model's raw answer.
        image: the grasp in the session crop's model coordinates ``(x, y, theta)``: x, y
            normalised to [0, 1], theta in radians (the model's own answer format), or None.
    """

    target: GraspTarget
    reasoning: str = ""
    answer: str = ""
    image: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Correction:
    """How the user moved the model's grasp: both poses, both in model coordinates."""

    planned: Pose
    corrected: Pose
    planned_image: tuple[float, float, float] | None
    corrected_image: tuple[float, float, float] | None

    @property
    def shift_m(self) -> float:
        """How far the grasp moved in the table plane (m)."""
        return float(np.linalg.norm(self.corrected.position[:2] - self.planned.position[:2]))

    @property
    def turn(self) -> float:
        """How far the grasp turned about its approach axis (rad, in (-pi, pi]).

        Counter-clockwise is positive as seen from the hand (from above for a top-down grasp,
        as the camera sees it).
        """
        a = self.planned.rotation_matrix[:, 1]
        b = self.corrected.rotation_matrix[:, 1]
        back = -self.planned.rotation_matrix[:, 2]  # from the object towards the hand
        return float(math.atan2(np.dot(np.cross(a, b), back), np.dot(a, b)))

    @property
    def significant(self) -> bool:
        """Whether the user moved or turned the grasp at all (beyond a click's jitter)."""
        return self.shift_m >= MIN_SHIFT_M or abs(self.turn) >= MIN_TURN

    def describe(self) -> str:
        """Tell the model where the user moved its grasp, in its own coordinates and in words."""
        words = []
        if self.planned_image is not None and self.corrected_image is not None:
            (x0, y0, _), (x1, y1, _) = self.planned_image, self.corrected_image
            horizontal = "to the right" if x1 > x0 else "to the left"
            vertical = "down" if y1 > y0 else "up"
            pairs = ((horizontal, x1 - x0), (vertical, y1 - y0))
            moves = [side for side, d in pairs if abs(d) >= 0.005]
            if moves:
                words.append(f"moved it {' and '.join(moves)} in the image")
        if self.shift_m >= MIN_SHIFT_M:
            words.append(f"by {100 * self.shift_m:.1f} cm")
        if abs(self.turn) >= MIN_TURN:
            direction = "counter-clockwise" if self.turn > 0 else "clockwise"
            words.append(f"turned it {abs(math.degrees(self.turn)):.0f} degrees {direction}")
        where = ""
        if self.corrected_image is not None:
            x, y, theta = self.corrected_image
            where = f" to [{x:.3f}, {y:.3f}], {theta:.3f}"
            if self.planned_image is not None:
                px, py, pt = self.planned_image
                where = f" from [{px:.3f}, {py:.3f}], {pt:.3f}{where}"
        how = ", ".join(words) if words else "adjusted it"
        return f"The user corrected your grasp{where}: {how}."


def follow_up_text(text: str, correction: Correction | None) -> str:
    """The follow-up sent to the model: the user's correction first, then the user's words."""
    text = text.strip()
    if correction is None or not correction.significant:
        return text
    return f"{correction.describe()} {text}".strip()


def corrected_target(
    target: GraspTarget,
    dragged: Pose,
    frame: RGBDFrame,
    geometry: GraspGeometry | None = None,
    opening_px: float = OPENING_PX,
) -> tuple[GraspTarget, ImageGrasp]:
    """The grasp the user dragged to: its place and turn, its height from the depth there.

    ``dragged`` is taken in the table plane (its x and y) and as a turn about ``target``'s
    approach axis (its closing axis, projected onto the plane normal to that axis); whatever
    else it says (height, tilt) is ignored. The new pixel is where the dragged point, at the
    old grasp's height, is seen in ``frame``; the height comes from the depth there as the
    planner computes it (the top surface between the fingers, or the surface under the cup).

    Returns:
        The corrected target and the grasp in ``frame``'s pixels (its u, v and theta).

    Raises:
        PlanningError: the new pixel is outside ``frame``'s image or has no depth reading.
    """
    geometry = geometry or GraspGeometry()
    old = target.pose
    approach = old.rotation_matrix[:, 2]
    closing = dragged.rotation_matrix[:, 1] - approach * float(
        np.dot(dragged.rotation_matrix[:, 1], approach)
    )
    if np.linalg.norm(closing) < 1e-6:  # turned onto the approach axis: keep the old turn
        closing = old.rotation_matrix[:, 1]
    closing = closing / np.linalg.norm(closing)
    rotation = np.column_stack([np.cross(closing, approach), closing, approach])
    point = np.array([dragged.position[0], dragged.position[1], old.position[2]])
    cam = frame.camera
    (uv, tip), _ = cam.project(np.stack([point, point + 0.02 * closing]))
    if not (0 <= uv[0] <= cam.width and 0 <= uv[1] <= cam.height):
        raise PlanningError(
            f"the grasp was moved out of the camera crop (to pixel ({uv[0]:.0f}, {uv[1]:.0f}) "
            f"of the {cam.width}x{cam.height} crop): there is no depth to place it"
        )
    theta = math.atan2(-(tip[1] - uv[1]), tip[0] - uv[0])
    pixel = ImageGrasp(float(uv[0]), float(uv[1]), theta, opening_px)
    placed = image_grasp_to_target(frame, pixel, target.gripper, geometry)
    position = np.array([point[0], point[1], placed.pose.position[2]])
    return replace(target, pose=Pose.from_rotation_matrix(position, rotation)), pixel


def model_coordinates(pixel: ImageGrasp, frame: RGBDFrame) -> tuple[float, float, float]:
    """A pixel grasp of the session crop in the model's coordinates (x, y normalised, theta)."""
    return (
        pixel.u / frame.camera.width,
        pixel.v / frame.camera.height,
        math.remainder(pixel.theta, math.pi) % math.pi,
    )


@dataclass(frozen=True)
class PlanCall:
    """A /plan_grasp request to send: a new session (no session_id) or a follow-up."""

    instruction: str = ""
    session_id: str = ""
    follow_up: str = ""


class Refinement:
    """The grasp being refined, its session and what is going on.

    Commands (:meth:`plan`, :meth:`follow_up`, :meth:`execute`, :meth:`drag`) raise
    RefinementError when they cannot run now; the answers (:meth:`planned`,
    :meth:`plan_failed`, :meth:`executing`, :meth:`executed`) move the state on. ``error`` holds
    the last thing that went wrong (cleared by the next command that starts).
    """

    def __init__(self, default_instruction: str = "") -> None:
        self.default_instruction = default_instruction
        self.session_id = ""
        self.instruction = default_instruction
        self.turn = 0
        self.grasp: RefinedGrasp | None = None  # what is shown and executed
        self.planned_grasp: RefinedGrasp | None = None  # the model's, before a correction
        self.correction: Correction | None = None
        self.stage = Stage.IDLE
        self.detail = ""
        self.error = ""
        self.result: dict[str, Any] | None = None
        self.last_follow_up = ""
        self.executed_target: GraspTarget | None = None
        self._pending: PlanCall | None = None
        self._before = Stage.IDLE  # the stage to go back to when a plan fails

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a plan or an execution is in flight."""
        return self.stage in (Stage.PLANNING, Stage.EXECUTING)

    def _check_idle(self, what: str) -> None:
        if self.stage is Stage.PLANNING:
            raise RefinementError(f"cannot {what}: a plan request is still being answered")
        if self.stage is Stage.EXECUTING:
            raise RefinementError(f"cannot {what}: the grasp is being executed ({self.detail})")

    def fail(self, message: str) -> str:
        """Record an error (shown until the next command starts); returns it."""
        self.error = message
        return message

    # -- planning ---------------------------------------------------------------------------

    def plan(self, instruction: str | None = None) -> PlanCall:
        """Start a new session (Re-plan): ``instruction``, or the session's own instruction."""
        self._check_idle("re-plan")
        if instruction is not None and instruction.strip():
            self.instruction = instruction.strip()
        return self._start(PlanCall(instruction=self.instruction))

    def follow_up(self, text: str) -> PlanCall:
        """Start a follow-up turn in the session; a correction is named before ``text``."""
        self._check_idle("send a follow-up")
        if not text.strip():
            raise RefinementError("the follow-up text is empty")
        if self.grasp is None:
            raise RefinementError("there is no grasp to refine yet: plan one first (Re-plan)")
        if not self.session_id:
            raise RefinementError(
                "the grasp on the marker was planned outside grasp_refinement, so its session "
                "is unknown: choose Re-plan to start a session here"
            )
        self.last_follow_up = follow_up_text(text, self.correction)
        return self._start(PlanCall(session_id=self.session_id, follow_up=self.last_follow_up))

    def _start(self, call: PlanCall) -> PlanCall:
        self._before = self.stage
        self._pending = call
        self.stage, self.detail, self.error = Stage.PLANNING, "", ""
        return call

    def planned(self, session_id: str, grasp: RefinedGrasp) -> None:
        """The planner answered the pending request with ``grasp`` in ``session_id``."""
        call = self._pending
        self._pending = None
        if call is None or not call.session_id:
            self.session_id, self.turn = session_id, 1
        else:
            self.turn += 1
        self._show(grasp, Stage.PLANNED)

    def plan_failed(self, message: str) -> None:
        """The pending request failed (the planner's message, or no answer in time)."""
        self._pending = None
        self.stage = self._before if self._before is not Stage.PLANNING else Stage.IDLE
        if self.grasp is None:
            self.stage = Stage.IDLE
        self.fail(message)

    def foreign(self, grasp: RefinedGrasp) -> None:
        """A grasp planned by another client (the planner's latched topic): no session here."""
        self._check_idle("show another client's grasp")
        self.session_id, self.turn, self.error = "", 0, ""
        self._show(grasp, Stage.PLANNED)

    def _show(self, grasp: RefinedGrasp, stage: Stage) -> None:
        self.grasp = self.planned_grasp = grasp
        self.correction, self.result = None, None
        self.stage, self.detail = stage, ""

    # -- the user's drag --------------------------------------------------------------------

    def drag(self, corrected: RefinedGrasp) -> Correction:
        """The user moved the grasp to ``corrected`` (see :func:`corrected_target`)."""
        self._check_idle("move the grasp")
        if self.grasp is None or self.planned_grasp is None:
            raise RefinementError("there is no grasp to move")
        base = self.planned_grasp
        correction = Correction(
            base.target.pose, corrected.target.pose, base.image, corrected.image
        )
        self.grasp = corrected
        self.correction = correction if correction.significant else None
        self.stage = Stage.CORRECTED if self.correction is not None else Stage.PLANNED
        self.detail, self.error, self.result = "", "", None
        return correction

    # -- execution ----------------------------------------------------------------------------

    def execute(self) -> GraspTarget:
        """Start executing the grasp on the marker (the corrected one, if the user moved it)."""
        self._check_idle("execute")
        if self.grasp is None:
            raise RefinementError("there is no grasp to execute yet: plan one first")
        self._before = self.stage
        self.stage, self.detail, self.error, self.result = Stage.EXECUTING, "sent", "", None
        self.executed_target = self.grasp.target
        return self.grasp.target

    def executing(self, stage: str) -> None:
        """The executor reports ``stage`` (open, pre_grasp, approach, close, lift, hold...)."""
        if self.stage is Stage.EXECUTING:
            self.detail = stage

    def executed(
        self, success: bool, failure: str = "", message: str = "", stage: str = ""
    ) -> None:
        """The execution ended (or could not start: ``failure`` says why)."""
        self.result = {"success": success, "failure": failure, "message": message, "stage": stage}
        self.stage = Stage.SUCCEEDED if success else Stage.FAILED
        self.detail = stage
        if not success:
            self.fail(f"execution failed in {stage or 'start'}: {failure}: {message}".strip())

    # -- description --------------------------------------------------------------------------

    def headline(self) -> str:
        """One line for the marker's text: the stage and what it means."""
        if self.stage is Stage.IDLE:
            return "no grasp yet"
        if self.stage is Stage.PLANNING:
            kind = "follow-up" if self._pending and self._pending.session_id else "new plan"
            return f"planning ({kind})..."
        session = "planned elsewhere"
        if self.session_id:
            session = f"session {self.session_id}, turn {self.turn}"
        if self.stage is Stage.PLANNED:
            return f"planned ({session})"
        if self.stage is Stage.CORRECTED:
            c = self.correction
            turn = (
                f", turned {math.degrees(c.turn):+.0f} deg"
                if c and abs(c.turn) >= MIN_TURN
                else ""
            )
            return f"moved by you: {100 * (c.shift_m if c else 0):.1f} cm{turn} ({session})"
        if self.stage is Stage.EXECUTING:
            return f"executing: {self.detail}"
        if self.stage is Stage.SUCCEEDED:
            return "executed: grasped, lifted and held"
        result = self.result or {}
        return f"execution failed in {result.get('stage') or 'start'}: {result.get('failure')}"

    def snapshot(self) -> dict[str, Any]:
        """Everything a panel shows, as plain JSON-able values."""

        def pose(target: GraspTarget | None) -> dict[str, Any] | None:
            if target is None:
                return None
            return {
                "position": [round(float(c), 6) for c in target.pose.position],
                "orientation": [round(float(c), 6) for c in target.pose.quat_xyzw],
                "width": float(target.width or 0.0),
                "gripper": GripperKind(target.gripper).value,
            }

        grasp = self.grasp
        return {
            "session": self.session_id,
            "turn": self.turn,
            "instruction": self.instruction,
            "stage": self.stage.value,
            "detail": self.detail,
            "headline": self.headline(),
            "busy": self.busy,
            "grasp": pose(grasp.target if grasp else None),
            "planned": pose(self.planned_grasp.target if self.planned_grasp else None),
            "corrected": self.correction is not None,
            "correction": self.correction.describe() if self.correction else "",
            "reasoning": grasp.reasoning if grasp else "",
            "answer": grasp.answer if grasp else "",
            "image": list(grasp.image) if grasp and grasp.image else None,
            "last_follow_up": self.last_follow_up,
            "executed": pose(self.executed_target),
            "result": self.result,
            "error": self.error,
            "follow_ups": list(FOLLOW_UPS),
        }
