"""What a model answered: the text, the value its answer spec read from it, counts and timings.

These types import without torch (the ROS conversions and the planners use them): a
:class:`Prediction` is one answer read by an :class:`~rt_grasp_ros.prompts.spec.AnswerSpec`
(a grasp pose, a contact pose, a category), and :func:`parse_prediction` makes one from a text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rt_grasp_ros.errors import AnswerParseError
from rt_grasp_ros.prompts.spec import AnswerSpec, GraspPoseSpec
from rt_grasp_ros.vlm.consensus import Consensus

STAGES = ("preprocess", "prefill", "decode", "parse")
GRASP_SPEC = GraspPoseSpec()  # parses any of RT-Grasp's three formats


@dataclass
class Prediction:
    """One answer of the model.

    Attributes:
        text: the raw answer.
        pose: what the answer's spec read (a GraspPose for a grasp, a ContactPose for a
            contact, a category name), or None when the answer did not parse or has no spec.
        reasoning: the text before the constrained part.
        error: why the answer did not parse (None when it did).
        prompt_tokens, generated_tokens: token counts.
        timings: seconds spent in ``preprocess``, ``prefill``, ``decode``, ``parse`` and ``total``.
        samples: with k sampled answers, each of them; ``consensus`` then holds their agreement.
        spec: the spec that read the answer (None: free text, nothing parsed).
    """

    text: str
    pose: Any | None
    reasoning: str | None
    error: str | None
    prompt_tokens: int
    generated_tokens: int
    timings: dict[str, float] = field(default_factory=dict)
    samples: list[Prediction] = field(default_factory=list)
    consensus: Consensus | None = None
    spec: AnswerSpec | None = field(default=GRASP_SPEC, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the answer holds a valid value (a free-text answer always does)."""
        return self.spec is None or self.pose is not None

    @property
    def decode_tokens_per_s(self) -> float:
        """Generated tokens per second of decoding (after the first token)."""
        decode = self.timings.get("decode", 0.0)
        return (
            (self.generated_tokens - 1) / decode
            if decode > 0 and self.generated_tokens > 1
            else 0.0
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        value = None
        if self.pose is not None and self.spec is not None:
            value = self.spec.to_json(self.pose)
        out: dict[str, Any] = {
            "text": self.text,
            "reasoning": self.reasoning,
            "pose": value,
            "error": self.error,
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            "timings": self.timings,
        }
        if self.consensus is not None:
            c = self.consensus
            out["consensus"] = {
                "samples": len(self.samples),
                "parsed": sum(s.ok for s in self.samples),
                "x_std": c.x_std,
                "y_std": c.y_std,
                "theta_std_deg": c.theta_std_deg,
                "agreement": c.agreement,
            }
        return out


def total_time(timings: dict[str, float]) -> float:
    """The sum of the stages' seconds."""
    return sum(timings.get(k, 0.0) for k in STAGES)


def parse_prediction(
    text: str,
    prompt_tokens: int,
    generated: int,
    timings: dict[str, float],
    spec: AnswerSpec | None = GRASP_SPEC,
) -> Prediction:
    """Read an answer with ``spec`` into a :class:`Prediction` (a failure is recorded, not raised).

    ``spec`` None keeps the text as it is (a free-text turn, such as ManipLLM's reasoning).
    """
    start = time.perf_counter()
    pose, reasoning, error = None, text if spec is None else None, None
    if spec is not None:
        try:
            parsed = spec.parse(text)
            pose, reasoning = parsed.value, parsed.reasoning
        except AnswerParseError as exc:
            error = exc.reason
    timings = {**timings, "parse": time.perf_counter() - start}
    timings["total"] = total_time(timings)
    return Prediction(text, pose, reasoning, error, prompt_tokens, generated, timings, spec=spec)
