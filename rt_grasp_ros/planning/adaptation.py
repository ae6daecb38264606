"""ManipLLM's test-time adaptation in the contact planner: a contact as a trial (ROS-free).

With adaptation on, the planner's model is a :class:`~rt_grasp_ros.manip.tta.TrialAdapter`'s
backbone, so every contact is predicted with the adapted vision LoRA. After a contact was
operated on, :meth:`ContactAdaptation.adapt` looks up the /plan_grasp session that answered it
(:meth:`~rt_grasp_ros.planning.sessions.SessionPlanner.lookup`): the image the model saw (the
session's crop) and the pixel of its latest contact, in that image's coordinates, become the
:class:`~rt_grasp_ros.manip.tta.TrialOutcome` with the outcome (the part moved or not), the
adapter takes its steps and saves the adapted weights apart from the model.
:meth:`ContactAdaptation.reset` restores the checkpoint's.

The caller serialises the model: an adaptation never runs beside a prediction (the node keeps
/plan_grasp and its adaptation services in one mutually exclusive callback group).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.planning.contact import ContactModel
from rt_grasp_ros.planning.limits import RequestError

if TYPE_CHECKING:
    from rt_grasp_ros.manip.tta import TrialAdapter, TrialOutcome, TTAConfig
    from rt_grasp_ros.planning.sessions import SessionPlanner


@dataclass(frozen=True)
class AdaptAnswer:
    """What one adaptation did (the fields of ``AdaptContact.srv``'s response).

    Attributes:
        success: the adapter took its steps on the trial and saved the weights.
        message: what was done, or what went wrong (naming the session or the field).
        trials: adaptations since the last reset, this one included.
        loss_before: the affordance answer's loss before this trial's steps (NaN: none).
        loss_after: and after them.
    """

    success: bool
    message: str
    trials: int = 0
    loss_before: float = math.nan
    loss_after: float = math.nan


def default_tta_dir(node_name: str, environ: Mapping[str, str] | None = None) -> Path:
    """``<ROS home>/rt_grasp/tta/<node_name>``: the ROS home is ``ROS_HOME``, else ``~/.ros``."""
    environ = os.environ if environ is None else environ
    home = Path(environ["ROS_HOME"]) if environ.get("ROS_HOME") else Path.home() / ".ros"
    return home / "rt_grasp" / "tta" / node_name.strip("/")


def trial_outcome(planner: SessionPlanner, session_id: str, moved: bool) -> TrialOutcome:
    """The trial of session ``session_id``'s latest contact: the image and pixel the model saw.

    Raises:
        RequestError: ``session_id`` is empty, unknown, evicted, or its session holds no
            contact yet (the message names the field and the session).
    """
    from rt_grasp_ros.manip.tta import TrialOutcome

    if not session_id:
        raise RequestError("session_id", "is empty: give the session_id of a planned contact")
    session, _ = planner.lookup(session_id)
    turns = getattr(session, "turns", None)
    if turns is None:
        raise RequestError("session_id", f"{session_id!r} is no contact session")
    # the latest answer that ended in a contact: the one a robot can have operated on
    prediction = next((p for p in reversed(turns) if p.contact is not None), None)
    if prediction is None:
        raise RequestError(
            "session_id",
            f"session {session_id!r} has no contact yet (its {len(turns)} answers held no "
            "contact pose); adapt after a contact was planned and operated on",
        )
    contact = prediction.contact
    category = prediction.category or ""
    return TrialOutcome(session.image, (contact.x, contact.y), bool(moved), category)


class ContactAdaptation:
    """The planner's trial adapter: adapt on a session's contact, reset, count the trials.

    Build it with :meth:`load`; :attr:`model` is the planner's model (the adapter's backbone).
    """

    def __init__(self, adapter: TrialAdapter, model: ContactModel) -> None:
        self.adapter = adapter
        self.model = model

    @classmethod
    def load(
        cls, model: str, out: str | Path, config: TTAConfig, cot: bool = True, device: str = "auto"
    ) -> ContactAdaptation:
        """Load ``model`` for adaptation (float32); adapted weights are saved to ``out``.

        Raises:
            ConfigError: ``out`` is the model folder or inside it (the model is never written).
        """
        from rt_grasp_ros.manip.predictor import ContactPredictor
        from rt_grasp_ros.manip.tta import TrialAdapter
        from rt_grasp_ros.vlm.predictor import GraspPredictor

        adapter = TrialAdapter.from_checkpoint(model, out, config, device=device)
        return cls(
            adapter, ContactModel(ContactPredictor(GraspPredictor(adapter.backbone), cot=cot))
        )

    @property
    def out(self) -> Path:
        """Where the adapted weights are saved."""
        return self.adapter.out

    @property
    def trials(self) -> int:
        """Adaptations since the last reset."""
        return self.adapter.trials

    def adapt(self, planner: SessionPlanner, session_id: str, moved: bool) -> AdaptAnswer:
        """Adapt on session ``session_id``'s latest contact with its outcome, then save.

        A session that cannot be adapted on (unknown, evicted, no contact) is an answer with
        ``success`` false naming it, as is a save that failed (the steps were taken).
        """
        try:
            outcome = trial_outcome(planner, session_id, moved)
        except RtGraspError as exc:
            return AdaptAnswer(False, str(exc), self.trials)
        entry = self.adapter.adapt(outcome)
        before, after = entry["loss_before"], entry["loss_after"]
        x, y = outcome.pixel
        done = (
            f"adapted on the contact ({x:.0f}, {y:.0f}) of session {session_id!r}, "
            f"{'moved' if moved else 'not moved'}: loss {before:.4f} -> {after:.4f} "
            f"(trial {self.trials} since the last reset)"
        )
        try:
            folder = self.adapter.save()
        except OSError as exc:
            return AdaptAnswer(
                False, f"{done}; saving to {self.out} failed: {exc}", self.trials, before, after
            )
        return AdaptAnswer(True, f"{done}; saved to {folder}", self.trials, before, after)

    def reset(self) -> str:
        """Restore the model's own vision adapter and forget the trials; what was done."""
        trials = self.trials
        self.adapter.reset()
        return f"reset after {trials} trial(s): the model's own vision adapter restored"
