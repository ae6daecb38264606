from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import mujoco
import numpy as np
import pytest

from rt_grasp_ros.sim import panda
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene
from rt_grasp_ros.sim.tools import FrankaHand, SuctionTool
from rt_grasp_ros.sim.urdf import URDF_FILES, robot_urdf
from rt_grasp_ros.sim.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["parallel", "suction"])
def world(request):
    w = World(generate_scene(0, SceneConfig(n_objects=0, gripper=request.param)))
    yield w
    w.close()


def test_ready_pose_matches_franka_figures():
    tcp = panda.forward_kinematics(panda.Q_READY, FrankaHand().tcp_offset)[-1]
    np.testing.assert_allclose(tcp[:3, 3], [0.30689, 0.0, 0.48688], atol=1e-4)
    np.testing.assert_allclose(tcp[:3, 2], [0, 0, -1], atol=1e-9)  # pointing down


def test_mujoco_model_follows_the_dh_table(world):
    rng = np.random.default_rng(0)
    offset = world.tool.tcp_offset
    for _ in range(20):
        q = rng.uniform(panda.Q_MIN, panda.Q_MAX)
        world.data.qpos[world.arm_qpos] = q
        mujoco.mj_kinematics(world.model, world.data)
        frames = panda.forward_kinematics(q, offset)
        for i in range(7):
            body = world.model.jnt_bodyid[world.arm_joints[i]]
            np.testing.assert_allclose(world.data.xpos[body], frames[i][:3, 3], atol=1e-9)
        pos, rot = world.tcp_pose()
        np.testing.assert_allclose(pos, frames[-1][:3, 3], atol=1e-9)
        np.testing.assert_allclose(rot, frames[-1][:3, :3], atol=1e-9)


def test_joint_limits_and_torques_are_the_datasheet_values(world):
    np.testing.assert_allclose(
        world.model.jnt_range[world.arm_joints], np.column_stack([panda.Q_MIN, panda.Q_MAX])
    )
    np.testing.assert_allclose(
        world.model.actuator_ctrlrange[world.arm_actuators][:, 1], panda.TAU_MAX
    )
    masses = world.model.body_mass[world.model.jnt_bodyid[world.arm_joints]]
    np.testing.assert_allclose(masses, [i.mass for i in panda.LINK_INERTIALS[1:]], rtol=1e-6)


@pytest.mark.parametrize(("name", "tool"), sorted(URDF_FILES.items()))
def test_committed_urdf_is_current_and_valid(name, tool):
    path = ROOT / "urdf" / name
    assert path.read_text() == robot_urdf(tool), f"{path} is stale: run `rt-grasp sim urdf`"
    exe = shutil.which("check_urdf")
    if exe is None:
        pytest.skip("check_urdf is installed by `make` (apt liburdfdom-tools)")
    result = subprocess.run([exe, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "Successfully Parsed XML" in result.stdout, (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    ("tool", "tcp_link"), [(FrankaHand(), "panda_hand_tcp"), (SuctionTool(), "panda_suction_tcp")]
)
def test_urdf_kinematics_agree_with_the_dh_table(tool, tcp_link):
    text = robot_urdf(tool).replace(
        "</robot>", '<mujoco><compiler fusestatic="false"/></mujoco></robot>'
    )
    model = mujoco.MjModel.from_xml_string(text)
    data = mujoco.MjData(model)
    tcp = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, tcp_link)
    rng = np.random.default_rng(1)
    for _ in range(10):
        q = rng.uniform(panda.Q_MIN, panda.Q_MAX)
        data.qpos[:7] = q
        mujoco.mj_kinematics(model, data)
        expected = panda.forward_kinematics(q, tool.tcp_offset)[-1]
        np.testing.assert_allclose(data.xpos[tcp], expected[:3, 3], atol=1e-8)
        np.testing.assert_allclose(data.xmat[tcp].reshape(3, 3), expected[:3, :3], atol=1e-7)
