"""A Franka arm and hand over franky-control (libfranka 0.21.x): Cartesian impedance, gripper.

Why franky and not pylibfranka: franky's ``CartesianImpedanceTrackingMotion`` is a Cartesian
impedance controller that runs in franky's C++ control loop at 1 kHz (libfranka's torque
interface) and reads its reference from a handle that Python updates whenever a new target
arrives; pylibfranka would need a Python callback every millisecond, which a loaded Python
process (rclpy, DDS) cannot keep. franky also raises libfranka's errors as Python exceptions
with their text, and its gripper calls have futures with a timeout, so every wait is bounded.

Frames: the TCP is ``tcp_in_flange`` (default: the Franka Hand's TCP, 0.1034 m along the
flange's z, turned -45 deg about it). The robot reports O_T_EE and F_T_EE (the EE frame set in
Desk, or none); the flange is O_T_EE * inv(F_T_EE), so the TCP pose and the controller's EE
target follow whatever the robot's EE frame is.

Before a target reaches the controller it is checked with inverse kinematics within the joint
limits (:mod:`rt_grasp_ros.robot.kinematics`); an unreachable one raises UnreachableTargetError
and the arm keeps its last target.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.optional import require
from rt_grasp_ros.robot.kinematics import flange_pose, solve_flange
from rt_grasp_ros.robot.settle import ReferenceSettle, SettleConfig
from rt_grasp_ros.transforms import Pose

HAND_TCP = (0.0, 0.0, 0.1034, 0.0, 0.0, -0.3826834323650898, 0.9238795325112867)
REALTIME_MODES = ("enforce", "ignore")


class FrankaError(RtGraspError):
    """libfranka (through franky) failed; the message carries libfranka's own text."""


class UnreachableTargetError(RtGraspError):
    """A target pose has no joint solution within the joint limits."""


def matrix_of(pose: Pose) -> np.ndarray:
    """Return a Pose as a 4x4 homogeneous matrix."""
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = pose.rotation_matrix, pose.position
    return out


def pose_of(matrix: np.ndarray) -> Pose:
    """Return a 4x4 homogeneous matrix as a Pose."""
    from scipy.spatial.transform import Rotation

    return Pose(np.array(matrix[:3, 3]), Rotation.from_matrix(matrix[:3, :3]))


def tcp_matrix(numbers) -> np.ndarray:
    """Return 'x y z qx qy qz qw' (7 numbers) as a 4x4 matrix."""
    from scipy.spatial.transform import Rotation

    numbers = [float(v) for v in numbers]
    if len(numbers) != 7:
        raise ValueError(f"a transform is 7 numbers x y z qx qy qz qw, got {len(numbers)}")
    out = np.eye(4)
    out[:3, :3] = Rotation.from_quat(numbers[3:]).as_matrix()
    out[:3, 3] = numbers[:3]
    return out


@dataclass(frozen=True)
class ArmState:
    """What the robot measured: joints, TCP pose (base frame), external wrench at the TCP."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    tcp: Pose
    wrench: np.ndarray  # O_F_ext_hat_K: force (N), torque (Nm), base frame
    speed: float  # TCP linear speed (m/s)
    stamp: float  # the robot's time (s)


@dataclass(frozen=True)
class ArmConfig:
    """Connection and controller settings of :class:`FrankaArm`."""

    address: str
    realtime: str = "enforce"
    robot: str = "fr3"
    tcp_in_flange: tuple = HAND_TCP
    translational_stiffness: float = 1000.0
    rotational_stiffness: float = 80.0
    check_reach: bool = True
    # Per-joint Coulomb friction feedforward (Nm) of franky's tracking controller; zeros = off.
    # Without it joint friction holds the impedance short of its target by friction / K.
    friction_coulomb: tuple = (0.0,) * 7
    # Integral settling of the reference against the friction that the feedforward leaves.
    settle: SettleConfig = field(default_factory=SettleConfig)

    def __post_init__(self) -> None:
        f = self.friction_coulomb
        if len(f) != 7 or not all(np.isfinite(v) and 0.0 <= v <= 5.0 for v in f):
            raise ConfigError(
                f"ArmConfig.friction_coulomb must be 7 numbers in [0, 5] Nm, got {list(f)}"
            )


class FrankaArm:
    """One arm session: state, a tracking Cartesian impedance controller, recovery."""

    def __init__(self, config: ArmConfig):
        self.franky = require("franky", "the libfranka driver (Franka arm over FCI)")
        self.config = config
        self.f_t_tcp = tcp_matrix(config.tcp_in_flange)
        self.tcp_t_f = np.linalg.inv(self.f_t_tcp)
        mode = (
            self.franky.RealtimeConfig.Enforce
            if config.realtime == "enforce"
            else self.franky.RealtimeConfig.Ignore
        )
        policy = _scheduling()
        try:
            self.robot = self.franky.Robot(config.address, realtime_config=mode)
        except Exception as exc:  # noqa: BLE001 - libfranka's text goes to the caller
            raise FrankaError(
                f"cannot connect to the robot at {config.address}: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            # libfranka's Robot() moves the *calling* thread to SCHED_FIFO 99 (whenever it
            # may, realtime "ignore" too) for a control loop that would run in it; franky runs
            # the loop in a thread of its own (asynchronous motions), so the caller, here the
            # ROS executor's thread, would spin at realtime priority and starve the state
            # timer, the target thread and the other processes (measured: current_pose gaps
            # of 0.5-1.1 s, targets applied late). Give the caller its policy back.
            _restore_scheduling(policy)
        self._lock = threading.Lock()
        self._motion = None
        self._ik_seed = None
        self._checked = None  # (flange target, joint solution) of the last accepted target
        self._settle = ReferenceSettle(config.settle)
        self._commanded = None  # (TCP Pose, EE matrix) of the target the caller asked for
        self._target_lock = threading.Lock()  # a target and a settling step never interleave
        # The DH model's flange and the robot's flange differ by a fixed transform on a model
        # that puts its flange elsewhere (franka-sim: 0.107 m short); measured once here.
        state = self.robot.state
        self.model_offset = np.linalg.inv(flange_pose(np.array(state.q))) @ self._flange(state)

    # -- frames ------------------------------------------------------------------------------

    @staticmethod
    def _flange(state) -> np.ndarray:
        return np.asarray(state.O_T_EE.matrix) @ np.linalg.inv(np.asarray(state.F_T_EE.matrix))

    def _tcp(self, state) -> np.ndarray:
        return self._flange(state) @ self.f_t_tcp

    # -- state -------------------------------------------------------------------------------

    def state(self) -> ArmState:
        """Read the robot's state (the control loop's latest while a motion runs)."""
        try:
            state = self.robot.state
        except Exception as exc:  # noqa: BLE001
            raise FrankaError(
                f"reading the robot state failed: {type(exc).__name__}: {exc}"
            ) from None
        return ArmState(
            q=np.array(state.q),
            dq=np.array(state.dq),
            tau=np.array(state.tau_J),
            tcp=pose_of(self._tcp(state)),
            wrench=np.array(state.O_F_ext_hat_K),
            speed=self._speed(state),
            stamp=float(state.time.to_sec()),
        )

    def _speed(self, state) -> float:
        try:
            return float(
                np.linalg.norm(
                    np.asarray(self.robot.current_cartesian_velocity.end_effector_twist.linear)
                )
            )
        except Exception:  # noqa: BLE001 - speed is a convenience
            return 0.0

    def errors(self) -> str:
        """Return the robot's current errors as text ('' when none)."""
        try:
            errors = self.robot.state.current_errors
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {exc}"
        return "" if not bool(errors) else str(errors)

    # -- control -----------------------------------------------------------------------------

    def check(self, target: Pose) -> np.ndarray:
        """Return the controller's EE target for TCP ``target``; UnreachableTargetError if none."""
        state = self.robot.state
        flange = matrix_of(target) @ self.tcp_t_f
        if self.config.check_reach:
            model_target = flange @ np.linalg.inv(self.model_offset)
            seeds = [np.array(state.q)]
            if self._ik_seed is not None:
                seeds.insert(0, self._ik_seed)
            result = solve_flange(model_target, seeds, self.config.robot)
            if result.q is None:
                raise UnreachableTargetError(
                    f"target {np.round(target.position, 3).tolist()} is out of reach of the "
                    f"{self.config.robot} within its joint limits (closest: "
                    f"{result.position_error * 1000:.0f} mm, {result.rotation_error:.2f} rad)"
                )
            self._ik_seed = result.q
        return flange @ np.asarray(state.F_T_EE.matrix)

    def set_target(self, target: Pose) -> None:
        """Make TCP ``target`` the impedance controller's reference (starts it if needed)."""
        ee = self.check(target)
        with self._target_lock:
            self._commanded = (target, ee)
            self._reference(self._settled_ee(target, ee))

    def settle(self, state: ArmState) -> None:
        """One settling step (:mod:`rt_grasp_ros.robot.settle`) on a fresh ``state``."""
        if not self._settle.enabled:
            return
        with self._target_lock:
            if self._commanded is None or self._motion is None:
                return
            target, ee = self._commanded
            before = np.concatenate([self._settle.shift, self._settle.turn])
            self._settle.update(
                target.position,
                state.tcp.position,
                state.speed,
                float(np.linalg.norm(state.wrench[:3])),
                state.stamp,
                (target.rotation * state.tcp.rotation.inv()).as_rotvec(),
            )
            after = np.concatenate([self._settle.shift, self._settle.turn])
            if np.abs(after - before).max() > 2e-5:  # 0.02 mm or rad: worth sending
                self._reference(self._settled_ee(target, ee))

    def _settled_ee(self, target: Pose, ee: np.ndarray) -> np.ndarray:
        """Return the EE reference for ``target`` (EE matrix ``ee``) with the settling applied."""
        from scipy.spatial.transform import Rotation

        if not (self._settle.enabled and self._settle.applies(target.position)):
            return ee
        turned = Pose(
            target.position + self._settle.shift,
            Rotation.from_rotvec(self._settle.turn) * target.rotation,
        )
        # the EE frame sits where it sits on the flange: F_T_EE = inv(flange) @ ee
        flange = matrix_of(target) @ self.tcp_t_f
        return matrix_of(turned) @ self.tcp_t_f @ (np.linalg.inv(flange) @ ee)

    def _reference(self, ee: np.ndarray) -> None:
        franky = self.franky
        reference = franky.CartesianReference(target=franky.Affine(ee))
        with self._lock:
            if self._motion is None or not self.robot.is_in_control:
                self._start(reference)
            else:
                self._motion.set_reference(reference)

    def _start(self, reference) -> None:
        franky = self.franky
        friction = None
        if any(self.config.friction_coulomb):
            coulomb = [float(v) for v in self.config.friction_coulomb]
            # the feedforward may cancel friction, never more: clip at the friction itself
            friction = franky.FrictionCompensationParams(coulomb=coulomb, max_torque=coulomb)
        motion = franky.CartesianImpedanceTrackingMotion(
            translational_stiffness=self.config.translational_stiffness,
            rotational_stiffness=self.config.rotational_stiffness,
            friction=friction,
        )
        motion.set_reference(reference)
        try:
            self.robot.move(motion, asynchronous=True)
        except Exception as exc:  # noqa: BLE001
            raise FrankaError(
                f"starting the impedance controller failed: {type(exc).__name__}: {exc}"
            ) from None
        self._motion = motion

    def hold(self) -> None:
        """Make the measured pose the reference (stop where the arm is)."""
        state = self.robot.state
        self._ik_seed = np.array(state.q)
        self._forget_target()
        with self._lock:
            if self._motion is not None and self.robot.is_in_control:
                self._motion.set_reference(self.franky.CartesianReference(target=state.O_T_EE))

    def _forget_target(self) -> None:
        """Drop the commanded target and its settling shift (hold, stop, error, recovery)."""
        with self._target_lock:
            self._commanded = None
            self._settle.reset()

    def poll(self) -> str | None:
        """Return libfranka's error text if the controller stopped on an error, else None."""
        with self._lock:
            if self._motion is None:
                return None
            try:
                self.robot.poll_motion()
            except Exception as exc:  # noqa: BLE001 - libfranka's reflexes and errors
                self._motion = None
                error = f"{type(exc).__name__}: {exc}"
            else:
                error = None
                if not self.robot.is_in_control:
                    self._motion = None
            stopped = self._motion is None
        if stopped:
            self._forget_target()
        return error

    def recover(self) -> bool:
        """Run libfranka's automatic error recovery; the controller restarts with a target."""
        self._forget_target()
        with self._lock:
            self._motion = None
        try:
            return bool(self.robot.recover_from_errors())
        except Exception as exc:  # noqa: BLE001
            raise FrankaError(
                f"automatic error recovery failed: {type(exc).__name__}: {exc}"
            ) from None

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the controller (bounded)."""
        self._forget_target()
        with self._lock:
            self._motion = None
        try:
            self.robot.stop()
            self.robot.join_motion(timeout)
        except Exception:  # noqa: BLE001 - stopping a motion that failed raises its error
            pass


def _scheduling():
    """Return this thread's (scheduling policy, priority), or None where unsupported."""
    import os

    try:
        return os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    except (AttributeError, OSError):
        return None


def _restore_scheduling(policy) -> None:
    """Set this thread's scheduling back to ``policy`` (from :func:`_scheduling`)."""
    import os

    if policy is None or _scheduling() == policy:
        return
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, policy[0], os.sched_param(policy[1]))


class FrankaHand:
    """The Franka Hand over libfranka's gripper (franky.Gripper); every call bounded."""

    def __init__(
        self,
        address: str,
        speed: float = 0.1,
        epsilon_inner: float = 0.005,
        epsilon_outer: float = 0.005,
    ):
        franky = require("franky", "the Franka Hand over libfranka")
        try:
            self.gripper = franky.Gripper(address)
        except Exception as exc:  # noqa: BLE001
            raise FrankaError(
                f"cannot connect to the Franka Hand at {address}: {type(exc).__name__}: {exc}"
            ) from None
        self.speed, self.epsilon = speed, (epsilon_inner, epsilon_outer)
        self.max_width = float(self.gripper.max_width)

    def width(self) -> float:
        """Return the finger opening (m)."""
        return float(self.gripper.width)

    def _wait(self, future, what: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not future.wait(0.02):
            if time.monotonic() > deadline:
                self.stop()
                raise FrankaError(f"the gripper did not finish {what} within {timeout:g} s")
        try:
            return bool(future.get())
        except Exception as exc:  # noqa: BLE001 - libfranka's text
            raise FrankaError(f"gripper {what} failed: {type(exc).__name__}: {exc}") from None

    def move(self, width: float, timeout: float = 5.0) -> bool:
        """Move the fingers to ``width`` (m); libfranka's answer."""
        width = min(max(width, 0.0), self.max_width)
        return self._wait(
            self.gripper.move_async(width, self.speed), f"moving to {width:g} m", timeout
        )

    def grasp(self, width: float, force: float, timeout: float = 5.0) -> bool:
        """Grasp an object ``width`` wide with ``force``; True if it is held in the epsilons."""
        return self._wait(
            self.gripper.grasp_async(max(width, 0.0), self.speed, force, *self.epsilon),
            f"grasping at {width:g} m",
            timeout,
        )

    def homing(self, timeout: float = 10.0) -> bool:
        """Calibrate the fingers."""
        return self._wait(self.gripper.homing_async(), "homing", timeout)

    def stop(self) -> None:
        """Stop a running gripper command."""
        with contextlib.suppress(Exception):  # a stop that fails changes nothing
            self.gripper.stop_async().wait(1.0)
