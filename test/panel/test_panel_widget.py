"""The panel widget over a fake bridge, offscreen: buttons, conversation, errors, drawing."""

import sys

import numpy as np
import pytest
from panel.fakes import FakeBridge, grasp

from rt_grasp_ros.errors import MissingDependencyError
from rt_grasp_ros.panel import drawing
from rt_grasp_ros.panel.model import (
    CropArrived,
    CropImage,
    ExecutionFinished,
    GraspPublished,
    PanelState,
    PlanAnswered,
    PlannerState,
    StackError,
    StageReached,
)


@pytest.fixture
def panel(qtbot):
    from rt_grasp_ros.panel.widget import RefinementPanel

    bridge = FakeBridge()
    widget = RefinementPanel(bridge, instruction="pick up the mug")
    qtbot.addWidget(widget)
    widget.show()
    return widget, bridge


def crop():
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[60:140, 60:140] = (200, 180, 40)
    return CropImage(rgb, origin=(120, 40), roi_size=(200, 200))


def buttons(widget):
    return (
        widget.plan_button.isEnabled(),
        widget.refine_button.isEnabled(),
        widget.execute_button.isEnabled(),
    )


def test_plan_refine_execute_through_the_buttons(panel, qtbot):
    widget, bridge = panel
    assert buttons(widget) == (True, False, False)  # nothing planned yet
    widget.plan_button.click()
    assert bridge.calls == [("plan", "pick up the mug")]
    assert buttons(widget) == (False, False, False) and widget.plan_button.text() == "Planning..."
    first = grasp()
    bridge.post(PlanAnswered("plan", True, "planned", "s1", first, first.reasoning, first.answer))
    assert widget.state.session_id == "s1" and widget.state.grasp is first
    assert "a mug: grasp the rim" in widget.conversation.toPlainText()
    assert buttons(widget) == (True, False, True)  # refine waits for a text
    qtbot.keyClicks(widget.follow_up, "a bit more to the left")
    assert buttons(widget) == (True, True, True)
    widget.refine_button.click()
    assert bridge.calls[-1] == ("follow_up", "s1", "a bit more to the left")
    assert widget.follow_up.text() == "" and buttons(widget) == (False, False, False)
    second = grasp(x=0.4, answer="(0.4, 0.5, 0)", reasoning="left of the rim")
    bridge.post(PlanAnswered("follow_up", True, "planned", "s1", second, second.reasoning))
    text = widget.conversation.toPlainText()
    assert text.index("a bit more to the left") < text.index("left of the rim")
    assert widget.state.grasp is second
    widget.execute_button.click()
    assert bridge.calls[-1] == ("execute", second)
    assert buttons(widget) == (False, False, False)
    for stage in ("open", "pre_grasp", "approach", "close", "lift", "hold"):
        bridge.post(StageReached(stage))
    assert "[hold]" in widget.stage_line.text()
    bridge.post(ExecutionFinished(True, "", "held for 1.0 s", "hold"))
    assert "Success" in widget.result_line.text() and not widget.error_line.isVisible()
    assert buttons(widget) == (True, False, True)


def test_errors_from_the_stack_are_shown_and_free_the_buttons(panel):
    widget, bridge = panel
    widget.plan_button.click()
    bridge.post(StackError("plan", "/plan_grasp did not come up within 30 s; the planner is"))
    assert widget.error_line.isVisible() and "did not come up" in widget.error_line.text()
    assert "did not come up" in widget.conversation.toPlainText()
    assert buttons(widget) == (True, False, False)
    widget.plan_button.click()  # a refused plan: the answer and its reason are shown
    bridge.post(PlanAnswered("plan", False, "no pose in the answer", "s2", None, "hm", "blah"))
    assert "no pose in the answer" in widget.error_line.text()
    assert "blah" in widget.conversation.toPlainText()
    g = grasp()
    bridge.post(GraspPublished(g))
    widget.execute_button.click()
    bridge.post(ExecutionFinished(False, "not_grasped", "fingers closed on nothing", "close"))
    assert "not_grasped" in widget.error_line.text() and "close" in widget.error_line.text()
    assert "not_grasped" in widget.result_line.text()
    bridge.post(PlannerState("FAILED", "model 'x' failed to load"))
    assert "failed to load" in widget.error_line.text()
    assert "FAILED" in widget.planner_line.text()


def test_a_bridge_that_refuses_a_request_is_shown(qtbot):
    from rt_grasp_ros.panel.widget import RefinementPanel

    bridge = FakeBridge(refuse="plan")
    widget = RefinementPanel(bridge)
    qtbot.addWidget(widget)
    widget.plan_button.click()
    assert "refused by the fake bridge" in widget.error_line.text()
    assert buttons(widget) == (True, False, False)


def test_a_grasp_from_elsewhere_is_shown_and_the_own_answer_once(panel):
    widget, bridge = panel
    outside = grasp(x=0.3, answer="from rviz", reasoning="the handle, from the RViz menu")
    bridge.post(GraspPublished(outside))
    assert widget.state.grasp is outside and buttons(widget)[2]
    assert "From grasp_planner/grasp" in widget.conversation.toPlainText()
    widget.plan_button.click()
    own = grasp(x=0.6, answer="own")
    bridge.post(GraspPublished(own))  # the planner publishes before it answers
    assert widget.state.grasp is outside  # held until the answer came
    bridge.post(PlanAnswered("plan", True, "planned", "s3", own, own.reasoning))
    assert widget.state.grasp is own
    assert widget.conversation.toPlainText().count("From grasp_planner/grasp") == 1


def test_the_crop_is_drawn_with_the_grasp(panel):
    widget, bridge = panel
    bridge.post(CropArrived(crop()))
    before = widget.image.pixmap().toImage()
    g = grasp(x=0.5, y=0.5)
    bridge.post(GraspPublished(g))
    after = widget.image.pixmap().toImage()
    assert after.size() == before.size() and after != before
    image = drawing.render(crop(), g)
    red = (image[..., 0] > 200) & (image[..., 1] < 80)
    ys, xs = np.nonzero(red)
    # centre at the crop's centre (u, v through the roi), opening 60 px * 1.8 across
    assert abs(xs.mean() - image.shape[1] / 2) < 8 and abs(ys.mean() - image.shape[0] / 2) < 8
    assert 0.5 * 60 * 1.8 < xs.max() - xs.min() < 1.5 * 60 * 1.8


def test_drawing_falls_back_to_the_normalised_centre_and_a_placeholder():
    g = grasp(x=0.25, y=0.75)
    plain = CropImage(np.zeros((100, 100, 3), np.uint8))  # no roi
    assert drawing.grasp_in_crop(g, plain)[:2] == (25.0, 75.0)
    empty = drawing.render(None, g)
    assert empty.shape == (360, 360, 3)


def test_panel_state_refuses_what_the_buttons_would_not_allow():
    state = PanelState()
    with pytest.raises(ValueError, match="plan first"):
        state.start_follow_up("left")
    state.start_plan("pick")
    with pytest.raises(ValueError, match="in flight"):
        state.start_plan("again")
    with pytest.raises(TypeError, match="unknown panel event"):
        state.apply(object())
    state.apply(PlanAnswered("plan", True, "", "s1", grasp(reasoning="<b>x</b> & y")))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in state.conversation_html()


def test_the_qt_binding_is_rqts_inside_rqt(monkeypatch):
    """With python_qt_binding loaded (rqt), the panel uses its modules, not PySide6's."""
    import importlib
    import types

    from PySide6 import QtCore

    fake = types.ModuleType("python_qt_binding")
    fake.QtCore, fake.QtGui, fake.QtWidgets = QtCore, object(), object()
    monkeypatch.setitem(sys.modules, "python_qt_binding", fake)
    monkeypatch.delitem(sys.modules, "rt_grasp_ros.panel.qt", raising=False)
    qt = importlib.import_module("rt_grasp_ros.panel.qt")
    assert qt.BINDING == "python_qt_binding" and qt.QtGui is fake.QtGui
    monkeypatch.delitem(sys.modules, "rt_grasp_ros.panel.qt")


def test_missing_pyside6_says_what_to_install(monkeypatch):
    from rt_grasp_ros.optional import require

    monkeypatch.setitem(sys.modules, "PySide6", None)
    monkeypatch.setitem(sys.modules, "PySide6.QtWidgets", None)
    with pytest.raises(MissingDependencyError, match=r"rt-grasp\[panel\]") as info:
        require("PySide6.QtWidgets", "the grasp refinement panel")
    assert "libegl1" in str(info.value)


def test_the_rqt_wrapper_adds_the_panel_over_rqts_node(monkeypatch, qtbot):
    """rqt is not on PyPI: a stand-in rqt_gui_py.plugin.Plugin checks the wrapper's calls."""
    import importlib
    import types

    from PySide6.QtCore import QObject

    plugin_module = types.ModuleType("rqt_gui_py.plugin")
    plugin_module.Plugin = type(
        "Plugin", (QObject,), {"__init__": lambda s, c: QObject.__init__(s)}
    )
    monkeypatch.setitem(sys.modules, "rqt_gui_py", types.ModuleType("rqt_gui_py"))
    monkeypatch.setitem(sys.modules, "rqt_gui_py.plugin", plugin_module)
    built = []

    class Bridge(FakeBridge):
        def __init__(self, node):
            super().__init__()
            self.node = node
            built.append(self)

    import rt_grasp_ros.ros.panel_bridge as bridge_module

    monkeypatch.setattr(bridge_module, "PanelBridge", Bridge)
    monkeypatch.delitem(sys.modules, "rt_grasp_ros.panel.rqt_plugin", raising=False)
    rqt_plugin = importlib.import_module("rt_grasp_ros.panel.rqt_plugin")

    class Context:
        node = "rqt's node"

        def __init__(self):
            self.widgets = []

        def serial_number(self):
            return 2

        def add_widget(self, widget):
            self.widgets.append(widget)
            qtbot.addWidget(widget)

    context = Context()
    plugin = rqt_plugin.RefinementPanelPlugin(context)
    (widget,) = context.widgets
    assert built[0].node == "rqt's node" and widget.windowTitle().endswith("(2)")
    settings = {}

    class Settings:
        def set_value(self, k, v):
            settings[k] = v

        def value(self, k, default=None):
            return settings.get(k, default)

    widget.instruction.setText("the handle")
    plugin.save_settings(Settings(), Settings())
    widget.instruction.setText("")
    plugin.restore_settings(Settings(), Settings())
    assert widget.instruction.text() == "the handle"
    plugin.shutdown_plugin()
    assert built[0].closed
    monkeypatch.delitem(sys.modules, "rt_grasp_ros.panel.rqt_plugin")
