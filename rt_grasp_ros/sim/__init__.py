"""The embedded default robot: a MuJoCo Franka Panda, its grippers, an RGB-D camera and objects.

ROS-free. ``mujoco`` is imported through :mod:`rt_grasp_ros.optional` by the modules that
simulate; the descriptions (kinematics, URDF) need only numpy.
"""
