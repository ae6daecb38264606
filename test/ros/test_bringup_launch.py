"""launch/grasp.launch.py read statically, where ROS 2's launch is missing (test_launch.py skips).

The launch file builds its nodes from the stack description; here its source is checked to do
so for RViz too, with the parameters the description gives (use_sim_time when the sim runs).
"""

import ast
from pathlib import Path

from rt_grasp_ros.ros.stack import rviz_parameters

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "grasp.launch.py"


def node_calls(package):
    """The ``Node(...)`` calls of the launch file with ``package=<package>``."""
    tree = ast.parse(LAUNCH_FILE.read_text(encoding="utf-8"))
    calls = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Node":
            kwargs = {k.arg: k.value for k in call.keywords}
            if getattr(kwargs.get("package"), "value", None) == package:
                calls.append(kwargs)
    return calls


def test_rviz_follows_the_sim_clock_when_the_sim_runs():
    assert rviz_parameters({"sim": "true"}) == {"use_sim_time": True}
    assert rviz_parameters({"sim": "false", "camera_extrinsic": "0 0 1 0 0 0 1"}) == {
        "use_sim_time": False
    }
    (rviz,) = node_calls("rviz2")
    parameters = rviz.get("parameters")
    assert isinstance(parameters, ast.List), "the rviz2 Node has no parameters"
    names = [getattr(p.func, "id", None) for p in parameters.elts if isinstance(p, ast.Call)]
    assert names == ["rviz_parameters"]


def test_robot_state_publisher_follows_the_sim_clock():
    (rsp,) = node_calls("robot_state_publisher")
    (params,) = rsp["parameters"].elts
    keys = {k.value: v for k, v in zip(params.keys, params.values, strict=True)}
    assert getattr(keys["use_sim_time"], "value", None) is True
