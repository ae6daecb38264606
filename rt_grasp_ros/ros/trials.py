"""
Demo trials through the ROS stack: reset the sim, plan on its crop, execute over DDS.

The stack is the one `rt-grasp ros up sim:=true model:=...` starts; the sim runs faster than
real time and every node follows its clock (use_sim_time).
"""

from contextlib import ExitStack
import time

import rclpy
from rclpy.action import ActionClient
from rt_grasp.action import ExecuteGrasp
from rt_grasp.srv import GetSceneGrasps, PlanGrasp, ResetScene
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.pipeline.trials import DemoTrial
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.bringup import Stack
from rt_grasp_ros.ros.clients import PlannerWatch, wait_for_plan_service
from rt_grasp_ros.ros.frame_sync import FrameMatcher
from rt_grasp_ros.ros.qos import SENSOR_DATA


class RosTrials:
    """
    Runs demo trials on a stack it starts; use as a context manager.

    The sim runs as fast as physics allows (``realtime_factor`` 0) and renders a frame a
    simulated second: oracle trials need none, model trials the first after a reset.
    """

    def __init__(self, model=None, realtime_factor=0.0, log=print):
        self.model_path, self.log = model, log
        self.overrides = {'sim': {'realtime_factor': realtime_factor, 'camera_rate': 1.0}}

    def __enter__(self):
        args = {'sim': 'true', 'model': str(self.model_path or '')}
        # whatever fails below (a node that exits at start, a service that never comes up,
        # Ctrl-C) stops the nodes and rclpy again: __exit__ does not run when __enter__ raises
        with ExitStack() as cleanup:
            self.stack = cleanup.enter_context(Stack(args, self.overrides, self.log))
            self._owns = not rclpy.ok()
            if self._owns:
                rclpy.init()
                cleanup.callback(rclpy.try_shutdown)
            self.node = rclpy.create_node('rt_grasp_trials')
            cleanup.callback(self.node.destroy_node)
            self._connect()
            self._cleanup = cleanup.pop_all()
        return self

    def _connect(self):
        self.reset = self.node.create_client(ResetScene, 'sim/reset')
        self.truth = self.node.create_client(GetSceneGrasps, 'sim/scene_grasps')
        self.plan = self.node.create_client(PlanGrasp, 'plan_grasp')
        self.planner = PlannerWatch(self.node)
        self.execute = ActionClient(self.node, ExecuteGrasp, 'execute_grasp')
        self.frames, self.crop = FrameMatcher(), None
        for kind, topic, msg_type in (('color', 'crop/color', conv.Image),
                                      ('depth', 'crop/depth', conv.Image),
                                      ('info', 'crop/camera_info', conv.CameraInfo)):
            self.node.create_subscription(
                msg_type, topic, lambda m, k=kind: self._on_part(k, m), SENSOR_DATA)
        for client in (self.reset, self.truth):
            self.stack.wait_until(client.service_is_ready, 120.0,
                                  f'{client.srv_name} did not come up')
        self.stack.wait_until(self.execute.server_is_ready, 120.0,
                              '/execute_grasp did not come up')

    def __exit__(self, *exc):
        return self._cleanup.__exit__(*exc)

    def _on_part(self, kind, msg):
        parts = self.frames.add(kind, msg)
        if parts is not None:
            self.crop = parts

    def _wait(self, future, timeout, what):
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
        if not future.done():
            raise RtGraspError(f'{what} did not answer within {timeout:.0f} s')
        return future.result()

    def _reset(self, seed, view):
        response = self._wait(self.reset.call_async(ResetScene.Request(
            seed=seed, view=view, n_objects=1)), 120.0, 'sim/reset')
        if not response.success:
            raise RtGraspError(f'reset failed: {response.message}')
        return response

    def _execute(self, grasp):
        handle = self._wait(self.execute.send_goal_async(ExecuteGrasp.Goal(grasp=grasp)),
                            60.0, '/execute_grasp')
        return self._wait(handle.get_result_async(), 300.0, '/execute_grasp').result

    def _fresh_crop(self, after, timeout=120.0):
        """Wait for the first crop (colour, depth, info of one stamp) taken after ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
            crop = self.crop
            if crop is not None and conv.stamp_to_sec(crop[0].header.stamp) > after:
                return crop
        raise RtGraspError('no camera crop of the new scene arrived')

    def oracle(self, seed, view):
        """Run a ground-truth grasp of the sim through /execute_grasp."""
        reset = self._reset(seed, view)
        truth = self._wait(self.truth.call_async(GetSceneGrasps.Request(object='obj0')),
                           60.0, 'sim/scene_grasps')
        if not truth.grasps:
            return DemoTrial(reset.objects[0], False, 'no ground-truth grasp')
        result = self._execute(truth.grasps[0])
        return DemoTrial(reset.objects[0], result.success, result.failure)

    def model(self, seed, view):
        """Plan on the new scene's crop through /plan_grasp and run it through /execute_grasp."""
        reset = self._reset(seed, view)
        color, depth, info = self._fresh_crop(conv.stamp_to_sec(reset.stamp))
        request = PlanGrasp.Request(decoding=PlanGrasp.Request.DECODING_CONSTRAINED,
                                    image=color, depth=depth, camera_info=info)
        # advertised once the model has loaded; a failed load answers with its cause
        wait_for_plan_service(self.node, self.plan, self.planner, 300.0)
        response = self._wait(self.plan.call_async(request), 300.0, '/plan_grasp')
        crop = conv.rgb_from_msg(color)
        answer = response.grasp.answer
        if not response.success:
            return DemoTrial(reset.objects[0], False, 'invalid', answer, crop)
        image = response.grasp.image
        pose = GraspPose.wrapped(image.x, image.y, image.theta)
        result = self._execute(response.grasp)
        return DemoTrial(reset.objects[0], result.success, result.failure, answer, crop, pose)
