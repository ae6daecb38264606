"""``rt-grasp panel``: the refinement panel as a standalone window (PySide6)."""

from __future__ import annotations

import os
from pathlib import Path

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.optional import require


def run_panel(instruction: str = "", screenshot: Path | None = None, after: float = 5.0) -> int:
    """Show the panel over the running stack until its window closes; the exit status.

    With ``screenshot``, save the panel as a PNG after ``after`` seconds and quit (works on a
    machine without a display with ``QT_QPA_PLATFORM=offscreen``).
    """
    from rt_grasp_ros.panel.qt import QtCore, QtWidgets  # PySide6 missing: says what to install

    require("rclpy", "the refinement panel's ROS 2 bridge")
    from rt_grasp_ros.panel.widget import RefinementPanel
    from rt_grasp_ros.ros.panel_bridge import PanelBridge

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if screenshot is None and os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        raise RtGraspError(
            "no display (DISPLAY is unset): run the panel on a desktop, or give "
            "--screenshot FILE.png; without a display `rt-grasp ros plan "
            "--session ID --follow-up TEXT` refines from the shell"
        )
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["rt-grasp panel"])
    bridge = PanelBridge()
    panel = RefinementPanel(bridge, instruction=instruction)
    try:
        panel.resize(panel.sizeHint())
        panel.show()
        if screenshot is not None:

            def save() -> None:
                if not panel.grab().save(str(screenshot)):
                    app.exit(1)
                    return
                print(f"wrote {screenshot}")
                app.quit()

            QtCore.QTimer.singleShot(int(after * 1000), save)
        return int(app.exec())
    finally:
        panel.close_bridge()
