"""The executor's backend parameter: moveit where moveit_py imports, else a clear exit 2."""

from __future__ import annotations

import pytest

from rt_grasp_ros.skills.moveit_goals import moveit_available

pytestmark = pytest.mark.ros


@pytest.mark.skipif(moveit_available(), reason="moveit_py is installed: the backend starts")
def test_backend_moveit_without_moveit_py_names_what_to_install_and_exits_2(start_node):
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("grasp_executor", "-p", "backend:=moveit", timeout=30)
    message = str(info.value)
    assert "moveit-py" in message and "exit status 2" in message


def test_an_unknown_backend_is_refused(start_node):
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("grasp_executor", "-p", "backend:=pilz", timeout=30)
    message = str(info.value)
    assert "cartesian or moveit" in message and "exit status 2" in message
