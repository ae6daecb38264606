"""ManipLLM's chain of thought at inference: category, affordance reasoning, contact pose.

Three turns of one conversation about the image, as the paper's Fig. 4: the model names the
object's category; asked where and how to act on it (the prompt filled with that category's
names), it reasons about the affordance; asked for the pose, it answers the contact pixel
(x = column, y = row) and the gripper's up and forward directions in ManipLLM's 0.02 bins. The
pose turn is constrained by :class:`~rt_grasp_ros.manip.answers.ContactSpec` and the category
turn by :class:`~rt_grasp_ros.manip.answers.CategorySpec` (``constrained=True``), so that even
an untrained model ends in a contact pose; ``cot=False`` asks the pose prompt alone (the
paper's "w/o CoT" ablation).

The model is a :class:`~rt_grasp_ros.vlm.predictor.GraspPredictor`'s backbone and generation
(:meth:`~rt_grasp_ros.vlm.predictor.GraspPredictor.answer`): one loading path, one decoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.answers import CategorySpec, ContactSpec
from rt_grasp_ros.manip.prediction import ContactPrediction, Turn
from rt_grasp_ros.manip.tasks import TaskFormats, chain_of_thought, load_task_formats
from rt_grasp_ros.prompts.formats import AnswerFormat
from rt_grasp_ros.prompts.spec import AnswerSpec
from rt_grasp_ros.vlm.prediction import Prediction
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.processing import to_pil

DEFAULT_REASONING_TOKENS = 48


class ContactPredictor:
    """Image -> ManipLLM's chain of thought -> a contact pose.

    Args:
        predictor: the model (its backbone and generation are used).
        formats: the task texts the model was trained on (default: the shipped ones).
        cot: ask the three turns (False: the pose prompt alone, "w/o CoT").
        constrained: constrain the category and pose turns to their specs.
        reasoning_tokens: the budget of the free reasoning turn.
    """

    def __init__(
        self,
        predictor: GraspPredictor,
        formats: TaskFormats | None = None,
        cot: bool = True,
        constrained: bool = True,
        reasoning_tokens: int = DEFAULT_REASONING_TOKENS,
    ) -> None:
        if reasoning_tokens < 1:
            raise ConfigError(
                f"ContactPredictor.reasoning_tokens must be >= 1, got {reasoning_tokens}"
            )
        self.predictor = predictor
        self.formats = formats or load_task_formats()
        self.cot = cot
        self.constrained = constrained
        self.reasoning_tokens = reasoning_tokens
        self.category_spec = CategorySpec(self.formats)

    @classmethod
    def from_pretrained(
        cls, model: str | Path, dtype: str = "auto", device: str = "auto", **kwargs: Any
    ) -> ContactPredictor:
        """Load a checkpoint or base model through :meth:`GraspPredictor.from_pretrained`.

        A ManipLLM checkpoint records its answer format as ``manipllm``, which is no grasp
        format; the grasp predictor's own format is never used here (the turns are read by
        :class:`CategorySpec` and :class:`ContactSpec`), so it is given the default one.
        """
        grasp = GraspPredictor.from_pretrained(
            model, dtype=dtype, device=device, answer_format=AnswerFormat.RT
        )
        return cls(grasp, **kwargs)

    def contact_spec(self, image: Any) -> ContactSpec:
        """The pose answer's spec for ``image`` (its size bounds the contact pixel)."""
        pil = to_pil(image)
        return ContactSpec(self.formats, pil.width, pil.height)

    def _ask(
        self,
        image: Any,
        turns: list[Turn],
        kind: str,
        question: str,
        spec: AnswerSpec | None,
        budget: int,
        constrained: bool | None = None,
    ) -> Prediction:
        history = [(t.question, t.prediction.text) for t in turns]
        messages = self.predictor.messages(question, history)
        wanted = self.constrained if constrained is None else constrained
        constrained = False
        if wanted and spec is not None:
            constrained, budget = True, max(budget, spec.longest() + 2)
        prediction = self.predictor.answer(image, messages, spec, constrained, budget)
        turns.append(Turn(kind, question, prediction))
        return prediction

    def predict(
        self,
        image: Any,
        pose_question: str | None = None,
        cot: bool | None = None,
        constrained: bool | None = None,
    ) -> ContactPrediction:
        """Ask the chain of thought (or the pose prompt alone) about ``image``.

        Args:
            image: the RGB image (path, PIL image or ``(H, W, 3)`` uint8 array).
            pose_question: the pose prompt (default: the first of ``tasks.yaml``).
            cot: override the predictor's ``cot``.
            constrained: override the predictor's ``constrained``.
        """
        cot = self.cot if cot is None else cot
        pose_question = pose_question or self.formats.pose.questions[0]
        budget = self.predictor.max_new_tokens
        turns: list[Turn] = []
        category, candidates = None, ()
        if cot:
            question = self.formats.category.questions[0]
            named = self._ask(
                image, turns, "category", question, self.category_spec, budget, constrained
            )
            if named.pose is None:
                return ContactPrediction(turns, None, (), cot, f"category: {named.error}")
            candidates = self.category_spec.categories(named.pose)
            category = candidates[0]
            reasoning = chain_of_thought(self.formats, category)[1]
            self._ask(image, turns, "reasoning", reasoning, None, self.reasoning_tokens)
        spec = self.contact_spec(image)
        pose = self._ask(image, turns, "pose", pose_question, spec, budget, constrained)
        error = None if pose.pose is not None else f"pose: {pose.error}"
        return ContactPrediction(turns, category, candidates, cot, error)

    def follow_up(
        self,
        image: Any,
        earlier: ContactPrediction,
        text: str,
        constrained: bool | None = None,
    ) -> ContactPrediction:
        """Re-ask the pose turn after ``earlier``'s turns, with the user's ``text`` before it.

        One conversation: the new pose question (``text`` then the last pose prompt) sees every
        earlier turn, so the model refines its own contact; the answer is a new contact pose.
        """
        last = earlier.turn("pose")
        pose_question = last.question if last is not None else self.formats.pose.questions[0]
        # a follow-up's prompt is the user's words, then the pose prompt (the answer's form)
        question = f"{text.strip()} {pose_question}" if text.strip() else pose_question
        turns = list(earlier.turns)
        spec = self.contact_spec(image)
        budget = self.predictor.max_new_tokens
        pose = self._ask(image, turns, "pose", question, spec, budget, constrained)
        error = None if pose.pose is not None else f"pose: {pose.error}"
        return ContactPrediction(turns, earlier.category, earlier.candidates, earlier.cot, error)
