"""Integral settling of a Cartesian impedance controller's reference against joint friction.

A Cartesian impedance controller (spring K to the reference) stops where the spring force
equals the joint friction it has to overcome: friction / K short of the reference, some
millimetres at the 1000 N/m that is usual on a Franka. :class:`ReferenceSettle` shifts the
reference the controller is given by the integral of that residual error, so the TCP itself
comes to rest at the commanded pose; the orientation likewise (a shift that corrects the
position alone leaves the friction's balance to the orientation: on franka-sim the pre-grasp
orientation error went from 0.005 to 0.026 rad). It integrates only in the situation it is
for: the TCP nearly at rest, the error small (not a lag behind a moving target) and no
external force of note (not a contact the impedance is meant to yield to); the shift is
bounded (at most K * limit of extra force) and forgotten when the commanded pose moves on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import ConfigError


@dataclass(frozen=True)
class SettleConfig:
    """When and how fast the reference is shifted.

    Attributes:
        gain: integral gain (1/s): a residual error e shifts the reference by gain * e per
            second; 0 turns settling off.
        limit: the largest shift (m).
        rotation_limit: the largest turn of the reference (rad).
        band: integrate only while the error is below this (m); larger is lag, not friction.
        max_speed: integrate only while the TCP is slower than this (m/s).
        max_force: integrate only while the external force is below this (N).
        forget: a commanded position this far (m) from where the shift was learnt resets it.
    """

    gain: float = 0.0
    limit: float = 0.005
    rotation_limit: float = 0.05
    band: float = 0.01
    max_speed: float = 0.02
    max_force: float = 10.0
    forget: float = 0.02

    def __post_init__(self) -> None:
        if not (np.isfinite(self.gain) and 0.0 <= self.gain <= 50.0):
            raise ConfigError(f"SettleConfig.gain must be in [0, 50] 1/s, got {self.gain}")
        for name in ("limit", "rotation_limit", "band", "max_speed", "max_force", "forget"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0.0):
                raise ConfigError(f"SettleConfig.{name} must be > 0, got {value}")
        if self.limit > 0.02:
            raise ConfigError(f"SettleConfig.limit must be <= 0.02 m, got {self.limit}")


class ReferenceSettle:
    """The reference shift for one commanded pose; :meth:`update` once per state reading."""

    def __init__(self, config: SettleConfig):
        self.config = config
        self.shift = np.zeros(3)
        self.turn = np.zeros(3)  # rotation vector (rad), base frame: applied before the target's
        self._anchor: np.ndarray | None = None
        self._last: float | None = None

    @property
    def enabled(self) -> bool:
        """Whether settling is on (gain > 0)."""
        return self.config.gain > 0.0

    def reset(self) -> None:
        """Forget the shift (a new motion, an error, a recovery)."""
        self.shift = np.zeros(3)
        self.turn = np.zeros(3)
        self._anchor = None
        self._last = None

    def applies(self, commanded: np.ndarray) -> bool:
        """Whether the shift belongs to ``commanded`` (near where it was learnt)."""
        return self._anchor is not None and bool(
            np.linalg.norm(np.asarray(commanded, dtype=float) - self._anchor) <= self.config.forget
        )

    def shifted(self, commanded: np.ndarray) -> np.ndarray:
        """Return ``commanded`` plus the shift where it applies."""
        commanded = np.asarray(commanded, dtype=float)
        return commanded + self.shift if self.applies(commanded) else commanded

    def update(
        self,
        commanded: np.ndarray,
        measured: np.ndarray,
        speed: float,
        force: float,
        stamp: float,
        turn_error: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the reference position for ``commanded`` given the ``measured`` TCP (m).

        Args:
            commanded: the commanded TCP position (3,), base frame.
            measured: the measured TCP position (3,), base frame.
            speed: the TCP's linear speed (m/s).
            force: the magnitude of the external force (N).
            stamp: the robot's time (s), for the integration step.
            turn_error: the rotation vector (rad, base frame) from the measured orientation to
                the commanded one; :attr:`turn` integrates it.
        """
        commanded = np.asarray(commanded, dtype=float)
        if not self.enabled:
            return commanded
        if not self.applies(commanded):
            self.reset()
            self._anchor = commanded.copy()
        dt = 0.0 if self._last is None else min(max(stamp - self._last, 0.0), 0.05)
        self._last = stamp
        error = commanded - np.asarray(measured, dtype=float)
        turn_error = np.zeros(3) if turn_error is None else np.asarray(turn_error, dtype=float)
        c = self.config
        if (
            np.linalg.norm(error) < c.band
            and np.linalg.norm(turn_error) < 10 * c.band
            and speed < c.max_speed
            and force < c.max_force
        ):
            self.shift = _clamp(self.shift + c.gain * dt * error, c.limit)
            self.turn = _clamp(self.turn + c.gain * dt * turn_error, c.rotation_limit)
        return commanded + self.shift


def _clamp(vector: np.ndarray, limit: float) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector * (limit / norm) if norm > limit else vector
