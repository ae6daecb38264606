"""
Interactive markers: interactive_markers' server and menu where installed, else our own.

``InteractiveMarkerServer`` and ``MenuHandler`` are interactive_markers' Python classes where that
package is installed (a ROS install), and otherwise (ROS from PyPI, CI) :class:`ProtocolServer`
and :class:`Menu`, which speak the same protocol behind the same calls, so a node is the same
code on both. The subset of interactive_markers' API they offer, with its semantics:

- ``InteractiveMarkerServer(node, namespace, *, update_pub_qos=QoSProfile(depth=100),
  feedback_sub_qos=QoSProfile(depth=1))``; ``insert(marker, *, feedback_callback=None,
  feedback_type=DEFAULT_FEEDBACK_CALLBACK)``, ``setPose(name, pose, header=None)``,
  ``erase(name)``, ``clear()``, ``setCallback(name, callback, feedback_type)``, ``get(name)``,
  ``applyChanges()``, ``shutdown()``. Changes are pending until ``applyChanges()``.
- ``MenuHandler()``: ``insert(title, parent=None, command_type=MenuEntry.FEEDBACK,
  command='', callback=None)`` returns the entry's handle (ids from 1, in insertion order),
  ``setVisible``, ``getTitle``, ``apply(server, marker_name)`` (copies the menu into the
  marker and routes its MENU_SELECT feedback to the entries' callbacks), ``reApply(server)``.

The protocol (what RViz's InteractiveMarkerClient expects, ROS 2 Jazzy):

- ``NS/update`` (visualization_msgs/InteractiveMarkerUpdate), reliable, volatile, keep last 100:
  every ``applyChanges()`` with pending changes publishes one UPDATE whose ``seq_num`` is the
  previous one's plus one (the first is 1). A client that sees a gap (or an out-of-order
  number) resets and asks for the markers again. No KEEP_ALIVE is sent: the ROS 2 client
  ignores them (and warns once that servers no longer send them).
- ``NS/get_interactive_markers`` (visualization_msgs/GetInteractiveMarkers): every marker
  and ``sequence_number``, the number of the last update published; the client drops queued
  updates up to it. RViz re-sends the request when no answer came within 1 s.
- ``NS/feedback`` (visualization_msgs/InteractiveMarkerFeedback), keep last 1 (reliable):
  ``client_id`` is the client's node name. Feedback for an unknown marker is ignored, and so is
  feedback from a second client within 1 s of the last feedback of another one (two users
  dragging one marker). A POSE_UPDATE moves the marker (published as a pose update, in the
  marker's frame when its header has no stamp); then the callback for the event type runs
  (else the marker's default callback), then pending changes are applied.
"""

from dataclasses import dataclass, field
import sys
import threading

from builtin_interfaces.msg import Time
from rclpy.duration import Duration
from rclpy.qos import QoSProfile
from visualization_msgs.msg import (
    InteractiveMarker,
    InteractiveMarkerFeedback,
    InteractiveMarkerPose,
    InteractiveMarkerUpdate,
    MenuEntry,
)
from visualization_msgs.srv import GetInteractiveMarkers

DEFAULT_FEEDBACK_CALLBACK = 255
CONFLICT_S = 1.0  # feedback of another client within this is rejected

_FULL, _POSE, _ERASE = 'full', 'pose', 'erase'


@dataclass
class _Live:
    """A published marker: the message and its callbacks, and who sent feedback last."""

    marker: InteractiveMarker
    default_callback: object = None
    callbacks: dict = field(default_factory=dict)
    last_feedback: object = None  # rclpy Time of the last accepted feedback
    last_client_id: str = ''


@dataclass
class _Pending:
    """A change waiting for applyChanges: a whole marker, a pose, or an erase."""

    kind: str
    marker: InteractiveMarker = field(default_factory=InteractiveMarker)
    default_callback: object = None
    callbacks: dict = field(default_factory=dict)


class ProtocolServer:
    """
    An interactive-marker server over rclpy, as interactive_markers' InteractiveMarkerServer.

    For machines without interactive_markers; see the module docstring for the calls and the
    protocol. Thread-safe: the node's callbacks and other threads may call it.
    """

    DEFAULT_FEEDBACK_CALLBACK = DEFAULT_FEEDBACK_CALLBACK

    def __init__(self, node, namespace, *, update_pub_qos=None, feedback_sub_qos=None):
        self.node = node
        self.namespace = namespace
        self.seq_num = 0
        self._lock = threading.RLock()
        self._live = {}  # name -> _Live
        self._pending = {}  # name -> _Pending
        self._service = node.create_service(
            GetInteractiveMarkers, f'{namespace}/get_interactive_markers', self._on_get)
        self._update_pub = node.create_publisher(
            InteractiveMarkerUpdate, f'{namespace}/update',
            update_pub_qos or QoSProfile(depth=100))
        self._feedback_sub = node.create_subscription(
            InteractiveMarkerFeedback, f'{namespace}/feedback', self.processFeedback,
            feedback_sub_qos or QoSProfile(depth=1))

    # -- changes ------------------------------------------------------------------------------

    def insert(self, marker, *, feedback_callback=None, feedback_type=DEFAULT_FEEDBACK_CALLBACK):
        """Add or replace ``marker`` (pending); set its callback for ``feedback_type`` at once."""
        with self._lock:
            pending = self._pending.get(marker.name)
            if pending is None:
                pending = self._pending[marker.name] = _Pending(_FULL)
            pending.kind, pending.marker = _FULL, marker
        if feedback_callback is not None:
            self.setCallback(marker.name, feedback_callback, feedback_type)

    def setPose(self, name, pose, header=None):  # noqa: N802 -- interactive_markers' name
        """Move marker ``name`` (pending); False if it does not exist or is being replaced."""
        with self._lock:
            live, pending = self._live.get(name), self._pending.get(name)
            if live is None and pending is None:
                return False
            if pending is not None and pending.kind == _FULL:
                return False
            if header is None or not header.frame_id:  # keep the marker's own header
                header = (live if live is not None else pending).marker.header
            self._set_pose(name, pose, header)
            return True

    def _set_pose(self, name, pose, header):
        pending = self._pending.get(name)
        if pending is None:
            pending = self._pending[name] = _Pending(_POSE)
        elif pending.kind != _FULL:
            pending.kind = _POSE
        pending.marker.pose, pending.marker.header = pose, header

    def erase(self, name):
        """Erase marker ``name`` (pending); False if there is no such marker."""
        with self._lock:
            if name in self._pending:
                self._pending[name].kind = _ERASE
                return True
            if name in self._live:
                self._pending[name] = _Pending(_ERASE)
                return True
            return False

    def clear(self):
        """Erase every marker (pending)."""
        with self._lock:
            self._pending = {}
            for name in list(self._live):
                self.erase(name)

    def setCallback(self, name, feedback_callback,  # noqa: N802 -- interactive_markers' name
                    feedback_type=DEFAULT_FEEDBACK_CALLBACK):
        """Set (None: remove) marker ``name``'s callback for ``feedback_type``, effective now."""
        with self._lock:
            targets = [t for t in (self._live.get(name), self._pending.get(name))
                       if t is not None]
            if not targets:
                return False
            for target in targets:
                if feedback_type == DEFAULT_FEEDBACK_CALLBACK:
                    target.default_callback = feedback_callback
                elif feedback_callback is not None:
                    target.callbacks[feedback_type] = feedback_callback
                else:
                    target.callbacks.pop(feedback_type, None)
            return True

    def applyChanges(self):  # noqa: N802 -- interactive_markers' name
        """Publish the pending changes as one update with the next sequence number."""
        with self._lock:
            if not self._pending:
                return
            update = InteractiveMarkerUpdate(type=InteractiveMarkerUpdate.UPDATE)
            for name, pending in self._pending.items():
                if pending.kind == _FULL:
                    live = self._live.get(name)
                    if live is None:
                        live = self._live[name] = _Live(
                            pending.marker, pending.default_callback, pending.callbacks,
                            self.node.get_clock().now())
                    live.marker = pending.marker
                    update.markers.append(live.marker)
                elif pending.kind == _POSE:
                    live = self._live.get(name)
                    if live is None:
                        self.node.get_logger().error(
                            f'interactive marker {name!r}: a pose update for a marker that '
                            'does not exist (dropped)')
                        continue
                    live.marker.pose, live.marker.header = pending.marker.pose, \
                        pending.marker.header
                    update.poses.append(InteractiveMarkerPose(
                        header=live.marker.header, pose=live.marker.pose, name=name))
                elif self._live.pop(name, None) is not None:
                    update.erases.append(name)
            self._pending = {}
            self.seq_num += 1
            update.seq_num = self.seq_num
            self._update_pub.publish(update)

    def get(self, name):
        """Return marker ``name`` as it will be after applyChanges (None if it will not exist)."""
        with self._lock:
            pending, live = self._pending.get(name), self._live.get(name)
            if pending is None:
                return live.marker if live is not None else None
            if pending.kind == _ERASE:
                return None
            if pending.kind == _FULL:
                return pending.marker
            if live is None:
                return None
            live.marker.pose = pending.marker.pose
            return live.marker

    def shutdown(self):
        """Erase every marker (so clients drop them) and destroy the ROS entities."""
        if self._update_pub is None:
            return
        if self.node.context.ok():
            self.clear()
            self.applyChanges()
        self.node.destroy_service(self._service)
        self.node.destroy_publisher(self._update_pub)
        self.node.destroy_subscription(self._feedback_sub)
        self._service = self._update_pub = self._feedback_sub = None

    # -- the clients' side ----------------------------------------------------------------------

    def processFeedback(self, feedback):  # noqa: N802 -- interactive_markers' name
        """Route one feedback message: move the marker, call its callback, apply changes."""
        with self._lock:
            live = self._live.get(feedback.marker_name)
            if live is None:
                return
            now = self.node.get_clock().now()
            if (live.last_client_id != feedback.client_id
                    and now - live.last_feedback < Duration(seconds=CONFLICT_S)):
                self.node.get_logger().info(
                    f'feedback for {feedback.marker_name!r} from {feedback.client_id!r} '
                    f'rejected: {live.last_client_id!r} is interacting with it',
                    throttle_duration_sec=1.0)
                return
            live.last_feedback, live.last_client_id = now, feedback.client_id
            if feedback.event_type == InteractiveMarkerFeedback.POSE_UPDATE:
                header = (live.marker.header if live.marker.header.stamp == Time()
                          else feedback.header)
                self._set_pose(feedback.marker_name, feedback.pose, header)
            callback = live.callbacks.get(feedback.event_type, live.default_callback)
        if callback is not None:
            callback(feedback)
        self.applyChanges()

    def _on_get(self, request, response):
        with self._lock:
            response.sequence_number = self.seq_num
            response.markers = [live.marker for live in self._live.values()]
        return response


@dataclass
class _Entry:
    title: str
    command: str
    command_type: int
    callback: object
    sub_entries: list = field(default_factory=list)
    visible: bool = True


class Menu:
    """A marker menu whose entries call functions: interactive_markers' MenuHandler's subset."""

    def __init__(self):
        self._entries = {}  # handle -> _Entry
        self._top = []
        self._managed = set()

    def insert(self, title, parent=None, command_type=MenuEntry.FEEDBACK, command='',
               callback=None):
        """Add an entry (under ``parent``'s handle); return its handle, None if no parent."""
        if parent is not None and parent not in self._entries:
            print(f'menu entry parent {parent!r} not found', file=sys.stderr)
            return None
        handle = len(self._entries) + 1
        self._entries[handle] = _Entry(title, command, command_type, callback)
        (self._entries[parent].sub_entries if parent is not None else self._top).append(handle)
        return handle

    def setVisible(self, handle, visible):  # noqa: N802 -- interactive_markers' name
        """Show or hide an entry; False if there is no such entry."""
        if handle not in self._entries:
            return False
        self._entries[handle].visible = visible
        return True

    def getTitle(self, handle):  # noqa: N802 -- interactive_markers' name
        """Return an entry's title (None if there is no such entry)."""
        entry = self._entries.get(handle)
        return entry.title if entry else None

    def apply(self, server, marker_name):
        """Put the menu into marker ``marker_name`` and route its MENU_SELECT feedback here."""
        marker = server.get(marker_name)
        if marker is None:
            self._managed.discard(marker_name)
            return False
        marker.menu_entries = []
        self._push(self._top, marker.menu_entries, 0)
        server.insert(marker, feedback_callback=self.processFeedback,
                      feedback_type=InteractiveMarkerFeedback.MENU_SELECT)
        self._managed.add(marker_name)
        return True

    def reApply(self, server):  # noqa: N802 -- interactive_markers' name
        """Apply the menu again to every marker it was applied to."""
        applied = [self.apply(server, name) for name in list(self._managed)]  # every one
        return all(applied)

    def processFeedback(self, feedback):  # noqa: N802 -- interactive_markers' name
        """Call the selected entry's callback (unknown entries are ignored)."""
        entry = self._entries.get(feedback.menu_entry_id)
        if entry is not None and entry.callback is not None:
            entry.callback(feedback)

    def _push(self, handles, out, parent):
        for handle in handles:
            entry = self._entries[handle]
            if not entry.visible:
                continue
            out.append(MenuEntry(id=handle, parent_id=parent, title=entry.title,
                                 command=entry.command, command_type=entry.command_type))
            self._push(entry.sub_entries, out, handle)


try:  # the standard package where it is installed; the same calls either way
    from interactive_markers import InteractiveMarkerServer, MenuHandler
    IMPLEMENTATION = 'interactive_markers'
except ImportError:
    InteractiveMarkerServer, MenuHandler = ProtocolServer, Menu
    IMPLEMENTATION = 'rt_grasp_ros.ros.interactive'

__all__ = ['DEFAULT_FEEDBACK_CALLBACK', 'IMPLEMENTATION', 'InteractiveMarkerServer', 'Menu',
           'MenuHandler', 'ProtocolServer']
