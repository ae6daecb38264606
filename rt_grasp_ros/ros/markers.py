"""RViz markers: the planned grasp (outline, text), the contact pose, the refinement marker."""

import math
import textwrap

from geometry_msgs.msg import Point, Quaternion, Vector3
from rt_grasp.msg import ContactPose, Grasp
from rt_grasp_ros.planning.refinement import Stage
from rt_grasp_ros.ros import conversions as conv
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import InteractiveMarker, InteractiveMarkerControl, Marker, MarkerArray

FINGER = 0.05  # finger length drawn above the TCP (m)


def grasp_markers(grasp: Grasp, stamp) -> MarkerArray:
    """Draw the open gripper (TCP frame) as lines and the model's reasoning as text."""
    header = grasp.pose.header
    outline = Marker(ns='grasp', id=0, type=Marker.LINE_LIST, action=Marker.ADD)
    outline.header.frame_id, outline.header.stamp = header.frame_id, stamp
    outline.pose = conv.pose_to_msg(conv.pose_from_msg(grasp.pose.pose))
    outline.scale.x = 0.004
    outline.color = ColorRGBA(r=0.1, g=0.9, b=0.2, a=1.0)
    half = max(grasp.width, 0.02) / 2
    # TCP frame: z approach (into the object), y closing axis; fingers reach back along -z.
    segments = [((0, -half, 0), (0, -half, -FINGER)), ((0, half, 0), (0, half, -FINGER)),
                ((0, -half, -FINGER), (0, half, -FINGER)), ((0, 0, -FINGER), (0, 0, -2 * FINGER))]
    for a, b in segments:
        outline.points += [Point(x=float(a[0]), y=float(a[1]), z=float(a[2])),
                           Point(x=float(b[0]), y=float(b[1]), z=float(b[2]))]
    text = Marker(ns='grasp', id=1, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD)
    text.header.frame_id, text.header.stamp = header.frame_id, stamp
    # A copy: assigning the message would share it, and the shift would move the grasp too.
    text.pose = conv.pose_to_msg(conv.pose_from_msg(grasp.pose.pose).translated([0, 0, 0.15]))
    text.scale.z = 0.02
    text.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
    text.text = grasp.reasoning or grasp.answer
    return MarkerArray(markers=[outline, text])


ARROW = 0.08  # length of the contact's up and forward arrows (m)


def contact_markers(contact: ContactPose, stamp) -> MarkerArray:
    """
    Draw a contact pose: a sphere at the point, arrows for up and forward, the category.

    The up arrow ends at the point (up is the approach, into the surface); forward starts there.
    """
    header = contact.pose.header
    p = contact.pose.pose.position
    point = (p.x, p.y, p.z)

    def marker(kind, marker_id, colour):
        m = Marker(ns='contact', id=marker_id, type=kind, action=Marker.ADD)
        m.header.frame_id, m.header.stamp = header.frame_id, stamp
        m.pose.orientation.w = 1.0
        m.color = ColorRGBA(r=colour[0], g=colour[1], b=colour[2], a=1.0)
        return m

    def arrow(marker_id, start, end, colour):
        m = marker(Marker.ARROW, marker_id, colour)
        m.points = [Point(x=float(a), y=float(b), z=float(c)) for a, b, c in (start, end)]
        m.scale = Vector3(x=0.006, y=0.012, z=0.02)  # shaft and head diameters, head length
        return m

    sphere = marker(Marker.SPHERE, 0, (1.0, 0.8, 0.0))
    sphere.pose.position = Point(x=float(p.x), y=float(p.y), z=float(p.z))
    sphere.scale = Vector3(x=0.02, y=0.02, z=0.02)
    up = (contact.up.x, contact.up.y, contact.up.z)
    forward = (contact.forward.x, contact.forward.y, contact.forward.z)
    behind = tuple(c - ARROW * u for c, u in zip(point, up, strict=True))
    ahead = tuple(c + ARROW * f for c, f in zip(point, forward, strict=True))
    text = marker(Marker.TEXT_VIEW_FACING, 3, (1.0, 1.0, 1.0))
    text.pose.position = Point(x=float(p.x), y=float(p.y), z=float(p.z) + 0.1)
    text.scale.z = 0.02
    text.text = contact.category or 'contact'
    return MarkerArray(markers=[sphere, arrow(1, behind, point, (0.1, 0.4, 1.0)),
                                arrow(2, point, ahead, (1.0, 0.2, 0.2)), text])


MARKER = 'grasp'
COLOURS = {  # r, g, b by stage
    Stage.IDLE: (0.6, 0.6, 0.6), Stage.PLANNING: (0.6, 0.6, 0.6),
    Stage.PLANNED: (0.1, 0.9, 0.2), Stage.CORRECTED: (1.0, 0.6, 0.0),
    Stage.EXECUTING: (0.2, 0.5, 1.0), Stage.SUCCEEDED: (0.0, 1.0, 1.0),
    Stage.FAILED: (1.0, 0.1, 0.1)}
# the control frame's x axis along the marker's z (the approach axis): RViz's axis convention
ALONG_APPROACH = Quaternion(x=0.0, y=math.sqrt(0.5), z=0.0, w=math.sqrt(0.5))


def _cube(kind, position, scale, colour):
    marker = Marker(type=kind, action=Marker.ADD)
    marker.pose.position = Point(x=float(position[0]), y=float(position[1]),
                                 z=float(position[2]))
    marker.pose.orientation.w = 1.0
    marker.scale = Vector3(x=float(scale[0]), y=float(scale[1]), z=float(scale[2]))
    marker.color = colour
    return marker


def tool_markers(width, suction, colour):
    """Return the gripper (or suction cup) in the TCP frame: z approach, y closing axis."""
    if suction:
        return [_cube(Marker.CYLINDER, (0, 0, -0.005), (0.03, 0.03, 0.01), colour),
                _cube(Marker.CYLINDER, (0, 0, -0.05), (0.012, 0.012, 0.08), colour)]
    half = max(width, 0.02) / 2 + 0.005
    return [_cube(Marker.CUBE, (0, -half, -0.0225), (0.02, 0.01, 0.045), colour),
            _cube(Marker.CUBE, (0, half, -0.0225), (0.02, 0.01, 0.045), colour),
            _cube(Marker.CUBE, (0, 0, -0.05), (0.02, 2 * half + 0.01, 0.01), colour),
            _cube(Marker.CYLINDER, (0, 0, -0.08), (0.02, 0.02, 0.05), colour)]


def marker_text(core):
    """Return the marker's text: the headline, the error if any, the reasoning wrapped."""
    lines = [core.headline()]
    if core.error:
        lines += textwrap.wrap(f'error: {core.error}', 60)[:4]
    if core.grasp is not None and core.grasp.reasoning:
        lines += textwrap.wrap(core.grasp.reasoning, 60)[:8]
    return '\n'.join(lines)


def grasp_marker(core, base_frame):
    """Return the interactive marker of the grasp being refined (None without a grasp)."""
    grasp = core.grasp
    if grasp is None:
        return None
    r, g, b = COLOURS[core.stage]
    colour = ColorRGBA(r=r, g=g, b=b, a=0.9)
    marker = InteractiveMarker(name=MARKER, scale=0.12, description=core.headline())
    marker.header.frame_id = base_frame  # no stamp: the latest transform, always
    marker.pose = conv.pose_to_msg(grasp.target.pose)
    tool = InteractiveMarkerControl(
        name='drag', orientation=ALONG_APPROACH, always_visible=True,
        orientation_mode=InteractiveMarkerControl.INHERIT,
        interaction_mode=InteractiveMarkerControl.MOVE_PLANE,
        description='drag in the table plane; right-click: menu')
    tool.markers = tool_markers(grasp.target.width or 0.0,
                                grasp.target.gripper.value == 'suction', colour)
    turn = InteractiveMarkerControl(
        name='turn', orientation=ALONG_APPROACH,
        orientation_mode=InteractiveMarkerControl.INHERIT,
        interaction_mode=InteractiveMarkerControl.ROTATE_AXIS,
        description='turn about the approach axis')
    text = _cube(Marker.TEXT_VIEW_FACING, (0, 0, -0.16), (0, 0, 0.018),
                 ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0))
    text.text = marker_text(core)
    label = InteractiveMarkerControl(
        name='reasoning', always_visible=True, markers=[text],
        orientation_mode=InteractiveMarkerControl.INHERIT,
        interaction_mode=InteractiveMarkerControl.NONE)
    marker.controls = [tool, turn, label]
    return marker
