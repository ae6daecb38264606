"""The embedded robot as a node drives it: a scene that can be reset, stepped to a time, read.

ROS-free: the sim node is a thin shell over :class:`EmbeddedRobot`. Physics advances only in
:meth:`EmbeddedRobot.advance_to`; targets and gripper commands are set without blocking.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.grasp.target import GraspTarget, GripperKind
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.manip.policies import oracle_policy
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.perception.frame import RGBDFrame
from rt_grasp_ros.planning.geometry import SUCTION_YAW, GraspGeometry
from rt_grasp_ros.sim import panda
from rt_grasp_ros.sim.articulated import ARTICULATED
from rt_grasp_ros.sim.grasps import object_grasp_targets
from rt_grasp_ros.sim.gripper import ParallelGripper
from rt_grasp_ros.sim.objects import SUCTION_CATEGORIES
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.scene import SceneConfig, generate_scene, object_view
from rt_grasp_ros.sim.world import World
from rt_grasp_ros.skills.motion import TargetPath, UnreachableError
from rt_grasp_ros.transforms import Pose, top_down_rotation

SETTLE_S = 0.3
# A path longer than this (m) sets the posture, as a skill's checked move does in process; the
# short unchecked steps of a pull (AIA: 1.5 cm) keep it, as they do there.
POSTURE_MOVE = 0.03

# Fault-injection seam for tests of what serves this robot (the sim node's physics thread):
# when set, advance_to calls it with the simulated time before stepping, and whatever it
# raises (or however long it blocks) is a physics failure, as a MuJoCo or renderer error
# would be. None in normal use; nothing in the package sets it.
physics_fault: Callable[[float], None] | None = None


@dataclass(frozen=True)
class SceneRequest:
    """Which scene to build: seed, categories (empty = any), object count, gripper."""

    seed: int = 0
    categories: tuple[str, ...] = ()
    n_objects: int = 1
    gripper: str | None = "parallel"
    view: int = -1
    articulated: str = ""

    def config(self, current_gripper: str) -> SceneConfig:
        """The scene config (validated: unknown categories or grippers name themselves).

        Without categories, a suction tool gets the categories it can pick.
        """
        if self.articulated:
            if self.articulated not in ARTICULATED:
                raise RtGraspError(
                    f"unknown articulated category {self.articulated!r}; "
                    f"known: {', '.join(ARTICULATED)}"
                )
            return manip_scene(self.seed, self.articulated).config
        gripper = self.gripper or current_gripper
        cats = tuple(c for c in self.categories if c) or None
        if cats is None and GripperKind.parse(gripper) is GripperKind.SUCTION:
            cats = SUCTION_CATEGORIES
        return SceneConfig(n_objects=self.n_objects, categories=cats, gripper=gripper)


@dataclass(frozen=True)
class VacuumReading:
    """What the vacuum reports: suction on, and whether a part is sealed."""

    vacuum: bool
    part_present: bool


class EmbeddedRobot:
    """A seeded scene with the Panda in it, stepped on demand."""

    def __init__(self, request: SceneRequest) -> None:
        self._pending: SceneRequest | None = None
        self._offset = 0.0  # simulated time of earlier scenes: the clock never goes back
        self._build(request)

    def _build(self, request: SceneRequest) -> None:
        config = request.config("parallel")
        if request.articulated:  # ManipLLM's scene: its view randomised, the suction tool
            spec = manip_scene(request.seed, request.articulated)
        elif request.view >= 0:
            spec = object_view(request.seed, request.view, config)
        else:
            spec = generate_scene(request.seed, config)
        self.world = World(spec)
        self.robot = SimRobot(self.world)
        self.robot.wait(SETTLE_S)  # objects come to rest before anyone looks
        self._path: tuple[float, TargetPath] | None = None  # (start time, path) being followed
        self._gripper_t0 = self.robot.now()
        self._last_width = self.gripper_width()

    # -- scene ------------------------------------------------------------------------------

    def request_reset(self, request: SceneRequest) -> None:
        """Validate ``request`` now; the physics loop builds it at its next step."""
        request.config(self.gripper_kind.value)
        self._pending = request

    def reset_pending(self) -> bool:
        """Whether a reset waits to be applied."""
        return self._pending is not None

    def apply_reset(self) -> None:
        """Build the requested scene (call from the thread that renders)."""
        request, self._pending = self._pending, None
        gripper = "suction" if request.articulated else request.gripper or self.gripper_kind.value
        self._offset = self.now()
        self.close()
        self._build(replace(request, gripper=gripper))

    def categories(self) -> list[str]:
        """Object categories in scene order (the first is the target)."""
        return [o.spec.category for o in self.world.spec.objects]

    @property
    def gripper_kind(self) -> GripperKind:
        """The mounted tool."""
        return self.robot.gripper_kind

    # -- time and state ---------------------------------------------------------------------

    def now(self) -> float:
        """Simulated time (s), continuing across resets."""
        return self._offset + self.robot.now()

    def advance_to(self, t: float) -> None:
        """Step physics until simulated time reaches ``t``, following a path if one is set."""
        if physics_fault is not None:
            physics_fault(self.now())
        steps = int((t - self.now()) / self.robot.control_period)
        if self._path is None:
            if steps > 0:
                self.robot.step(steps)
            return
        start, path = self._path
        for _ in range(max(0, steps)):
            self.robot.set_target(path.at(self.now() - start))
            self.robot.step()
        if self.now() - start >= path.duration:
            self.robot.set_target(path.poses[-1])
            self._path = None

    def joint_state(self) -> tuple[list[str], list[float], list[float], list[float]]:
        """Names, positions, velocities and efforts for /joint_states (URDF joint names)."""
        w = self.world
        names, dofs = list(panda.ARM_JOINTS), list(w.arm_dofs)
        qpos = list(w.arm_qpos)
        if isinstance(self.robot.gripper, ParallelGripper):
            names += list(panda.FINGER_JOINTS)
            dofs += list(w.finger_dofs)
            qpos += list(w.finger_qpos)
        d = w.data
        return (
            names,
            [float(d.qpos[i]) for i in qpos],
            [float(d.qvel[i]) for i in dofs],
            [float(d.qfrc_actuator[i]) for i in dofs],
        )

    def tcp_pose(self) -> Pose:
        """Measured TCP pose."""
        return self.robot.tcp_pose()

    def wrench(self) -> np.ndarray:
        """External wrench at the TCP in the base frame (6,): force (N), then torque (Nm)."""
        return self.robot.wrench()

    def set_target(self, pose: Pose) -> None:
        """New impedance target (returns at once); it replaces a path being followed."""
        self._path = None
        self.robot.set_target(pose)

    def follow_path(self, path: TargetPath) -> None:
        """Follow ``path`` from now on, interpolated at every physics step (returns at once).

        For a path longer than ``POSTURE_MOVE`` the controller's nullspace posture becomes the
        IK solution of its end, as :meth:`SimRobot.check_target` makes it in process before a
        checked motion (a tool turned to face a drawer fights a posture left pointing down); an
        end out of reach keeps the posture.
        """
        end = path.poses[-1]
        if np.linalg.norm(end.position - self.robot.target_pose().position) > POSTURE_MOVE:
            with contextlib.suppress(UnreachableError):
                self.robot.check_target(end)
        self._path = (self.now(), path)

    def camera_pose(self) -> Pose:
        """The scene camera's optical frame in the base frame."""
        return self.world.spec.config.camera.camera().base_from_camera

    def camera_frame(self) -> str:
        """The scene camera's optical frame id."""
        return self.world.spec.config.camera.camera().frame_id

    def render(self) -> RGBDFrame:
        """An RGB-D frame of the scene camera."""
        return self.world.render()

    # -- tools ------------------------------------------------------------------------------

    def gripper_width(self) -> float:
        """Finger opening (m); 0 for the suction tool."""
        return self.robot.gripper_status().width

    def command_gripper(self, width: float, effort: float) -> str | None:
        """Move to ``width`` (effort 0) or grasp with ``effort`` N; an error text if refused."""
        gripper = self.robot.gripper
        if not isinstance(gripper, ParallelGripper):
            return "the robot carries a suction tool, not a parallel gripper"
        try:
            if effort > 0 and width < self.gripper_width():
                gripper.grasp(min(effort, gripper.hand.continuous_force))
            else:
                gripper.move(float(np.clip(width, 0.0, gripper.hand.max_width)))
        except RtGraspError as exc:
            return str(exc)
        self._gripper_t0, self._last_width = self.now(), self.gripper_width()
        return None

    def gripper_settled(self) -> tuple[bool, tuple[float, bool]]:
        """Whether the fingers stopped, with (width, holding an object)."""
        width = self.gripper_width()
        moved = abs(width - self._last_width)
        self._last_width = width
        done = self.now() - self._gripper_t0 > 0.2 and moved < 1e-5
        return done, (width, self.robot.gripper_status().grasped)

    def command_vacuum(self, on: bool) -> str | None:
        """Switch suction on or off; an error text if there is no suction tool."""
        if self.gripper_kind is not GripperKind.SUCTION:
            return "the robot carries a parallel gripper, not a suction tool"
        (self.robot.close_gripper if on else self.robot.open_gripper)()
        return None

    def vacuum_settled(self, on: bool) -> tuple[bool, bool]:
        """Whether the vacuum reached its state, with part present."""
        present = self.robot.gripper_status().grasped
        return (present if on else not present), present

    def vacuum_state(self) -> VacuumReading | None:
        """The vacuum's reading, or None without a suction tool."""
        if self.gripper_kind is not GripperKind.SUCTION:
            return None
        s = self.robot.gripper_status()
        return VacuumReading(s.vacuum, s.grasped)

    # -- ground truth -----------------------------------------------------------------------

    def ground_truth(self, name: str | None = None) -> list[GraspTarget]:
        """Ground-truth TCP targets of object ``name`` (or all), for the mounted tool."""
        names = [name] if name else list(self.world.object_bodies)
        out = []
        for n in names:
            self.world.object_pose(n)  # validates the name
            if self.gripper_kind is GripperKind.PARALLEL:
                out += object_grasp_targets(self.world, n)
            else:
                out += self._suction_targets(n)
        return out

    def _suction_targets(self, name: str) -> list[GraspTarget]:
        pos, rot = self.world.object_pose(name)
        spec = next(o.spec for o in self.world.spec.objects if o.name == name)
        press = np.array([0.0, 0.0, GraspGeometry().suction_press])
        return [
            GraspTarget(
                Pose(rot @ np.asarray(sp.position) + pos - press, top_down_rotation(SUCTION_YAW)),
                0.0,
                GripperKind.SUCTION,
            )
            for sp in spec.suction
        ]

    def object_height(self, name: str = "obj0") -> float:
        """Height of an object's centre of mass (m): the ground truth of a lift."""
        return float(self.world.object_com(name)[2])

    def part_state(self) -> tuple[str, float]:
        """Joint type (prismatic or revolute) and position of the articulated part."""
        a = self.world.spec.articulated
        if a is None:
            raise RtGraspError("this scene has no articulated object")
        return ("prismatic" if a.joint_type == "slide" else "revolute"), self.world.part_position()

    def articulated_category(self) -> str:
        """The articulated object's category, or '' in an object scene."""
        a = self.world.spec.articulated
        return "" if a is None else a.kind

    def part_joint(self) -> tuple[str, float, float]:
        """The articulated part's joint name, position and velocity (m or rad, m/s or rad/s)."""
        a = self.world.spec.articulated
        if a is None:
            raise RtGraspError("this scene has no articulated object")
        dof = self.world.model.jnt_dofadr[self.world.part_joint]
        return a.joint_name, self.world.part_position(), float(self.world.data.qvel[dof])

    def scene_contact(self, seed: int) -> tuple[ContactPose, RGBDFrame]:
        """The oracle contact on the articulated part, with the frame it is a pixel of.

        The oracle of ``rt-grasp manip evaluate`` (:func:`oracle_policy`) on a frame rendered
        now (call from the thread that renders).

        Raises:
            RtGraspError: no articulated part, or it is out of view.
        """
        if self.world.spec.articulated is None:
            raise RtGraspError("this scene has no articulated object (reset with articulated)")
        frame = self.world.render(segmentation=True)
        contact = oracle_policy(self.world, np.random.default_rng(seed))(frame, "")
        h, w = frame.depth.shape
        if not (0 <= contact.x < w and 0 <= contact.y < h):
            raise RtGraspError(
                f"the articulated part's contact ({contact.x:.0f}, {contact.y:.0f}) is out of "
                f"the {w}x{h} view"
            )
        return contact, frame

    def close(self) -> None:
        """Release the renderer."""
        self.world.close()
