"""A compiled scene: MuJoCo model and data, with handles to the robot, objects and camera."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.perception.crop import ObjectCrop, WorkspaceCrop, crop_object, crop_workspace
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.sim import mjcf, panda
from rt_grasp_ros.sim.camera import SceneRenderer
from rt_grasp_ros.sim.gl import mujoco_module
from rt_grasp_ros.sim.scene import SceneSpec
from rt_grasp_ros.sim.tools import FrankaHand

# The object-centred crop on the simulated table: what the default model was trained on.
OBJECT_CROP = ObjectCrop(table_z=mjcf.TABLE_TOP)


@dataclass(frozen=True)
class Contact:
    """A contact between two geoms (ids), with penetration depth and normal (geom1 -> geom2)."""

    geom1: int
    geom2: int
    distance: float
    normal: np.ndarray
    position: np.ndarray


class World:
    """The simulated scene: model, data and named handles."""

    def __init__(self, spec: SceneSpec, shared_gl: bool = False) -> None:
        """Compile ``spec``; ``shared_gl``: render on this process's shared GL context.

        A GL context costs a fresh renderer most of its start (compiling its shaders); a
        process that renders many scenes one after the other (data collection) shares one.
        """
        mj = mujoco_module()
        self.mj = mj
        self.spec = spec
        self.tool = spec.config.tool()
        self.shared_gl = shared_gl
        self.model = mj.MjModel.from_xml_string(spec.to_mjcf())
        self.data = mj.MjData(self.model)
        m = self.model
        joint = lambda name: mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT, name)  # noqa: E731
        self.flying = spec.config.mount == "flying"
        arm_names = () if self.flying else panda.ARM_JOINTS
        self.arm_joints = np.array([joint(name) for name in arm_names], int)
        self.arm_qpos = m.jnt_qposadr[self.arm_joints]
        self.arm_dofs = m.jnt_dofadr[self.arm_joints]
        self.arm_actuators = np.array(
            [mj.mj_name2id(m, mj.mjtObj.mjOBJ_ACTUATOR, f"torque{i}") for i in range(1, 8)]
            if not self.flying
            else [],
            int,
        )
        if self.flying:  # slides x, y, z then the ball: 7 qpos, 6 dofs
            joints = [joint(name) for name in (*mjcf.FLYING_SLIDES, mjcf.FLYING_BALL)]
            self.tool_joints = np.array(joints, int)
            self.tool_body = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, mjcf.FLYING_WRIST)
            self.tool_qpos = np.arange(m.jnt_qposadr[joints[0]], m.jnt_qposadr[joints[0]] + 7)
            self.tool_dofs = np.arange(m.jnt_dofadr[joints[0]], m.jnt_dofadr[joints[0]] + 6)
        self.tcp_site = mj.mj_name2id(m, mj.mjtObj.mjOBJ_SITE, "tcp")
        self.robot_geoms = {g for g in range(m.ngeom) if m.geom_contype[g] == 2}
        if isinstance(self.tool, FrankaHand):
            self.finger_qpos = m.jnt_qposadr[[joint(name) for name in panda.FINGER_JOINTS]]
            self.finger_dofs = m.jnt_dofadr[[joint(name) for name in panda.FINGER_JOINTS]]
            self.finger_actuators = np.array(
                [
                    mj.mj_name2id(m, mj.mjtObj.mjOBJ_ACTUATOR, f"finger_{s}")
                    for s in ("left", "right")
                ]
            )
            self.pad_geoms = (
                mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM, "pad_left"),
                mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM, "pad_right"),
            )
        else:
            self.suction_pad = mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM, "suction_pad")
            self.suction_cup_body = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, "suction_cup")
        self.object_bodies = {
            o.name: mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, o.name) for o in spec.objects
        }
        if spec.articulated is not None:
            self.part_joint = joint(spec.articulated.joint_name)
            self.part_body = mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, spec.articulated.moving_body)
        self._renderer: SceneRenderer | None = None
        self.reset()

    # -- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Objects where the scene put them, the arm (or flying tool) ready, gripper open."""
        self.mj.mj_resetData(self.model, self.data)
        if not self.flying:  # a flying tool starts where the model put it, at the arm's TCP
            self.data.qpos[self.arm_qpos] = panda.Q_READY
        if isinstance(self.tool, FrankaHand):
            self.data.qpos[self.finger_qpos] = self.tool.max_width / 2
            self.data.ctrl[self.finger_actuators] = self.tool.max_width / 2
        self.mj.mj_forward(self.model, self.data)

    @property
    def time(self) -> float:
        """Simulated time (s)."""
        return float(self.data.time)

    def q(self) -> np.ndarray:
        """Arm joint angles (7,)."""
        return self.data.qpos[self.arm_qpos].copy()

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Tool centre point position (3,) and rotation matrix (3, 3) in the base frame."""
        return self.data.site_xpos[self.tcp_site].copy(), self.data.site_xmat[
            self.tcp_site
        ].reshape(3, 3).copy()

    def object_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Position (3,) and rotation matrix (3, 3) of object ``name``."""
        if name not in self.object_bodies:
            raise RtGraspError(f"no object named {name!r}; objects: {sorted(self.object_bodies)}")
        b = self.object_bodies[name]
        return self.data.xpos[b].copy(), self.data.xmat[b].reshape(3, 3).copy()

    def object_com(self, name: str) -> np.ndarray:
        """Centre of mass (3,) of object ``name``."""
        self.object_pose(name)  # validates the name
        return self.data.xipos[self.object_bodies[name]].copy()

    def part_position(self, qpos: np.ndarray | None = None) -> float:
        """Joint value of the articulated object's moving part (m or rad), now or in ``qpos``."""
        if self.spec.articulated is None:
            raise RtGraspError("this scene has no articulated object")
        qpos = self.data.qpos if qpos is None else qpos
        return float(qpos[self.model.jnt_qposadr[self.part_joint]])

    def body_of_geom(self, geom: int) -> int:
        """Body id that owns ``geom``."""
        return int(self.model.geom_bodyid[geom])

    def body_name(self, body: int) -> str:
        """Name of body ``body``."""
        return self.mj.mj_id2name(self.model, self.mj.mjtObj.mjOBJ_BODY, body) or str(body)

    def geom_name(self, geom: int) -> str:
        """Name of geom ``geom``."""
        return self.mj.mj_id2name(self.model, self.mj.mjtObj.mjOBJ_GEOM, geom) or str(geom)

    def contacts(self) -> Iterator[Contact]:
        """Active contacts of the current state."""
        for k in range(self.data.ncon):
            c = self.data.contact[k]
            yield Contact(
                int(c.geom1), int(c.geom2), float(c.dist), c.frame[:3].copy(), c.pos.copy()
            )

    # -- camera --------------------------------------------------------------------------

    def render(self, segmentation: bool = False) -> RGBDFrame:
        """Render the scene camera (RGB, metric depth, optionally geom ids)."""
        if self._renderer is None:
            self._renderer = SceneRenderer(
                self.model, self.spec.config.camera, shared_gl=self.shared_gl
            )
        return self._renderer.render(self.data, segmentation)

    def workspace_crop(self, frame: RGBDFrame) -> WorkspaceCrop:
        """The scene camera's workspace crop of ``frame`` (centred on the camera target)."""
        cam = self.spec.config.camera
        return crop_workspace(frame, cam.crop, center_point=cam.target)

    def object_crop(self, frame: RGBDFrame) -> WorkspaceCrop:
        """The object-centred crop inside the workspace crop (what the default model sees)."""
        return crop_object(self.workspace_crop(frame), OBJECT_CROP)[0]

    def close(self) -> None:
        """Release the renderer's GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
