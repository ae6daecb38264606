"""
The embedded robot behind the real robot's interfaces: MuJoCo Panda, camera, gripper, vacuum.

A physics thread steps the simulated Panda in real time and publishes what the real stack
publishes: /clock, /joint_states, the measured TCP pose, colour + registered depth + camera
info. Target poses drive its Cartesian impedance controller; the Franka Hand answers a
GripperCommand action and the suction cup the Vacuum action. Sim-only services reset the scene
and give its ground-truth grasps and the articulated part's joint position.
"""

import sys
import threading
import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from rclpy._rclpy_pybind11 import RCLError
from rclpy.action import ActionServer
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from rt_grasp.action import Vacuum
from rt_grasp.msg import VacuumState
from rt_grasp.srv import GetPartState, GetSceneGrasps, ResetScene
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.interfaces import gripper_command_action
from rt_grasp_ros.ros.params import above, between, declare, one_of, run_node
from rt_grasp_ros.ros.qos import COMMAND, SENSOR_DATA
from rt_grasp_ros.sim.embedded import EmbeddedRobot, SceneRequest
from sensor_msgs.msg import JointState

GripperCommand = gripper_command_action()


class SimNode(Node):
    """Serves the embedded robot on the real robot's topics, actions and services."""

    def __init__(self):
        super().__init__('sim')
        self.base_frame = declare(self, 'base_frame', 'panda_link0', 'robot base frame')
        self.tcp_frame = declare(self, 'tcp_frame', 'panda_hand_tcp', 'TCP frame')
        rate = declare(self, 'camera_rate', 10.0, 'RGB-D frames per second (0 = none)',
                       between(0.0, 100.0))
        state_rate = declare(self, 'state_rate', 100.0, 'joint state and TCP pose rate (Hz)',
                             above(0.0, 1000.0))
        self.realtime = declare(self, 'realtime_factor', 1.0,
                                'simulated seconds per wall-clock second', above(0.0, 100.0))
        request = SceneRequest(
            seed=declare(self, 'seed', 0, 'scene seed', between(0, 2 ** 63 - 1)),
            categories=tuple(declare(self, 'categories', [''], 'object categories; [] = any')),
            n_objects=declare(self, 'n_objects', 1, 'objects in the scene', between(1, 6)),
            gripper=declare(self, 'gripper', 'parallel', 'parallel or suction',
                            one_of('parallel', 'suction'), "'parallel' or 'suction'"))
        self.robot = EmbeddedRobot(request)
        self.lock = threading.RLock()
        group = ReentrantCallbackGroup()
        self.pub_clock = self.create_publisher(Clock, '/clock', 10)
        self.pub_joints = self.create_publisher(JointState, 'joint_states', COMMAND)
        self.pub_pose = self.create_publisher(PoseStamped, 'current_pose', COMMAND)
        self.pub_color = self.create_publisher(conv.Image, 'camera/color/image_raw', SENSOR_DATA)
        self.pub_depth = self.create_publisher(
            conv.Image, 'camera/aligned_depth_to_color/image_raw', SENSOR_DATA)
        self.pub_info = self.create_publisher(
            conv.CameraInfo, 'camera/color/camera_info', SENSOR_DATA)
        self.pub_vacuum = self.create_publisher(VacuumState, 'vacuum_gripper/state', COMMAND)
        self.create_subscription(
            PoseStamped, 'target_pose', self.on_target, COMMAND, callback_group=group)
        ActionServer(self, GripperCommand, 'franka_gripper/gripper_action', self.on_gripper,
                     callback_group=group)
        ActionServer(self, Vacuum, 'vacuum_gripper/vacuum', self.on_vacuum, callback_group=group)
        self.create_service(ResetScene, 'sim/reset', self.on_reset, callback_group=group)
        self.create_service(GetSceneGrasps, 'sim/scene_grasps', self.on_grasps,
                            callback_group=group)
        self.create_service(GetPartState, 'sim/part_state', self.on_part, callback_group=group)
        self.camera_period = 1.0 / rate if rate > 0 else None
        self.static_tf = self.publish_camera_tf()
        self.state_period = 1.0 / state_rate
        self.running = True
        self.context.on_shutdown(self.stop)
        self.thread = threading.Thread(target=self.run, name='physics', daemon=True)
        self.thread.start()
        self.get_logger().info(
            f'ready: {request.gripper} gripper, scene seed {request.seed}, '
            f'{", ".join(self.robot.categories())}')

    def publish_camera_tf(self):
        """Publish the camera's optical frame in the base frame as a static transform (tf2)."""
        try:
            from geometry_msgs.msg import TransformStamped
            from tf2_ros import StaticTransformBroadcaster
        except ImportError:
            self.get_logger().info('tf2_ros is not installed: no TF (planners take the camera '
                                   'extrinsic from a parameter)')
            return None
        pose = self.robot.camera_pose()
        t = TransformStamped()
        t.header.frame_id, t.child_frame_id = self.base_frame, self.robot.camera_frame()
        t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = (
            float(c) for c in pose.position)
        q = t.transform.rotation
        q.x, q.y, q.z, q.w = (float(c) for c in pose.quat_xyzw)
        broadcaster = StaticTransformBroadcaster(self)
        broadcaster.sendTransform(t)
        return broadcaster

    # -- the physics thread -----------------------------------------------------------------

    def stop(self):
        """Stop the physics thread (on shutdown, before the context goes away)."""
        self.running = False

    def run(self):
        """Run the loop; the thread that rendered releases the renderer (GL contexts are)."""
        try:
            self.loop()
        except RCLError as exc:
            if self.context.ok():
                raise
            self.get_logger().debug(f'publishing stopped at shutdown: {exc}')
        finally:
            self.robot.close()

    def loop(self):
        """Step physics to keep up with the wall clock; publish state and frames when due."""
        wall0, sim0 = time.monotonic(), self.robot.now()
        next_state = next_frame = 0.0
        while self.running and self.context.ok():
            with self.lock:
                if self.robot.reset_pending():
                    self.robot.apply_reset()
                    wall0, sim0 = time.monotonic(), self.robot.now()
                    next_state = next_frame = sim0
                due = sim0 + (time.monotonic() - wall0) * self.realtime
                self.robot.advance_to(min(due, self.robot.now() + 0.05))
                now = self.robot.now()
                stamp = self._stamp(now)
                self.pub_clock.publish(Clock(clock=stamp))
                if now >= next_state:
                    next_state = now + self.state_period
                    self.publish_state(stamp)
                frame = None
                if self.camera_period is not None and now >= next_frame:
                    next_frame = now + self.camera_period
                    frame = self.robot.render()
            if frame is not None:
                self.publish_frame(frame, stamp)
            ahead = self.robot.now() - (sim0 + (time.monotonic() - wall0) * self.realtime)
            time.sleep(max(0.001, ahead / self.realtime))

    @staticmethod
    def _stamp(seconds):
        stamp = Time()
        conv.sec_to_stamp(seconds, stamp)
        return stamp

    def publish_state(self, stamp):
        names, positions, velocities, efforts = self.robot.joint_state()
        msg = JointState(name=names, position=positions, velocity=velocities, effort=efforts)
        msg.header.stamp = stamp
        self.pub_joints.publish(msg)
        self.pub_pose.publish(
            conv.pose_stamped_to_msg(self.robot.tcp_pose(), self.base_frame, stamp))
        vacuum = self.robot.vacuum_state()
        if vacuum is not None:
            state = VacuumState(part_present=vacuum.part_present,
                                in_control_range=vacuum.part_present,
                                device_status=VacuumState.DEVICE_GREEN,
                                actual_power=100 if vacuum.vacuum else 0)
            state.header.stamp = stamp
            self.pub_vacuum.publish(state)

    def publish_frame(self, frame, stamp):
        frame_id = frame.camera.frame_id
        self.pub_color.publish(conv.rgb_to_msg(frame.rgb, frame_id, stamp))
        self.pub_depth.publish(conv.depth_to_msg(frame.depth, frame_id, stamp))
        self.pub_info.publish(conv.camera_info_to_msg(frame.camera, stamp=stamp))

    # -- callbacks --------------------------------------------------------------------------

    def on_target(self, msg):
        if msg.header.frame_id and msg.header.frame_id != self.base_frame:
            self.get_logger().error(
                f'target_pose in frame {msg.header.frame_id!r} ignored: expected '
                f'{self.base_frame!r}')
            return
        try:
            pose = conv.pose_from_msg(msg.pose)
        except conv.ConversionError as exc:
            self.get_logger().error(f'target_pose ignored: {exc}')
            return
        with self.lock:
            self.robot.set_target(pose)

    def on_gripper(self, goal_handle):
        command = goal_handle.request.command
        result = GripperCommand.Result()
        with self.lock:
            started = self.robot.command_gripper(2 * command.position, command.max_effort)
        if started is not None:
            goal_handle.abort()
            result.position = self.robot.gripper_width() / 2
            return result
        width, held = self.wait_for(self.robot.gripper_settled, timeout=3.0)
        result.position, result.effort = width / 2, float(command.max_effort if held else 0.0)
        result.stalled = held
        result.reached_goal = abs(width - 2 * command.position) < 0.002
        goal_handle.succeed()
        return result

    def on_vacuum(self, goal_handle):
        goal = goal_handle.request
        result = Vacuum.Result()
        if goal.command not in (Vacuum.Goal.VACUUM, Vacuum.Goal.DROP_OFF):
            result.message = f'command {goal.command} is not VACUUM (0) or DROP_OFF (1)'
            goal_handle.abort()
            return result
        on = goal.command == Vacuum.Goal.VACUUM
        with self.lock:
            error = self.robot.command_vacuum(on)
        if error is not None:
            result.message = error
            goal_handle.abort()
            return result
        timeout = goal.timeout if goal.timeout > 0 else 1.0
        present = self.wait_for(lambda: self.robot.vacuum_settled(on), timeout)
        result.success = present == on
        result.state.part_present = bool(present)
        result.message = '' if result.success else (
            'no part sealed at the cup within the timeout' if on else 'the part is still held')
        goal_handle.succeed()
        return result

    def wait_for(self, check, timeout):
        """Poll ``check() -> (done, value)`` under the lock until done or ``timeout`` sim-s."""
        with self.lock:
            end = self.robot.now() + timeout
        while True:
            with self.lock:
                done, value = check()
                if done or self.robot.now() >= end:
                    return value
            time.sleep(0.01)

    def on_reset(self, request, response):
        try:
            req = SceneRequest(request.seed, tuple(request.categories),
                               max(1, request.n_objects), request.gripper or None,
                               request.view)
            with self.lock:
                self.robot.request_reset(req)
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        while True:
            with self.lock:
                if not self.robot.reset_pending():
                    break
            time.sleep(0.01)
        with self.lock:
            response.stamp = self._stamp(self.robot.now())
        response.success, response.objects = True, self.robot.categories()
        response.message = f'scene {request.seed}: {", ".join(response.objects)}'
        return response

    def on_grasps(self, request, response):
        with self.lock:
            try:
                targets = self.robot.ground_truth(request.object or None)
            except RtGraspError as exc:
                response.message = str(exc)
                return response
        response.grasps = [conv.target_to_grasp_msg(t, self.base_frame) for t in targets]
        response.success = True
        response.message = f'{len(targets)} ground-truth grasps'
        return response

    def on_part(self, request, response):
        with self.lock:
            try:
                response.joint_type, response.position = self.robot.part_state()
            except RtGraspError as exc:
                response.message = str(exc)
                return response
        response.success = True
        return response

    def destroy_node(self):
        """Stop the physics thread, then destroy the node."""
        self.running = False
        if self.thread.is_alive():
            self.thread.join(timeout=10.0)
        super().destroy_node()


def main(args=None):
    """Run the node until Ctrl-C."""
    return run_node(SimNode, args, threads=4)


if __name__ == '__main__':
    sys.exit(main())
