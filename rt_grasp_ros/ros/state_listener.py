"""
Robot state read on a node and a thread of its own.

A robot publishes its state (``joint_states``, ``current_pose``, ``external_wrench``) at the
control rate: 250 Hz in the sim, up to 1 kHz from franka_ros2's broadcasters. rclpy's
executors rebuild their wait set from every entity of their nodes on each wake; on a node
that also holds action servers, action clients and the parameter services, a thousand state
messages a second kept the executor's thread at 100 % of a core and the gripper's result
waited in the queue for more than 10 s (seen on a 2-core machine).

As ``tf2_ros.TransformListener(spin_thread=True)`` does for ``/tf``, the state subscriptions
live on a node of their own, in the owner's namespace, spun by a ``SingleThreadedExecutor``
in a daemon thread: its wait set holds only them, and the owner's executor wakes only for
goals, results and the clock.
"""

import contextlib
import threading

from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node


class StateListener:
    """A node for high-rate state subscriptions, spun in a thread of its own."""

    def __init__(self, owner: Node, name: str = 'state_listener'):
        self.node = Node(f'{owner.get_name()}_{name}', namespace=owner.get_namespace(),
                         context=owner.context, start_parameter_services=False,
                         enable_rosout=False)
        self.executor = SingleThreadedExecutor(context=owner.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name=name, daemon=True)
        self._thread.start()

    def _spin(self):
        # the context shut down (Ctrl-C): the owner's main() ends the process
        with contextlib.suppress(ExternalShutdownException):
            self.executor.spin()

    def subscribe(self, msg_type, topic, callback, qos):
        """Subscribe ``callback`` to ``topic``; it runs on the listener's thread."""
        return self.node.create_subscription(msg_type, topic, callback, qos)

    def destroy(self, timeout: float = 1.0) -> None:
        """Stop the thread (within ``timeout`` s) and destroy the node."""
        self.executor.shutdown(timeout_sec=timeout)
        self._thread.join(timeout)
        self.node.destroy_node()
