"""
The embedded robot behind the real robot's interfaces: MuJoCo Panda, camera, gripper, vacuum.

A physics thread steps the simulated Panda in real time and publishes what the real stack
publishes: /clock, /joint_states, the measured TCP pose, colour + registered depth + camera
info. Target poses drive its Cartesian impedance controller; the Franka Hand answers a
GripperCommand action and the suction cup the Vacuum action. Sim-only services reset the scene
(an object scene, or ManipLLM's articulated scene of a category with the suction tool) and give
its ground-truth grasps, the articulated part's joint position (also published on
sim/part_joint_state) and the oracle contact pose on the part (sim/scene_contact).

A physics failure stops the node loudly: an exception in the physics thread (MuJoCo, the
renderer, a scene that does not build), or a thread that makes no step for ``physics_timeout``
wall-clock seconds, is logged with its traceback, calls that wait on physics answer with the
cause, and the process exits with status 1 (so ``rt-grasp ros up`` stops the stack). Every
wait on physics is bounded by wall-clock time.
"""

import contextlib
import math
import sys
import threading
import time
import traceback

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, WrenchStamped
from rclpy._rclpy_pybind11 import RCLError
from rclpy.action import ActionServer
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from rt_grasp.action import Vacuum
from rt_grasp.msg import VacuumState
from rt_grasp.srv import GetPartState, GetSceneContact, GetSceneGrasps, ResetScene
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.frames import camera_transform_fields, transform_msg
from rt_grasp_ros.ros.interfaces import gripper_command_action
from rt_grasp_ros.ros.params import above, at_least, between, declare, one_of, run_node
from rt_grasp_ros.ros.qos import COMMAND, SENSOR_DATA
from rt_grasp_ros.sim.articulated import ARTICULATED
from rt_grasp_ros.sim.embedded import EmbeddedRobot, SceneRequest
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import MultiDOFJointTrajectory

GripperCommand = gripper_command_action()
CHUNK = 0.05  # simulated seconds stepped between two looks at the wall clock and the callbacks
# Wall-clock seconds between a physics failure and the node's shutdown, so that calls waiting
# on physics can still send their answer (the cause).
FAILURE_GRACE_S = 0.5


class PhysicsError(RtGraspError):
    """The physics thread failed, stalled, or did not answer within physics_timeout."""


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
        clock_rate = declare(self, 'clock_rate', 250.0, '/clock messages per simulated second '
                             '(each is work for every node on use_sim_time)', above(0.0, 1000.0))
        self.realtime = declare(self, 'realtime_factor', 1.0,
                                'simulated seconds per wall-clock second; 0 = as fast as '
                                'physics allows (every node on use_sim_time)',
                                at_least(0.0, 100.0))
        self.physics_timeout = declare(
            self, 'physics_timeout', 30.0,
            'wall-clock seconds (s) a call waits for the physics thread beyond the simulated '
            'time it asks for, and the longest the thread may go without a step before the '
            'node stops with status 1', above(0.0, 3600.0))
        request = SceneRequest(
            seed=declare(self, 'seed', 0, 'scene seed', between(0, 2 ** 63 - 1)),
            categories=tuple(declare(self, 'categories', [''], 'object categories; [] = any')),
            n_objects=declare(self, 'n_objects', 1, 'objects in the scene', between(1, 6)),
            gripper=declare(self, 'gripper', 'parallel', 'parallel or suction',
                            one_of('parallel', 'suction'), "'parallel' or 'suction'"),
            articulated=declare(self, 'articulated', '', "an articulated category (ManipLLM's "
                                'scene of seed with it, the suction tool); empty = objects',
                                one_of('', *ARTICULATED), 'empty or ' + ', '.join(ARTICULATED)))
        self.robot = EmbeddedRobot(request)
        self.jobs = []  # (work, done event, answer box): run by the physics thread
        self.lock = threading.RLock()
        group = ReentrantCallbackGroup()
        self.pub_clock = self.create_publisher(Clock, '/clock', 10)
        self.pub_joints = self.create_publisher(JointState, 'joint_states', COMMAND)
        self.pub_pose = self.create_publisher(PoseStamped, 'current_pose', COMMAND)
        # as franka_ros2's state broadcaster: the estimated external wrench at the TCP
        self.pub_wrench = self.create_publisher(WrenchStamped, 'external_wrench', COMMAND)
        self.pub_color = self.create_publisher(conv.Image, 'camera/color/image_raw', SENSOR_DATA)
        self.pub_depth = self.create_publisher(
            conv.Image, 'camera/aligned_depth_to_color/image_raw', SENSOR_DATA)
        self.pub_info = self.create_publisher(
            conv.CameraInfo, 'camera/color/camera_info', SENSOR_DATA)
        self.pub_vacuum = self.create_publisher(VacuumState, 'vacuum_gripper/state', COMMAND)
        self.pub_part = self.create_publisher(JointState, 'sim/part_joint_state', COMMAND)
        self.create_subscription(
            PoseStamped, 'target_pose', self.on_target, COMMAND, callback_group=group)
        self.create_subscription(MultiDOFJointTrajectory, 'target_trajectory', self.on_path,
                                 COMMAND, callback_group=group)
        ActionServer(self, GripperCommand, 'franka_gripper/gripper_action', self.on_gripper,
                     callback_group=group)
        ActionServer(self, Vacuum, 'vacuum_gripper/vacuum', self.on_vacuum, callback_group=group)
        self.create_service(ResetScene, 'sim/reset', self.on_reset, callback_group=group)
        self.create_service(GetSceneGrasps, 'sim/scene_grasps', self.on_grasps,
                            callback_group=group)
        self.create_service(GetPartState, 'sim/part_state', self.on_part, callback_group=group)
        self.create_service(GetSceneContact, 'sim/scene_contact', self.on_contact,
                            callback_group=group)
        self.camera_period = 1.0 / rate if rate > 0 else None
        self.static_tf = self.publish_camera_tf()
        self.state_period = 1.0 / state_rate
        self.clock_period = 1.0 / clock_rate
        self.running = True
        self.failure = None  # what stopped the physics thread, once it failed
        self.fail_lock = threading.Lock()
        self.heartbeat = time.monotonic()  # wall clock of the physics thread's last step
        self.stopping = threading.Event()
        self.context.on_shutdown(self.stop)
        self.thread = threading.Thread(target=self.run, name='physics', daemon=True)
        self.thread.start()
        threading.Thread(target=self.watch, name='physics-watchdog', daemon=True).start()
        self.get_logger().info(
            f'ready: {self.robot.gripper_kind.value} gripper, scene seed {request.seed}, '
            f'{", ".join(self.scene_objects())}')

    def scene_objects(self):
        """Return the scene's categories (the articulated one where there is one)."""
        articulated = self.robot.articulated_category()
        return [articulated] if articulated else self.robot.categories()

    def publish_camera_tf(self):
        """Publish the camera's optical frame in the base frame as a static transform (tf2)."""
        try:
            from tf2_ros import StaticTransformBroadcaster
        except ImportError:
            self.get_logger().info('tf2_ros is not installed: no TF (the stack passes the same '
                                   'camera pose to the nodes as camera_extrinsic)')
            return None
        broadcaster = StaticTransformBroadcaster(self)
        self.send_camera_tf(broadcaster)
        return broadcaster

    def send_camera_tf(self, broadcaster):
        """Send the scene camera's pose (an articulated scene's camera moves with its seed)."""
        fields = camera_transform_fields(
            self.base_frame, self.robot.camera_frame(), self.robot.camera_pose())
        broadcaster.sendTransform(transform_msg(fields, self.get_clock().now().to_msg()))

    # -- the physics thread -----------------------------------------------------------------

    def stop(self):
        """Stop the physics thread (on shutdown, before the context goes away)."""
        self.running = False
        self.stopping.set()

    def run(self):
        """Run the loop; the thread that rendered releases the renderer (GL contexts are)."""
        try:
            self.loop()
        except RCLError as exc:
            if self.context.ok():
                self.fail(exc)
            else:
                self.get_logger().debug(f'publishing stopped at shutdown: {exc}')
        except Exception as exc:  # noqa: BLE001 - any physics or render failure stops the node
            self.fail(exc)
        finally:
            self.robot.close()

    def fail(self, cause):
        """
        Record the physics failure ``cause`` (an exception or a text), log it, stop the node.

        Calls waiting on physics answer with the cause at once; the context shuts down
        FAILURE_GRACE_S later, and main() then returns 1.
        """
        with self.fail_lock:
            if self.failure is not None:
                return
            self.failure = f'{type(cause).__name__}: {cause}' if isinstance(
                cause, BaseException) else str(cause)
        if isinstance(cause, BaseException):
            trace = '\n' + ''.join(traceback.format_exception(cause)).rstrip()
        else:
            trace = ''
        self.running = False
        self.get_logger().fatal(f'physics failed: {self.failure}; stopping the node{trace}')
        timer = threading.Timer(FAILURE_GRACE_S, self.context.try_shutdown)
        timer.daemon = True
        timer.start()

    def watch(self):
        """Fail the node when the physics thread makes no step for physics_timeout seconds."""
        period = min(0.5, self.physics_timeout / 4)
        while self.running and not self.stopping.wait(period):
            stale = time.monotonic() - self.heartbeat
            if stale > self.physics_timeout and self.thread.is_alive():
                self.fail(f'the physics thread made no step for {stale:.1f} s '
                          f'(physics_timeout={self.physics_timeout:g} s): it is stuck')
                return

    @contextlib.contextmanager
    def physics(self, deadline):
        """
        Hold the physics lock until the block ends; raise PhysicsError past ``deadline``.

        ``deadline`` is a time.monotonic() value; a failed physics raises at once.
        """
        while not self.lock.acquire(timeout=0.02):
            self._check(deadline, 'the physics thread did not let go of the scene')
        try:
            self._check(None, '')
            yield
        finally:
            self.lock.release()

    def _check(self, deadline, what):
        if self.failure is not None:
            raise PhysicsError(f'physics failed: {self.failure}')
        # the physics thread ends with the node: a wait on it ends too, not at its deadline
        # (a gripper goal in flight at Ctrl-C held the process past the stack's stop bound)
        if self.stopping.is_set() or not self.context.ok():
            raise PhysicsError('the sim is stopping')
        if deadline is not None and time.monotonic() > deadline:
            raise PhysicsError(f'{what} within physics_timeout={self.physics_timeout:g} s '
                               '(wall clock)')

    def deadline(self, sim_seconds=0.0):
        """Return the wall-clock deadline of a wait for ``sim_seconds`` of simulated time."""
        # realtime_factor 0 runs as fast as it can: physics_timeout alone bounds the wait
        pace = sim_seconds / self.realtime if self.realtime else 0.0
        return time.monotonic() + pace + self.physics_timeout

    def loop(self):
        """Step physics to keep up with the wall clock; publish state and frames when due."""
        wall0, sim0 = time.monotonic(), self.robot.now()
        next_state = next_frame = next_clock = 0.0
        while self.running and self.context.ok():
            self.heartbeat = time.monotonic()
            with self.lock:
                if self.robot.reset_pending():
                    self.robot.apply_reset()
                    wall0, sim0 = time.monotonic(), self.robot.now()
                    next_state = next_frame = next_clock = sim0
                due = (sim0 + (time.monotonic() - wall0) * self.realtime if self.realtime
                       else math.inf)
                self.robot.advance_to(min(due, self.robot.now() + CHUNK))
                now = self.robot.now()
                stamp = self._stamp(now)
                if now >= next_clock:  # every node on use_sim_time reads each one
                    next_clock = now + self.clock_period
                    self.pub_clock.publish(Clock(clock=stamp))
                if now >= next_state:
                    next_state = now + self.state_period
                    self.publish_state(stamp)
                self.run_jobs()
                frame = None
                if self.camera_period is not None and now >= next_frame:
                    next_frame = now + self.camera_period
                    frame = self.robot.render()
            if frame is not None:
                self.publish_frame(frame, stamp)
            if not self.realtime:
                time.sleep(0)  # let the callbacks take the lock
                continue
            ahead = self.robot.now() - (sim0 + (time.monotonic() - wall0) * self.realtime)
            time.sleep(max(0.001, ahead / self.realtime))

    def run_jobs(self):
        """Run the work handed to the physics thread (rendering needs its GL context)."""
        jobs, self.jobs = self.jobs, []
        for work, done, box in jobs:
            try:
                box.append(work())
            except RtGraspError as exc:
                box.append(exc)
            done.set()

    def in_physics(self, work, deadline):
        """Return ``work()`` run by the physics thread (it raises what work raised)."""
        done, box = threading.Event(), []
        with self.physics(deadline):
            self.jobs.append((work, done, box))
        while not done.wait(0.02):
            self._check(deadline, 'the physics thread did not run the request')
        if isinstance(box[0], RtGraspError):
            raise box[0]
        return box[0]

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
        self.pub_wrench.publish(conv.wrench_to_msg(self.robot.wrench(), self.base_frame, stamp))
        vacuum = self.robot.vacuum_state()
        if vacuum is not None:
            state = VacuumState(part_present=vacuum.part_present,
                                in_control_range=vacuum.part_present,
                                device_status=VacuumState.DEVICE_GREEN,
                                actual_power=100 if vacuum.vacuum else 0)
            state.header.stamp = stamp
            self.pub_vacuum.publish(state)
        if self.robot.articulated_category():
            name, position, velocity = self.robot.part_joint()
            part = JointState(name=[name], position=[position], velocity=[velocity])
            part.header.stamp = stamp
            self.pub_part.publish(part)

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
            with self.physics(self.deadline()):
                self.robot.set_target(pose)
        except (conv.ConversionError, PhysicsError) as exc:
            self.get_logger().error(f'target_pose ignored: {exc}', throttle_duration_sec=1.0)

    def on_path(self, msg):
        if msg.header.frame_id and msg.header.frame_id != self.base_frame:
            self.get_logger().error(
                f'target_trajectory in frame {msg.header.frame_id!r} ignored: expected '
                f'{self.base_frame!r}')
            return
        try:
            path = conv.path_from_msg(msg)
        except conv.ConversionError as exc:
            self.get_logger().error(f'target_trajectory ignored: {exc}')
            return
        with self.lock:
            self.robot.follow_path(path)

    def on_gripper(self, goal_handle):
        command = goal_handle.request.command
        result = GripperCommand.Result()
        try:
            with self.physics(self.deadline()):
                started = self.robot.command_gripper(2 * command.position, command.max_effort)
                result.position = self.robot.gripper_width() / 2
            if started is not None:
                self.get_logger().error(f'gripper command refused: {started}')
                goal_handle.abort()
                return result
            width, held = self.wait_for(self.robot.gripper_settled, timeout=3.0)
        except PhysicsError as exc:
            self.get_logger().error(f'gripper command aborted: {exc}')
            goal_handle.abort()
            return result
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
        timeout = goal.timeout if goal.timeout > 0 else 1.0
        try:
            with self.physics(self.deadline()):
                error = self.robot.command_vacuum(on)
            if error is None:
                present = self.wait_for(lambda: self.robot.vacuum_settled(on), timeout)
        except PhysicsError as exc:
            error = str(exc)
        if error is not None:
            result.message = error
            goal_handle.abort()
            return result
        result.success = present == on
        result.state.part_present = bool(present)
        result.message = '' if result.success else (
            'no part sealed at the cup within the timeout' if on else 'the part is still held')
        goal_handle.succeed()
        return result

    def wait_for(self, check, timeout):
        """
        Poll ``check() -> (done, value)`` under the lock until done or ``timeout`` sim-s.

        Raises PhysicsError if physics fails, or if simulated time does not get there within
        timeout / realtime_factor + physics_timeout seconds of wall-clock time.
        """
        deadline = self.deadline(timeout)
        with self.physics(deadline):
            end = self.robot.now() + timeout
        while True:
            with self.physics(deadline):
                done, value = check()
                if done or self.robot.now() >= end:
                    return value
            self._check(deadline, f'simulated time did not advance by {timeout:g} s')
            time.sleep(0.01)

    def on_reset(self, request, response):
        try:
            req = SceneRequest(request.seed, tuple(request.categories),
                               max(1, request.n_objects), request.gripper or None,
                               request.view, request.articulated)
            deadline = self.deadline()
            with self.physics(deadline):
                self.robot.request_reset(req)
            while True:
                with self.physics(deadline):
                    if not self.robot.reset_pending():
                        response.stamp = self._stamp(self.robot.now())
                        response.objects = self.scene_objects()
                        break
                self._check(deadline, 'the physics thread did not build the new scene')
                time.sleep(0.01)
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        if self.static_tf is not None:
            self.send_camera_tf(self.static_tf)
        response.success = True
        response.message = f'scene {request.seed}: {", ".join(response.objects)}'
        return response

    def on_grasps(self, request, response):
        try:
            with self.physics(self.deadline()):
                targets = self.robot.ground_truth(request.object or None)
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        response.grasps = [conv.target_to_grasp_msg(t, self.base_frame) for t in targets]
        response.success = True
        response.message = f'{len(targets)} ground-truth grasps'
        return response

    def on_part(self, request, response):
        try:
            with self.physics(self.deadline()):
                response.joint_type, response.position = self.robot.part_state()
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        response.success = True
        return response

    def on_contact(self, request, response):
        def oracle():
            contact, frame = self.robot.scene_contact(request.seed)
            return contact, frame, self.robot.articulated_category(), self._stamp(
                self.robot.now())

        try:
            contact, frame, category, stamp = self.in_physics(oracle, self.deadline())
        except RtGraspError as exc:
            response.message = str(exc)
            return response
        response.contact = conv.contact_to_msg(contact, frame, self.base_frame, category, stamp)
        response.success = True
        response.message = f'the oracle contact on the {category}'
        return response

    def destroy_node(self):
        """Stop the physics thread, then destroy the node."""
        self.stop()
        if self.thread.is_alive():
            # a stuck thread (failed node) is left behind: it is a daemon
            self.thread.join(timeout=10.0 if self.failure is None else 1.0)
        super().destroy_node()


def main(args=None):
    """Run the node until Ctrl-C; 1 if physics failed, 2 for a bad parameter, else 0."""
    made = []

    def sim_node():
        made.append(SimNode())
        return made[-1]

    status = run_node(sim_node, args, threads=4)
    if status == 0 and made and made[0].failure is not None:
        return 1
    return status


if __name__ == '__main__':
    sys.exit(main())
