"""Exceptions raised by rt_grasp; the CLI prints their message and exits with status 2."""

from __future__ import annotations


class RtGraspError(Exception):
    """Base class of every error rt_grasp raises on bad input or a failed precondition."""


class DatasetError(RtGraspError):
    """A dataset folder or file is missing, malformed or inconsistent."""


class ConfigError(RtGraspError, ValueError):
    """A configuration file or value is invalid; the message names the key."""


class AnswerParseError(RtGraspError):
    """A model answer holds no valid grasp pose.

    Attributes:
        text: the answer that failed to parse.
        reason: what was missing or out of range.
    """

    def __init__(self, reason: str, text: str) -> None:
        shown = text if len(text) <= 200 else text[:197] + "..."
        super().__init__(f"{reason} (answer: {shown!r})")
        self.reason = reason
        self.text = text


class MissingDependencyError(RtGraspError, ImportError):
    """An optional dependency is not installed; the message says what to install."""
