"""`rt-grasp panel` says what is missing: PySide6, or a display."""

import os
import subprocess
import sys

import pytest

from rt_grasp_ros.cli.main import build_parser

WITHOUT_PYSIDE6 = """
import sys
sys.modules["PySide6"] = None  # as where PySide6 is not installed
from rt_grasp_ros.cli.main import main
sys.exit(main(["panel"]))
"""


def run(code, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    clean.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
    )


def test_the_panel_command_is_registered():
    args = build_parser().parse_args(["panel", "--instruction", "the mug", "--after", "2"])
    assert args.command == "panel" and args.instruction == "the mug" and args.after == 2.0


def test_without_pyside6_the_panel_says_what_to_install():
    result = run(WITHOUT_PYSIDE6)
    assert result.returncode == 2, result.stderr
    assert "rt-grasp[panel]" in result.stderr and "PySide6" in result.stderr


def test_without_a_display_the_panel_points_to_screenshot_and_the_cli():
    result = run("import sys\nfrom rt_grasp_ros.cli.main import main\nsys.exit(main(['panel']))")
    if "rclpy" in result.stderr and "needs the Python module" in result.stderr:
        pytest.skip("rclpy is missing: the panel says so before it looks for a display")
    assert result.returncode == 2, result.stderr
    assert "--screenshot" in result.stderr and "--follow-up" in result.stderr
