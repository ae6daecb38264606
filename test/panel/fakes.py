"""A stand-in for the panel's rclpy bridge: a plain class with the bridge's methods."""

from __future__ import annotations

from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.panel.model import GraspView


class FakeBridge:
    """Records what the panel asks; the test posts the stack's answers through ``post``."""

    def __init__(self, refuse: str = "") -> None:
        self.post = None
        self.calls: list[tuple] = []
        self.closed = False
        self.refuse = refuse  # a method that raises, as a bridge that cannot start it would

    def connect(self, post) -> None:
        self.post = post

    def _record(self, *call) -> None:
        if call[0] == self.refuse:
            raise RtGraspError(f"{call[0]} refused by the fake bridge")
        self.calls.append(call)

    def plan(self, instruction: str) -> None:
        self._record("plan", instruction)

    def follow_up(self, session_id: str, text: str) -> None:
        self._record("follow_up", session_id, text)

    def execute(self, grasp) -> None:
        self._record("execute", grasp)

    def close(self) -> None:
        self.closed = True


def grasp(x=0.5, y=0.5, theta=0.0, answer="(0.5, 0.5, 0)", reasoning="a mug: grasp the rim"):
    return GraspView(
        x=x,
        y=y,
        theta=theta,
        u=120 + 200 * x,
        v=40 + 200 * y,
        width_px=60.0,
        width=0.05,
        position=(0.5, 0.0, 0.02),
        frame_id="panda_link0",
        reasoning=reasoning,
        answer=answer,
        message=object(),
    )
