"""The grasp refinement panel: a Qt widget over the stack's /plan_grasp and /execute_grasp.

- :mod:`~rt_grasp_ros.panel.model`: the conversation and the buttons' states, plain Python.
- :mod:`~rt_grasp_ros.panel.drawing`: the crop with the grasp drawn on it (numpy, OpenCV).
- :mod:`~rt_grasp_ros.panel.qt`: the Qt binding (PySide6 standalone, rqt's inside rqt).
- :mod:`~rt_grasp_ros.panel.widget`: the widget; it talks to a bridge object only.
- :mod:`rt_grasp_ros.ros.panel_bridge`: the rclpy bridge (its own executor thread).
- :mod:`~rt_grasp_ros.panel.app`: ``rt-grasp panel``; :mod:`~rt_grasp_ros.panel.rqt_plugin`:
  the rqt plugin (plugin.xml), imported only where rqt exists.
"""
