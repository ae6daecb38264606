"""Gripper control and state: the Franka Hand's fingers and the suction cup's vacuum."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.sim.tools import FrankaHand, SuctionTool


@dataclass(frozen=True)
class GripperState:
    """What the gripper is doing.

    Attributes:
        width: finger opening (m); 0 for the suction tool.
        holding: name of the held object or part, or None.
        vacuum: whether the suction is on (suction tool only).
    """

    width: float
    holding: str | None
    vacuum: bool = False


class ParallelGripper:
    """Franka Hand: the coupled fingers move at a limited speed and squeeze with a set force."""

    def __init__(self, world: object, hand: FrankaHand) -> None:
        self.world, self.hand = world, hand
        self.target_width = self.command = self.width()
        self.force = hand.continuous_force
        self.speed = hand.max_speed

    def width(self) -> float:
        """Current opening (m)."""
        return float(self.world.data.qpos[self.world.finger_qpos].sum())

    def move(self, width: float, speed: float | None = None) -> None:
        """Open or close to ``width`` (m), like franka_ros2's ``move`` action."""
        if not 0 <= width <= self.hand.max_width:
            raise ConfigError(f"gripper width {width} m is outside [0, {self.hand.max_width}] m")
        self.command = min(self.command, self.width() + 0.002)  # do not wind up when blocked
        self.target_width, self.force = width, self.hand.continuous_force
        self.speed = min(speed or self.hand.max_speed, self.hand.max_speed)

    def grasp(self, force: float, speed: float | None = None) -> None:
        """Close until the fingers squeeze with ``force`` (N), like franka_ros2's ``grasp``."""
        self.force = self.hand.check_force(force)
        self.command = max(self.command, self.width() - 0.002)
        self.target_width = 0.0
        self.speed = min(speed or self.hand.max_speed, self.hand.max_speed)

    def apply(self) -> None:
        """Ramp the finger command towards the target at the speed limit; cap the force."""
        w = self.world
        step = self.speed * w.model.opt.timestep
        self.command += float(np.clip(self.target_width - self.command, -step, step))
        w.model.actuator_forcerange[w.finger_actuators] = (-self.force, self.force)
        w.data.ctrl[w.finger_actuators] = self.command / 2

    def held_body(self) -> str | None:
        """The body both finger pads touch, if the fingers are not fully closed."""
        if self.width() < 0.002:
            return None
        w = self.world
        left, right = w.pad_geoms
        touching: dict[int, set[int]] = {left: set(), right: set()}
        for c in w.contacts():
            for pad, other in ((c.geom1, c.geom2), (c.geom2, c.geom1)):
                if pad in touching and other not in w.robot_geoms:
                    touching[pad].add(w.body_of_geom(other))
        both = touching[left] & touching[right]
        return w.body_name(min(both)) if both else None

    def state(self) -> GripperState:
        """Width and held object."""
        return GripperState(self.width(), self.held_body())

    def after_step(self) -> None:
        """Nothing to check after a physics step."""


class SuctionGripper:
    """A suction cup: with the vacuum on, an object it touches squarely is held by a weld.

    With a bellows tool (:attr:`SuctionTool.peel_deg` set) the weld holds the cup face's
    position only, so the part turns about it; the seal peels off past ``peel_deg`` and
    breaks when the load on it (pull and shear, see :meth:`seal_force`) exceeds
    :attr:`SuctionTool.break_force`. A seal that
    was lost does not form again until the vacuum is switched off and on.
    """

    FORCE_FILTER = 0.05  # s: a seal fails as air leaks in, not at a one-step force spike

    def __init__(self, world: object, tool: SuctionTool) -> None:
        self.world, self.tool = world, tool
        self.vacuum = False
        self.attached: str | None = None
        self.rejected: str | None = None  # why the last contact did not seal
        self.lost: str | None = None  # why a seal was lost since the vacuum went on
        self.lost_qpos: np.ndarray | None = None  # the joint positions when it was lost
        self._attached_rel = np.eye(3)
        self._attached_body = -1
        self._force = 0.0
        m = world.model
        self._pad_collision = (
            int(m.geom_contype[world.suction_pad]),
            int(m.geom_conaffinity[world.suction_pad]),
        )
        mj = world.mj
        self._equality = int(mj.mjtConstraint.mjCNSTR_EQUALITY)
        self.welds = {}
        for e in range(m.neq):
            if m.eq_type[e] == mj.mjtEq.mjEQ_WELD:
                self.welds[int(m.eq_obj2id[e])] = e

    def on(self) -> None:
        """Switch the vacuum on; it seals as soon as the cup touches a suitable surface."""
        self.vacuum = True
        self.lost = None
        self.lost_qpos = None

    def off(self) -> None:
        """Switch the vacuum off, releasing whatever is held."""
        self.vacuum = False
        self._release()

    def apply(self) -> None:
        """Seal onto a touched object when the vacuum is on and nothing is held yet."""
        if self.vacuum and self.attached is None and self.lost is None:
            self._try_seal()

    def after_step(self) -> None:
        """After a physics step (constraint forces known): check the held seal's limits."""
        if self.attached is not None:
            self._check_seal()

    def _release(self) -> None:
        if self.attached is not None:
            w = self.world
            body = w.mj.mj_name2id(w.model, w.mj.mjtObj.mjOBJ_BODY, self.attached)
            w.data.eq_active[self.welds[body]] = 0
            w.model.geom_contype[w.suction_pad] = self._pad_collision[0]
            w.model.geom_conaffinity[w.suction_pad] = self._pad_collision[1]
            self.attached = None

    def _try_seal(self) -> None:
        w = self.world
        ncon = w.data.ncon
        if not ncon or not (w.data.contact.geom[:ncon] == w.suction_pad).any():
            return  # the cup touches nothing (checked every step: without Python per contact)
        _, cup_rot = w.tcp_pose()
        axis = cup_rot[:, 2]
        for c in w.contacts():
            if w.suction_pad not in (c.geom1, c.geom2):
                continue
            other = c.geom2 if c.geom1 == w.suction_pad else c.geom1
            body = w.body_of_geom(other)
            if body not in self.welds:
                self.rejected = f"the cup touches {w.geom_name(other)}, which cannot be picked"
                continue
            normal = c.normal if c.geom1 == w.suction_pad else -c.normal  # from cup to object
            tilt = math.degrees(math.acos(np.clip(abs(float(normal @ axis)), -1, 1)))
            if tilt > self.tool.max_tilt_deg:
                self.rejected = f"surface tilted {tilt:.0f} deg from the cup axis; no seal"
                continue
            weight = float(w.model.body_subtreemass[body]) * 9.81
            if _free(w, body) and weight > self.tool.holding_force:
                limit = self.tool.holding_force
                self.rejected = f"object weight {weight:.1f} N exceeds the vacuum's {limit} N"
                continue
            self._attach(body)
            return

    def _attach(self, body: int) -> None:
        w = self.world
        e = self.welds[body]
        cup = w.suction_cup_body
        # Weld at the current relative pose (body2 in body1's frame), or the object would jump.
        p1, r1 = w.data.xpos[cup], w.data.xmat[cup].reshape(3, 3)
        p2, r2 = w.data.xpos[body], w.data.xmat[body].reshape(3, 3)
        rel_quat = np.zeros(4)
        w.mj.mju_mat2Quat(rel_quat, (r1.T @ r2).flatten())
        point = p2  # the weld point: the body's origin, or the cup face for a bellows cup
        if self.tool.peel_deg is not None:
            point = w.tcp_pose()[0]
        # The weld joins body2's anchor (its frame) to body1's relpos (its frame).
        w.model.eq_data[e, 0:3] = r2.T @ (point - p2)
        w.model.eq_data[e, 3:6] = r1.T @ (point - p1)
        w.model.eq_data[e, 6:10] = rel_quat
        w.model.eq_data[e, 10] = 0.0 if self.tool.peel_deg is not None else 1.0
        w.data.eq_active[e] = 1
        if self.tool.peel_deg is not None:
            # The sealed lip is part of the seal: the weld alone carries the load, so the
            # force it reports is what pulls the part (no pad contact pushing back).
            w.model.geom_contype[w.suction_pad] = 0
            w.model.geom_conaffinity[w.suction_pad] = 0
        self.attached = w.body_name(body)
        self._attached_body = body
        self.rejected = None
        self._attached_rel = r1.T @ r2
        self._force = 0.0

    def _check_seal(self) -> None:
        tool = self.tool
        if tool.peel_deg is None and tool.break_force is None:
            return
        w = self.world
        body = self._attached_body
        if tool.peel_deg is not None:
            r1 = w.data.xmat[w.suction_cup_body].reshape(3, 3)
            r2 = w.data.xmat[body].reshape(3, 3)
            turn = _angle(self._attached_rel.T @ r1.T @ r2)
            if turn > math.radians(tool.peel_deg):
                self._lose(f"the cup peeled off: the part turned {math.degrees(turn):.0f} deg")
                return
        if tool.break_force is not None:
            alpha = min(1.0, float(w.model.opt.timestep) / self.FORCE_FILTER)
            self._force += alpha * (self.seal_force() - self._force)
            if self._force > tool.break_force:
                self._lose(f"the seal broke under {self._force:.0f} N")

    def _lose(self, reason: str) -> None:
        self._release()
        self.lost = reason
        self.lost_qpos = self.world.data.qpos.copy()

    def seal_force(self) -> float:
        """Load on the held seal (N): its pull along the cup axis and its shear; 0 if none.

        Pressing the part (compression) loads the cup's rim, not the vacuum, so it does not
        count.
        """
        if self.attached is None:
            return 0.0
        w = self.world
        body = self._attached_body
        d = w.data
        # Equality constraints come first among the constraint rows: only those are searched.
        rows = np.flatnonzero(
            (d.efc_type[: d.ne] == self._equality) & (d.efc_id[: d.ne] == self.welds[body])
        )
        if len(rows) < 3:
            return 0.0
        force = d.efc_force[rows[:3]]  # on the cup side, world frame
        axis = d.site_xmat[w.tcp_site][2::3]  # the cup axis: the TCP's z column
        tension = float(force @ axis)
        shear = force - tension * axis
        return float(np.hypot(max(tension, 0.0), np.linalg.norm(shear)))

    def state(self) -> GripperState:
        """Vacuum and held object."""
        return GripperState(0.0, self.attached, self.vacuum)


def _angle(rotation: np.ndarray) -> float:
    """Rotation angle (rad) of a 3x3 rotation matrix."""
    return math.acos(float(np.clip((np.trace(rotation) - 1) / 2, -1.0, 1.0)))


def _free(world: object, body: int) -> bool:
    """Whether ``body`` moves freely (its weight hangs on the cup; a hinge carries a door's)."""
    m = world.model
    adr = m.body_jntadr[body]
    return adr >= 0 and m.jnt_type[adr] == world.mj.mjtJoint.mjJNT_FREE
