"""End effectors: the Franka Hand (parallel gripper) and a suction tool."""

from __future__ import annotations

from dataclasses import dataclass

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.grasp.target import GripperKind


@dataclass(frozen=True)
class FrankaHand:
    """Franka Hand geometry and limits (datasheet figures).

    Attributes:
        max_width: largest opening between the fingers (m).
        continuous_force: largest continuous grasp force (N).
        max_speed: finger speed limit (m/s, both fingers together).
        tcp_offset: tool centre point beyond the flange, along the flange z axis (m).
        finger_base: where the fingers attach, beyond the flange (m).
        mass: hand mass without fingers (kg); finger_mass each (kg).
    """

    max_width: float = 0.08
    continuous_force: float = 70.0
    max_speed: float = 0.1
    tcp_offset: float = 0.1034
    finger_base: float = 0.0584
    mass: float = 0.73
    finger_mass: float = 0.015
    pad_half_height: float = 0.0095
    pad_half_width: float = 0.0085
    pad_half_thickness: float = 0.004

    kind = GripperKind.PARALLEL

    def check_force(self, force: float) -> float:
        """Validate a grasp force against the continuous limit."""
        if not 0 < force <= self.continuous_force:
            raise ConfigError(
                f"grasp force {force} N is outside (0, {self.continuous_force}] N, "
                "the Franka Hand's continuous force"
            )
        return float(force)


@dataclass(frozen=True)
class SuctionTool:
    """A straight suction tool with one cup, mounted on the flange.

    Attributes:
        length: flange to cup face (the tool centre point) (m).
        cup_radius: radius of the cup's sealing lip (m).
        max_tilt_deg: largest angle between the cup axis and the surface normal that seals.
        holding_force: what the vacuum holds against gravity and motion (N).
        break_force: the seal lets go when the force through it exceeds this (N); None: it
            holds whatever load (a rigid weld, the model for picking objects).
        peel_deg: None: the held part is welded rigidly to the cup. A number: a bellows cup,
            which lets the part turn freely about the cup face and peels off once the part
            has turned this far (deg) relative to the cup.
    """

    length: float = 0.11
    cup_radius: float = 0.011
    body_radius: float = 0.018
    mass: float = 0.35
    max_tilt_deg: float = 25.0
    holding_force: float = 25.0
    break_force: float | None = None
    peel_deg: float | None = None

    kind = GripperKind.SUCTION

    def __post_init__(self) -> None:
        for name in ("break_force", "peel_deg"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"SuctionTool.{name} must be > 0 or None, got {value}")

    @classmethod
    def bellows(cls) -> SuctionTool:
        """A bellows cup whose seal breaks above its holding force and peels past 30 deg.

        The model for pulling articulated parts (ManipLLM): the part turns about the cup
        face as a door swings, and a pull the mechanism resists loads the seal until it
        breaks.
        """
        return cls(break_force=cls.holding_force, peel_deg=30.0)

    @property
    def tcp_offset(self) -> float:
        """Tool centre point (the cup face) beyond the flange (m)."""
        return self.length


Tool = FrankaHand | SuctionTool


def make_tool(kind: GripperKind | str) -> Tool:
    """The default tool of ``kind`` (``parallel`` or ``suction``)."""
    kind = GripperKind.parse(kind)
    return FrankaHand() if kind is GripperKind.PARALLEL else SuctionTool()
