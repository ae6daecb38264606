"""
The rclpy layer of rt_grasp: one node per module, each with a main().

Only this package may import rclpy or the generated interfaces (rt_grasp.msg, .srv, .action).
A callback validates its input, converts messages to the ROS-free core's types, calls the core
once and converts the answer back. Nodes are started as `ros2 run rt_grasp <node>` (the
launchers installed in lib/rt_grasp/) or `python -m rt_grasp_ros.ros.<node>`.
"""
