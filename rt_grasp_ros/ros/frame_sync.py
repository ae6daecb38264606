"""
Match colour, depth and camera_info of one frame by their exact header stamp.

A camera driver (and the camera node's crop) publishes the three with the same stamp but on
three topics, so they arrive in any order and one of them may be dropped (best-effort QoS).
:class:`FrameMatcher` keeps the parts of the last few stamps and returns the three of a stamp
once all have arrived; each stamp is returned once, and the incomplete stamps that arrived
before it are then dropped (a clock that jumps back, as a reset sim's may, still matches).
Used by the camera node, the planner node and the ROS trials.
"""

from collections import OrderedDict
import threading

KINDS = ('color', 'depth', 'info')


def stamp_key(stamp) -> tuple:
    """Return a builtin_interfaces/Time as an exact, hashable (sec, nanosec) key."""
    return (int(stamp.sec), int(stamp.nanosec))


class FrameMatcher:
    """
    Collects ``color``, ``depth`` and ``info`` messages; returns the three of one stamp.

    ``history`` bounds how many distinct stamps wait for their missing parts. Thread-safe:
    the three subscriptions may call :meth:`add` from different executor threads.
    """

    def __init__(self, history: int = 8):
        if history < 1:
            raise ValueError(f'history must be >= 1, got {history}')
        self.history = history
        self._pending = OrderedDict()  # stamp key -> {kind: msg}
        self._lock = threading.Lock()

    def add(self, kind: str, msg):
        """Add one part; return ``(color, depth, info)`` when its stamp is complete, else None."""
        if kind not in KINDS:
            raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
        key = stamp_key(msg.header.stamp)
        with self._lock:
            parts = self._pending.setdefault(key, {})
            parts[kind] = msg
            if len(parts) < len(KINDS):
                while len(self._pending) > self.history:
                    self._pending.popitem(last=False)
                return None
            while True:  # this stamp and every one that arrived before it
                done, _ = self._pending.popitem(last=False)
                if done == key:
                    break
        return parts['color'], parts['depth'], parts['info']
