"""The panel's tests run on Qt's offscreen platform (no display), with PySide6 from PyPI."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

pytest.importorskip(
    "PySide6.QtWidgets", reason="PySide6 is missing: `pip install 'rt-grasp[panel]'`"
)
