"""The refinement panel: the crop with the grasp, the conversation, Plan / Refine / Execute.

The widget talks to a *bridge* only, an object with these methods (the rclpy one is
:class:`rt_grasp_ros.ros.panel_bridge.PanelBridge`; tests use a plain Python stand-in):

- ``connect(post)``: from then on the bridge calls ``post(event)`` with the events of
  :mod:`rt_grasp_ros.panel.model`, from any thread;
- ``plan(instruction)``, ``follow_up(session_id, text)``, ``execute(grasp)``: start a request
  and return at once (its answer comes as an event);
- ``close()``.

``post`` hands each event to the GUI thread through a queued Qt signal, so nothing the stack
does runs (or waits) in the GUI thread; every error the bridge reports is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rt_grasp_ros.panel.drawing import render
from rt_grasp_ros.panel.model import STAGES, PanelState, StackError
from rt_grasp_ros.panel.qt import Qt, QtCore, QtGui, QtWidgets, Signal

TITLE = "rt_grasp: refine a grasp"


def to_pixmap(rgb: np.ndarray) -> Any:
    """An (H, W, 3) uint8 RGB array as a QPixmap (copied: Qt does not keep the array)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888)
    return QtGui.QPixmap.fromImage(image.copy())


class RefinementPanel(QtWidgets.QWidget):
    """The panel over a bridge (see the module docstring); :attr:`state` is what it shows."""

    event_posted = Signal(object)

    def __init__(self, bridge: Any, instruction: str = "", parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("RtGraspRefinementPanel")
        self.setWindowTitle(TITLE)
        self.bridge = bridge
        self.state = PanelState()
        self._drawn = -1
        self._build(instruction)
        # AutoConnection: queued when the bridge posts from its threads, direct from this one
        self.event_posted.connect(self._on_event)
        self.refresh()
        bridge.connect(self.post)

    # --- layout ---

    def _build(self, instruction: str) -> None:
        self.image = QtWidgets.QLabel()
        self.image.setObjectName("crop")
        self.image.setMinimumSize(360, 360)
        self.image.setAlignment(Qt.AlignCenter)
        self.grasp_line = QtWidgets.QLabel()
        self.grasp_line.setWordWrap(True)
        self.planner_line = QtWidgets.QLabel()
        self.planner_line.setWordWrap(True)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.image, 1)
        left.addWidget(self.grasp_line)
        left.addWidget(self.planner_line)

        self.conversation = QtWidgets.QTextBrowser()
        self.conversation.setObjectName("conversation")
        self.instruction = QtWidgets.QLineEdit(instruction)
        self.instruction.setPlaceholderText("instruction, e.g. pick up the mug by its handle")
        self.plan_button = QtWidgets.QPushButton("Plan")
        self.follow_up = QtWidgets.QLineEdit()
        self.follow_up.setPlaceholderText("free follow-up, e.g. grasp it a bit more to the left")
        self.refine_button = QtWidgets.QPushButton("Refine")
        self.execute_button = QtWidgets.QPushButton("Execute")
        self.stage_line = QtWidgets.QLabel()
        self.stage_line.setObjectName("stages")
        self.result_line = QtWidgets.QLabel()
        self.result_line.setObjectName("result")
        self.result_line.setWordWrap(True)
        self.error_line = QtWidgets.QLabel()
        self.error_line.setObjectName("error")
        self.error_line.setWordWrap(True)
        self.error_line.setStyleSheet("color: #c0392b; font-weight: bold")
        self.error_line.setTextInteractionFlags(Qt.TextSelectableByMouse)

        plan_row = QtWidgets.QHBoxLayout()
        plan_row.addWidget(self.instruction, 1)
        plan_row.addWidget(self.plan_button)
        refine_row = QtWidgets.QHBoxLayout()
        refine_row.addWidget(self.follow_up, 1)
        refine_row.addWidget(self.refine_button)
        execute_row = QtWidgets.QHBoxLayout()
        execute_row.addWidget(self.execute_button)
        execute_row.addWidget(self.stage_line, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("<b>Conversation</b>"))
        right.addWidget(self.conversation, 1)
        right.addLayout(plan_row)
        right.addLayout(refine_row)
        right.addLayout(execute_row)
        right.addWidget(self.result_line)
        right.addWidget(self.error_line)

        top = QtWidgets.QHBoxLayout(self)
        top.addLayout(left, 1)
        top.addLayout(right, 1)

        self.plan_button.clicked.connect(self.on_plan)
        self.refine_button.clicked.connect(self.on_refine)
        self.execute_button.clicked.connect(self.on_execute)
        self.instruction.returnPressed.connect(self.on_plan)
        self.follow_up.returnPressed.connect(self.on_refine)
        self.follow_up.textChanged.connect(self._update_buttons)

    # --- from the bridge (any thread) ---

    def post(self, event: Any) -> None:
        """Hand one bridge event to the GUI thread (thread-safe)."""
        self.event_posted.emit(event)

    def _on_event(self, event: Any) -> None:
        self.state.apply(event)
        self.refresh()

    # --- the buttons ---

    def on_plan(self) -> None:
        """Start a new session with the instruction."""
        if not self.state.can_plan():
            return
        text = self.instruction.text()
        self.state.start_plan(text)
        self._request(lambda: self.bridge.plan(text.strip()), "plan")

    def on_refine(self) -> None:
        """Send the follow-up in the current session."""
        text = self.follow_up.text()
        if not self.state.can_refine(text):
            return
        session = self.state.session_id
        self.state.start_follow_up(text)
        self.follow_up.clear()
        self._request(lambda: self.bridge.follow_up(session, text.strip()), "follow_up")

    def on_execute(self) -> None:
        """Execute the grasp shown."""
        if not self.state.can_execute():
            return
        grasp = self.state.grasp
        self.state.start_execute()
        self._request(lambda: self.bridge.execute(grasp), "execute")

    def _request(self, start: Any, what: str) -> None:
        try:
            start()
        except Exception as exc:  # noqa: BLE001 -- shown: the bridge refused to start it
            self.state.apply(StackError(what, f"{type(exc).__name__}: {exc}"))
        self.refresh()

    # --- drawing ---

    def refresh(self) -> None:
        """Redraw what changed since the last call."""
        state = self.state
        if state.revision == self._drawn:
            return
        self._drawn = state.revision
        self.image.setPixmap(to_pixmap(render(state.crop, state.grasp)))
        self.conversation.setHtml(state.conversation_html())
        bar = self.conversation.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.grasp_line.setText(
            f"<b>Grasp:</b> {state.grasp.summary()}" if state.grasp else "<b>Grasp:</b> none yet"
        )
        session = f"; session {state.session_id}" if state.session_id else ""
        self.planner_line.setText(
            f"<b>Planner:</b> {state.planner.state} ({state.planner.message}){session}"
        )
        self.stage_line.setText(self._stages_html())
        result = state.result
        if result is None:
            self.result_line.setText("")
        elif result.success:
            self.result_line.setText(
                f'<span style="color:#1e7b34"><b>Success</b></span>: {result.message}'
            )
        else:
            self.result_line.setText(f"<b>Failed ({result.failure})</b> in {result.stage}")
        self.error_line.setText(state.error)
        self.error_line.setVisible(bool(state.error))
        self._update_buttons()

    def _stages_html(self) -> str:
        done = self.state.stages
        if not done and self.state.busy != "execute":
            return ""
        parts = []
        for stage in STAGES:
            if stage in ("release", "retreat") and stage not in done:
                continue  # only with release set
            if done and stage == done[-1]:
                parts.append(f"<b>[{stage}]</b>")
            elif stage in done:
                parts.append(f'<span style="color:#1e7b34">{stage}</span>')
            else:
                parts.append(f'<span style="color:#999999">{stage}</span>')
        return " &rarr; ".join(parts)

    def _update_buttons(self, *_: Any) -> None:
        state = self.state
        self.plan_button.setEnabled(state.can_plan())
        self.refine_button.setEnabled(state.can_refine(self.follow_up.text()))
        self.execute_button.setEnabled(state.can_execute())
        busy = {"plan": "Planning...", "follow_up": "Refining...", "execute": "Executing..."}
        self.plan_button.setText(busy["plan"] if state.busy == "plan" else "Plan")
        self.refine_button.setText(busy["follow_up"] if state.busy == "follow_up" else "Refine")
        self.execute_button.setText(busy["execute"] if state.busy == "execute" else "Execute")

    def close_bridge(self) -> None:
        """Close the bridge (the rqt plugin's shutdown, the app's exit)."""
        self.bridge.close()

    def sizeHint(self) -> Any:  # noqa: N802 -- Qt's name
        """A size that shows the crop and a few turns."""
        return QtCore.QSize(980, 560)
