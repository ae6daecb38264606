"""The Qt binding the panel is written against.

Inside rqt the widget must use rqt's own binding (``python_qt_binding``: PyQt5 on ROS 2
installs), since two Qt versions cannot share one process; elsewhere (``rt-grasp panel``,
the tests) it uses PySide6 from PyPI. The widget code uses only API both have: ``Signal``,
unscoped enums such as ``Qt.AlignTop`` and ``QImage.Format_RGB888``.
"""

from __future__ import annotations

import sys

from rt_grasp_ros.optional import require

PURPOSE = "the grasp refinement panel (rt-grasp panel)"

if "python_qt_binding" in sys.modules:  # rqt loaded its binding before importing the plugin
    from python_qt_binding import QtCore, QtGui, QtWidgets

    BINDING = "python_qt_binding"
else:
    QtCore = require("PySide6.QtCore", PURPOSE)
    QtGui = require("PySide6.QtGui", PURPOSE)
    QtWidgets = require("PySide6.QtWidgets", PURPOSE)
    BINDING = "PySide6"

Signal = QtCore.Signal
Qt = QtCore.Qt

__all__ = ["BINDING", "Qt", "QtCore", "QtGui", "QtWidgets", "Signal"]
