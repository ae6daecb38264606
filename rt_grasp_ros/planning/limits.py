"""What a /plan_grasp request may ask for: the planner's limits and defaults, and their checks.

ROS-free: the planner node declares one parameter per field of :class:`PlannerLimits` (name,
default, range and description come from :data:`LIMIT_FIELDS`) and hands every request to
:meth:`PlannerLimits.resolve` before the model sees it, so that a bad value (``samples:
1000000``, ``temperature: -1``) is answered with a message naming the field instead of reaching
``generate`` (which raises, or allocates a million sequences).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, fields

from rt_grasp_ros.errors import ConfigError, RtGraspError


class RequestError(RtGraspError):
    """A request field is out of its bound; the message starts with the field's name.

    Attributes:
        field: the request field at fault (``samples``, ``temperature``, ...).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Decoding(enum.Enum):
    """How the answer is decoded; ``DEFAULT`` is the planner's configured decoding."""

    DEFAULT = "default"
    CONSTRAINED = "constrained"
    FREE = "free"


@dataclass(frozen=True)
class LimitField:
    """One limit: its default, the closed range it must lie in and what it means."""

    default: int | float | str
    low: float | None = None
    high: float | None = None
    description: str = ""
    choices: tuple[str, ...] = ()
    open_low: bool = False  # the range excludes ``low`` (a temperature of 0 is no temperature)

    @property
    def expected(self) -> str:
        """The accepted values, in words."""
        if self.choices:
            return " or ".join(repr(c) for c in self.choices)
        kind = "an integer" if isinstance(self.default, int) else "a number"
        return f"{kind} in {'(' if self.open_low else '['}{self.low}, {self.high}]"

    def check(self, value: object) -> bool:
        """Whether ``value`` is acceptable."""
        if self.choices:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(self.default, int) and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        low_ok = value > self.low if self.open_low else value >= self.low
        return low_ok and value <= self.high


# The planner node's parameters, one per field of PlannerLimits (same names).
LIMIT_FIELDS: dict[str, LimitField] = {
    "decoding": LimitField(
        "constrained",
        description="decoding of a request that sets DECODING_DEFAULT: constrained (the answer "
        "always ends in a well-formed pose) or free",
        choices=("constrained", "free"),
    ),
    "temperature": LimitField(
        0.7,
        0.0,
        100.0,
        "sampling temperature of a request with samples > 1 and temperature 0",
        open_low=True,
    ),
    "top_p": LimitField(
        1.0,
        0.0,
        1.0,
        "nucleus sampling of a request with samples > 1 and top_p 0 (1 = off)",
        open_low=True,
    ),
    "max_samples": LimitField(16, 1, 1024, "most sampled answers one request may ask for"),
    "max_temperature": LimitField(
        2.0, 0.0, 100.0, "highest sampling temperature a request may ask for", open_low=True
    ),
    "max_instruction_chars": LimitField(
        1000, 1, 1_000_000, "longest instruction or follow-up (characters)"
    ),
    "max_instruction_tokens": LimitField(
        256, 1, 1_000_000, "longest instruction or follow-up (tokens of the model's tokenizer)"
    ),
    "max_turns": LimitField(8, 1, 1000, "most dialogue turns in one refinement session"),
    "max_sessions": LimitField(
        32, 1, 100_000, "refinement sessions kept; the least recently used one is evicted"
    ),
}


@dataclass(frozen=True)
class Sampling:
    """A request's decoding, with the defaults filled in and every value in its bound."""

    constrained: bool = True
    samples: int = 1
    temperature: float = 0.7
    top_p: float = 1.0


@dataclass(frozen=True)
class PlannerLimits:
    """The planner's defaults and the bounds of a request; an invalid field names itself.

    Attributes:
        decoding: ``constrained`` or ``free``, for a request that leaves decoding at DEFAULT.
        temperature: sampling temperature when a request sends 0.
        top_p: nucleus sampling when a request sends 0 (1 = off).
        max_samples: most sampled answers per request.
        max_temperature: highest temperature a request may ask for.
        max_instruction_chars: longest instruction or follow-up in characters.
        max_instruction_tokens: longest instruction or follow-up in tokens.
        max_turns: most turns (the first instruction included) in one session.
        max_sessions: sessions kept (least recently used evicted first).
    """

    decoding: str = "constrained"
    temperature: float = 0.7
    top_p: float = 1.0
    max_samples: int = 16
    max_temperature: float = 2.0
    max_instruction_chars: int = 1000
    max_instruction_tokens: int = 256
    max_turns: int = 8
    max_sessions: int = 32

    def __post_init__(self) -> None:
        for f in fields(self):
            spec, value = LIMIT_FIELDS[f.name], getattr(self, f.name)
            if (
                isinstance(spec.default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                object.__setattr__(self, f.name, float(value))
                value = float(value)
            if not spec.check(value):
                raise ConfigError(f"{f.name}={value!r} is invalid: expected {spec.expected}")
        if self.temperature > self.max_temperature:
            raise ConfigError(
                f"temperature={self.temperature!r} is invalid: expected at most "
                f"max_temperature={self.max_temperature!r}"
            )

    def sampling(
        self, decoding: Decoding, samples: int, temperature: float, top_p: float
    ) -> Sampling:
        """A request's decoding fields resolved against the defaults and checked.

        ``samples`` 0 or 1 is one greedy answer; ``temperature`` and ``top_p`` 0 are the
        defaults. Raises RequestError naming the field that is out of bounds.
        """
        if samples < 0 or samples > self.max_samples:
            raise RequestError(
                "samples",
                f"{samples} is out of bounds: 0 or 1 for one greedy answer, up to "
                f"max_samples={self.max_samples} sampled answers",
            )
        if not math.isfinite(temperature) or temperature < 0.0:
            raise RequestError(
                "temperature", f"{temperature!r} is invalid: 0 (the default) or a number > 0"
            )
        if temperature > self.max_temperature:
            raise RequestError(
                "temperature",
                f"{temperature!r} is above max_temperature={self.max_temperature!r}",
            )
        if not math.isfinite(top_p) or top_p < 0.0 or top_p > 1.0:
            raise RequestError("top_p", f"{top_p!r} is invalid: 0 (the default) or in (0, 1]")
        constrained = (
            self.decoding == "constrained"
            if decoding is Decoding.DEFAULT
            else decoding is Decoding.CONSTRAINED
        )
        return Sampling(
            constrained=constrained,
            samples=max(1, samples),
            temperature=temperature or self.temperature,
            top_p=top_p or self.top_p,
        )

    def check_text(
        self, field: str, text: str, count_tokens: Callable[[str], int] | None = None
    ) -> None:
        """Raise RequestError naming ``field`` if ``text`` is longer than the limits allow."""
        if len(text) > self.max_instruction_chars:
            raise RequestError(
                field,
                f"{len(text)} characters, more than max_instruction_chars="
                f"{self.max_instruction_chars}",
            )
        if count_tokens is not None and text:
            tokens = count_tokens(text)
            if tokens > self.max_instruction_tokens:
                raise RequestError(
                    field,
                    f"{tokens} tokens, more than max_instruction_tokens="
                    f"{self.max_instruction_tokens}",
                )
