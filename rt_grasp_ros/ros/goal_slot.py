"""One goal at a time for a single-goal action server (ros2/examples' single_goal server)."""

import threading

from rclpy.action import GoalResponse
from rt_grasp_ros.errors import RtGraspError


class GoalSlot:
    """
    Holds the one goal an action server runs; a second is refused while it is taken.

    ``take(goal)`` (or ``admit``) in the goal callback, ``release()`` when the execute
    callback returns (whatever happens), ``busy`` for anything that must not run meanwhile.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._goal = None

    @property
    def busy(self) -> bool:
        """Whether a goal holds the slot."""
        return self._goal is not None

    def take(self, goal) -> bool:
        """Take the slot for ``goal``; False if another goal holds it."""
        with self._lock:
            if self._goal is not None:
                return False
            self._goal = goal
            return True

    def release(self):
        """Free the slot."""
        with self._lock:
            self._goal = None

    def admit(self, goal, validate, logger, what='goal'):
        """
        Return the goal callback's verdict: ACCEPT a valid goal when the slot is free.

        ``validate(goal)`` raises RtGraspError for an invalid goal; a rejection is logged with
        why (the error, or another ``what`` running).
        """
        try:
            validate(goal)
        except RtGraspError as exc:
            logger.warn(f'goal rejected: {exc}')
            return GoalResponse.REJECT
        if not self.take(goal):
            logger.warn(f'goal rejected: another {what} is running (one at a time)')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT
