"""Hand-eye calibration: a ChArUco board on the flange, a fixed camera (eye-to-hand).

:mod:`.board` detects the board and its pose in a camera image (OpenCV's ChArUco detector and
``solvePnP``), :mod:`.handeye` solves for the camera pose in the robot base frame
(``cv2.calibrateHandEye``, then a joint refinement of the reprojection error) and writes it as
the stack's ``camera_extrinsic``, :mod:`.session` moves a robot through poses and collects the
samples. ROS-free and simulator-free: the embedded robot's board lives in
:mod:`rt_grasp_ros.sim.calibration_board`.
"""
