"""Simulator speed: render frames/s and simulated-to-wall time ratio with the controller on.

Baselines measured in the same run: RGB-only rendering for the RGB+depth frame rate, and
physics-only stepping (no controller) for the controlled step rate.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco

from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.trials import TrialConfig, run_trial
from rt_grasp_ros.sim.world import World


def rate(fn, seconds: float = 3.0) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    world = World(generate_scene(4, SceneConfig(n_objects=3)))
    robot = SimRobot(world)
    world.render()  # create the GL context outside the timing
    renderer = world._renderer._renderer
    rgb_only = rate(lambda: (renderer.update_scene(world.data, camera="rgbd"), renderer.render()))
    rgbd = rate(lambda: world.render())
    rgbd_seg = rate(lambda: world.render(segmentation=True))
    print(
        f"render 640x480 ({os.environ['MUJOCO_GL']}): RGB {rgb_only:.1f} fps, "
        f"RGB+depth {rgbd:.1f} fps, "
        f"+segmentation {rgbd_seg:.1f} fps (RGB+depth / RGB = {rgbd / rgb_only:.2f})"
    )

    dt = world.model.opt.timestep
    physics = rate(lambda: mujoco.mj_step(world.model, world.data), 2.0)
    controlled = rate(lambda: robot.step(), 2.0)
    print(f"physics only: {physics:,.0f} steps/s = {physics * dt:.1f}x real time")
    print(
        f"with the impedance controller: {controlled:,.0f} steps/s = "
        f"{controlled * dt:.1f}x real time "
        f"(controller cost: {physics / controlled:.1f}x slower than physics alone)"
    )
    world.close()

    times = []
    for seed in range(10):
        result = run_trial(seed, TrialConfig())
        times.append((result.wall_time, result.sim_time))
    wall = sum(t for t, _ in times) / len(times)
    sim = sum(s for _, s in times) / len(times)
    print(
        f"grasp trial: {wall:.2f} s wall for {sim:.1f} s simulated "
        f"({sim / wall:.1f}x real time, incl. render)"
    )


if __name__ == "__main__":
    main()
