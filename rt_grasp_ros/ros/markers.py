"""RViz markers of a planned grasp: the gripper's outline at the TCP pose and the reasoning."""

from geometry_msgs.msg import Point
from rt_grasp.msg import Grasp
from rt_grasp_ros.ros import conversions as conv
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

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
