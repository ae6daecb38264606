"""What ManipLLM's chain of thought answered, turn by turn (imports without torch).

A :class:`ContactPrediction` holds the turns of one conversation (paper Fig. 4): the category,
the affordance reasoning and the pose; or the pose turn alone without the chain of thought.
Each turn is a :class:`~rt_grasp_ros.vlm.prediction.Prediction` read by its spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.vlm.prediction import STAGES, Prediction

TURNS = ("category", "reasoning", "pose")


@dataclass(frozen=True)
class Turn:
    """One question of the conversation and the model's answer.

    Attributes:
        kind: ``category``, ``reasoning`` or ``pose``.
        question: the prompt.
        prediction: the answer, read by the turn's spec (the reasoning turn is free text).
    """

    kind: str
    question: str
    prediction: Prediction


@dataclass
class ContactPrediction:
    """The chain of thought's turns and the contact pose it ends in.

    Attributes:
        turns: the turns in the order they were asked.
        category: the category (key of ``categories.yaml``) whose names filled the prompts;
            None without the chain of thought or when the category answer did not parse.
        candidates: every category the named one stands for (e.g. drawer, door and sliding
            door for "cabinet"); the first is ``category``.
        cot: whether the chain of thought was asked (False: the pose prompt alone).
        error: why there is no contact pose (None when there is one).
    """

    turns: list[Turn]
    category: str | None
    candidates: tuple[str, ...] = ()
    cot: bool = True
    error: str | None = None

    def turn(self, kind: str) -> Turn | None:
        """The latest turn of ``kind`` (None: not asked); a follow-up's pose turn is the last."""
        return next((t for t in reversed(self.turns) if t.kind == kind), None)

    @property
    def contact(self) -> ContactPose | None:
        """The contact pose of the pose turn, if it parsed."""
        pose = self.turn("pose")
        return pose.prediction.pose if pose is not None else None

    @property
    def ok(self) -> bool:
        """Whether the conversation ended in a contact pose."""
        return self.contact is not None

    @property
    def named_category(self) -> str | None:
        """The category name the model gave (e.g. ``cabinet``)."""
        first = self.turn("category")
        return first.prediction.pose if first is not None else None

    @property
    def chain(self) -> list[str]:
        """Each turn's answer text, in order (``ContactPose.msg``'s ``chain``)."""
        return [t.prediction.text for t in self.turns]

    @property
    def reasoning(self) -> str:
        """The affordance reasoning turn's answer (empty without it)."""
        turn = self.turn("reasoning")
        return turn.prediction.text if turn is not None else ""

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens over all turns (each turn's prompt holds the turns before it)."""
        return sum(t.prediction.prompt_tokens for t in self.turns)

    @property
    def generated_tokens(self) -> int:
        """Generated tokens over all turns."""
        return sum(t.prediction.generated_tokens for t in self.turns)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage summed over the turns, and ``total``."""
        out = {k: sum(t.prediction.timings.get(k, 0.0) for t in self.turns) for k in STAGES}
        out["total"] = sum(out.values())
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        contact = self.contact
        return {
            "cot": self.cot,
            "category": self.category,
            "named_category": self.named_category,
            "candidates": list(self.candidates),
            "contact": None
            if contact is None
            else {"x": contact.x, "y": contact.y, "up": contact.up, "forward": contact.forward},
            "error": self.error,
            "turns": [
                {"kind": t.kind, "question": t.question, **t.prediction.to_json()}
                for t in self.turns
            ],
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            "timings": self.timings,
        }
