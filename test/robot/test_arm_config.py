"""The libfranka driver's arm settings are checked before anything connects."""

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.robot.libfranka_arm import ArmConfig


def test_friction_feedforward_is_off_by_default_and_validated():
    assert ArmConfig("127.0.0.1").friction_coulomb == (0.0,) * 7
    assert ArmConfig("127.0.0.1", friction_coulomb=(1.0,) * 4 + (0.5,) * 3)
    for bad in ((1.0,) * 6, (-0.1,) * 7, (float("nan"),) * 7, (9.0,) * 7):
        with pytest.raises(ConfigError, match="friction_coulomb"):
            ArmConfig("127.0.0.1", friction_coulomb=bad)
