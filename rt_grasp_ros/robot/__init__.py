"""ROS-free drivers for a real Franka: the arm and hand over franky, the Cobot Pump."""
