"""Constrained decoding: free reasoning, then a pose that is guaranteed to be well formed.

While the model writes its reasoning anything goes; from the first ``[`` on (or when only
enough tokens are left for a pose) every token must keep the answer a prefix of
``[x, y], theta`` (or the labelled ``no-reasoning-b`` form) with the configured decimals, and
once the pose is complete only the end-of-sequence token remains.
"""

from __future__ import annotations

from typing import Any

import regex

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require
from rt_grasp_ros.prompts.formats import NO_REASONING_B_ANGLE, AnswerFormat

POSE_CHARS = set("0123456789.,-[] ")


def _separator(fmt: AnswerFormat) -> str:
    return f" {NO_REASONING_B_ANGLE} " if fmt is AnswerFormat.NO_REASONING_B else ", "


def pose_pattern(fmt: AnswerFormat, decimals: int) -> str:
    """Regex of a complete pose in answer format ``fmt``."""
    coord = rf"(0\.\d{{{decimals}}}|1\.0{{{decimals}}})"
    separator = regex.escape(_separator(fmt))
    return rf"\[{coord}, {coord}\]{separator}-?[01]\.\d{{{decimals}}}"


def longest_pose(fmt: AnswerFormat, decimals: int) -> int:
    """Characters in the longest complete pose (the token budget it may need)."""
    number = 2 + decimals
    return len(f"[{'0' * number}, {'0' * number}]{_separator(fmt)}-{'0' * number}")


class PoseGrammar:
    """A ``LogitsProcessor`` for ``model.generate`` that enforces the pose grammar.

    Args:
        tokenizer: the model's tokenizer.
        prompt_length: length of the (left-padded) prompt; generated tokens follow it.
        fmt: the answer format.
        decimals: digits after the decimal point.
        max_new_tokens: the generation budget (the pose is forced in time to finish).
    """

    def __init__(
        self,
        tokenizer: Any,
        prompt_length: int,
        fmt: AnswerFormat,
        decimals: int,
        max_new_tokens: int,
    ):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.pattern = regex.compile(pose_pattern(fmt, decimals))
        self.max_new_tokens = max_new_tokens
        self.pose_chars = POSE_CHARS | set(NO_REASONING_B_ANGLE)
        self.reserve = longest_pose(fmt, decimals) + 2  # worst case: one character per token
        if max_new_tokens < self.reserve:
            raise ConfigError(
                f"constrained decoding needs max_new_tokens >= {self.reserve} to fit a "
                f"{fmt.value} pose, got {max_new_tokens}"
            )
        self.eos = tokenizer.eos_token_id
        self._strings = self._token_strings()

    def _token_strings(self) -> dict[int, str]:
        strings = {}
        special = set(self.tokenizer.all_special_ids)
        for token_id in range(len(self.tokenizer)):
            if token_id in special:
                continue
            text = self.tokenizer.decode([token_id])
            if text and set(text) <= self.pose_chars:
                strings[token_id] = text
        return strings

    def _allowed(self, generated: str, remaining: int) -> list[int] | None:
        start = generated.find("[")
        if start < 0:
            if remaining > self.reserve:
                return None  # still reasoning: no constraint
            stem = ""  # out of budget: start the pose now
            candidates = {
                i: s.lstrip(" ") for i, s in self._strings.items() if s.lstrip(" ").startswith("[")
            }
        else:
            stem = generated[start:]
            match = self.pattern.fullmatch(stem, partial=True)
            if match is not None and not match.partial:
                return [self.eos]
            candidates = self._strings
        ok = [i for i, s in candidates.items() if self.pattern.fullmatch(stem + s, partial=True)]
        return ok or [self.eos]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = require("torch", "constrained decoding")
        for row in range(input_ids.shape[0]):
            new = input_ids[row, self.prompt_length :]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            allowed = self._allowed(text, self.max_new_tokens - len(new))
            if allowed is None:
                continue
            mask = torch.full_like(scores[row], float("-inf"))
            mask[allowed] = 0.0
            scores[row] = scores[row] + mask
        return scores
