"""ManipLLM's world: contact poses, active impedance adaptation, data and evaluation.

:mod:`~rt_grasp_ros.manip.contact`, :mod:`~rt_grasp_ros.manip.aia` and
:mod:`~rt_grasp_ros.manip.tasks` are the ROS-free core (no simulator); the other modules run
ManipLLM's procedures on the embedded MuJoCo robot.
"""
