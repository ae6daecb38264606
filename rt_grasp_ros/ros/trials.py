"""
Demo trials through the ROS stack: reset the sim, plan on its crop, execute over DDS.

The stack is the one `rt-grasp ros up sim:=true model:=...` starts; the sim runs faster than
real time and every node follows its clock (use_sim_time).
"""

import tempfile
import time

import rclpy
from rclpy.action import ActionClient
from rt_grasp.action import ExecuteGrasp
from rt_grasp.srv import GetSceneGrasps, PlanGrasp, ResetScene
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.pose import GraspPose
from rt_grasp_ros.pipeline.trials import DemoTrial
from rt_grasp_ros.ros import conversions as conv
from rt_grasp_ros.ros.bringup import start_nodes, stop_nodes
from rt_grasp_ros.ros.clients import PlannerWatch, wait_for_plan_service
from rt_grasp_ros.ros.frame_sync import FrameMatcher
from rt_grasp_ros.ros.qos import SENSOR_DATA


class RosTrials:
    """Runs demo trials on a stack it starts; use as a context manager."""

    def __init__(self, model=None, realtime_factor=3.0, log=print):
        self.model_path, self.log = model, log
        self.overrides = {'sim': {'realtime_factor': realtime_factor, 'camera_rate': 4.0}}
        self.procs = []

    def __enter__(self):
        args = {'sim': 'true', 'model': str(self.model_path or '')}
        self.output = tempfile.TemporaryFile()
        self.procs = start_nodes(args, self.overrides, self.log, self.output)
        self._owns = not rclpy.ok()
        if self._owns:
            rclpy.init()
        self.node = rclpy.create_node('rt_grasp_trials')
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
            if not client.wait_for_service(timeout_sec=120.0):
                raise RtGraspError(f'{client.srv_name} did not come up: {self._output()}')
        if not self.execute.wait_for_server(timeout_sec=120.0):
            raise RtGraspError(f'/execute_grasp did not come up: {self._output()}')
        return self

    def __exit__(self, *exc):
        self.node.destroy_node()
        if self._owns:
            rclpy.try_shutdown()
        stop_nodes(self.procs, log=lambda _: None)
        self.output.close()

    def _on_part(self, kind, msg):
        parts = self.frames.add(kind, msg)
        if parts is not None:
            self.crop = parts

    def _output(self):
        self.output.seek(0)
        return self.output.read().decode(errors='replace')[-2000:]

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
