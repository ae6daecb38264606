"""The refinement panel as an rqt plugin (plugin.xml): import it only where rqt exists.

rqt loads its Qt binding (python_qt_binding) before this module, so the widget uses rqt's Qt
(see :mod:`rt_grasp_ros.panel.qt`); the bridge uses rqt's node, which rqt spins.
"""

from __future__ import annotations

from typing import Any

from rqt_gui_py.plugin import Plugin

from rt_grasp_ros.panel.widget import TITLE, RefinementPanel
from rt_grasp_ros.ros.panel_bridge import PanelBridge


class RefinementPanelPlugin(Plugin):
    """rqt's wrapper of :class:`~rt_grasp_ros.panel.widget.RefinementPanel`."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.setObjectName("RtGraspRefinementPanelPlugin")
        self._widget = RefinementPanel(PanelBridge(node=context.node))
        if context.serial_number() > 1:
            self._widget.setWindowTitle(f"{TITLE} ({context.serial_number()})")
        context.add_widget(self._widget)

    def shutdown_plugin(self) -> None:
        """Close the bridge (rqt destroys its node itself)."""
        self._widget.close_bridge()

    def save_settings(self, plugin_settings: Any, instance_settings: Any) -> None:
        """Keep the instruction across rqt sessions."""
        instance_settings.set_value("instruction", self._widget.instruction.text())

    def restore_settings(self, plugin_settings: Any, instance_settings: Any) -> None:
        """Restore the instruction."""
        value = instance_settings.value("instruction", "")
        self._widget.instruction.setText(str(value or ""))
