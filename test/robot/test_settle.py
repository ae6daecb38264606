"""Integral settling of the impedance reference (rt_grasp_ros.robot.settle)."""

import numpy as np
import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.robot.settle import ReferenceSettle, SettleConfig

TARGET = np.array([0.5, 0.0, 0.3])


def spring_with_friction(settle, steps=300, dt=0.01, friction=0.004, force=0.0, speed=0.0):
    """A TCP that stops `friction` m short of its reference along -x (friction / K)."""
    measured = TARGET - [friction, 0, 0]
    reference = TARGET
    for k in range(steps):
        reference = settle.update(TARGET, measured, speed, force, k * dt)
        # quasi-static: the TCP rests friction / K short of the reference it is given
        measured = reference - [friction, 0, 0]
    return reference, measured


def test_a_friction_offset_goes_to_zero():
    reference, measured = spring_with_friction(ReferenceSettle(SettleConfig(gain=4.0)))
    assert np.linalg.norm(measured - TARGET) < 1e-4
    assert reference[0] == pytest.approx(TARGET[0] + 0.004, abs=1e-4)


def test_off_by_default_the_reference_is_the_target():
    reference, measured = spring_with_friction(ReferenceSettle(SettleConfig()))
    assert np.array_equal(reference, TARGET)
    assert np.linalg.norm(measured - TARGET) == pytest.approx(0.004)


def test_the_shift_is_bounded():
    reference, measured = spring_with_friction(
        ReferenceSettle(SettleConfig(gain=4.0, limit=0.002)), friction=0.008
    )
    assert np.linalg.norm(reference - TARGET) == pytest.approx(0.002)
    assert np.linalg.norm(measured - TARGET) == pytest.approx(0.006)


@pytest.mark.parametrize(
    "situation",
    [
        {"force": 15.0},  # a contact the impedance yields to
        {"speed": 0.05},  # still moving
        {"friction": 0.03},  # a lag behind the target, not friction
    ],
)
def test_it_does_not_integrate_against_contact_motion_or_lag(situation):
    reference, _ = spring_with_friction(ReferenceSettle(SettleConfig(gain=4.0)), **situation)
    assert np.array_equal(reference, TARGET)


def test_the_shift_is_forgotten_when_the_target_moves_on():
    settle = ReferenceSettle(SettleConfig(gain=4.0))
    spring_with_friction(settle)
    assert np.linalg.norm(settle.shift) > 0.003
    near, far = TARGET + np.array([0, 0, 0.01]), TARGET + np.array([0, 0, 0.05])
    assert np.allclose(settle.shifted(near), near + settle.shift)
    assert np.array_equal(settle.shifted(far), far)
    assert np.array_equal(settle.update(far, far, 0.0, 0.0, 10.0), far)
    assert not settle.shift.any()


def test_a_long_gap_between_readings_is_not_one_big_step():
    settle = ReferenceSettle(SettleConfig(gain=4.0, limit=0.02))
    settle.update(TARGET, TARGET - [0.004, 0, 0], 0.0, 0.0, 0.0)
    settle.update(TARGET, TARGET - [0.004, 0, 0], 0.0, 0.0, 5.0)  # 5 s later: one 0.05 s step
    assert settle.shift[0] == pytest.approx(4.0 * 0.05 * 0.004)


@pytest.mark.parametrize(
    ("field", "value"),
    [("gain", -1.0), ("gain", float("nan")), ("limit", 0.0), ("limit", 0.05), ("band", -0.1)],
)
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"SettleConfig.{field}"):
        SettleConfig(**{field: value})


def test_an_orientation_offset_is_integrated_too():
    settle = ReferenceSettle(SettleConfig(gain=4.0))
    lag = np.array([0.0, 0.0, 0.01])  # rad: the orientation rests this far behind its reference
    for k in range(300):
        turn_error = lag - settle.turn  # what is left once the reference is turned by `turn`
        settle.update(TARGET, TARGET, 0.0, 0.0, k * 0.01, turn_error)
    assert np.allclose(settle.turn, lag, atol=1e-4)
    settle.reset()
    assert not settle.turn.any()
