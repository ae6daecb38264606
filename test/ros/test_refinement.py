"""Interactive markers over real rclpy: the protocol server, and grasp_refinement on the stack.

An RViz-like client (:class:`RvizLikeClient`) speaks RViz's side of the protocol as Jazzy's
interactive_markers InteractiveMarkerClient does: it asks get_interactive_markers, drops queued
updates the answer already holds, follows the update sequence numbers (a gap resets it and it
asks again), ignores KEEP_ALIVE and sends feedback with its node name as client_id.
"""

import json
import math
import time

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")

from geometry_msgs.msg import Pose as PoseMsg  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile  # noqa: E402
from visualization_msgs.msg import (  # noqa: E402
    InteractiveMarker,
    InteractiveMarkerControl,
    InteractiveMarkerFeedback,
    InteractiveMarkerUpdate,
    Marker,
)
from visualization_msgs.srv import GetInteractiveMarkers  # noqa: E402

from rt_grasp_ros.ros import interactive  # noqa: E402

pytestmark = pytest.mark.ros

NS = "imarker_test"
Feedback = InteractiveMarkerFeedback
CLIENTS = {}  # node -> its RvizLikeClients


class RvizLikeClient:
    """RViz's InteractiveMarkerClient, in Python: init request, seq numbers, feedback."""

    def __init__(self, node, namespace, client_id=None):
        self.node = node
        self.client_id = client_id or node.get_fully_qualified_name()
        self.get_client = node.create_client(
            GetInteractiveMarkers, f"{namespace}/get_interactive_markers"
        )
        self.feedback_pub = node.create_publisher(
            InteractiveMarkerFeedback, f"{namespace}/feedback", QoSProfile(depth=100)
        )
        node.create_subscription(
            InteractiveMarkerUpdate, f"{namespace}/update", self._on_update, QoSProfile(depth=100)
        )
        self.markers = {}  # the client's view: name -> InteractiveMarker
        self.updates = []  # every UPDATE received, in order
        self.keep_alives = 0
        self.resets = 0
        self.requests = 0
        self._reset()
        CLIENTS.setdefault(node, []).append(self)  # spin() ticks every client of a node

    def _reset(self):
        self.initialized = False
        self.last_seq = None  # RViz's first_update: any number is accepted first
        self.queue = []
        self._request = None
        self._request_time = 0.0

    def _on_update(self, msg):
        if msg.type == InteractiveMarkerUpdate.KEEP_ALIVE:
            self.keep_alives += 1  # RViz ignores them (and warns once)
            return
        self.updates.append(msg)
        if self.last_seq is not None and msg.seq_num != self.last_seq + 1:
            self.resets += 1  # out of order: reset and ask for the markers again
            self.markers = {}
            self._reset()
            return
        self.last_seq = msg.seq_num
        self.queue.append(msg)
        if self.initialized:
            self._apply_queue()

    def _apply_queue(self):
        for msg in self.queue:
            for marker in msg.markers:
                self.markers[marker.name] = marker
            for pose in msg.poses:
                if pose.name in self.markers:
                    self.markers[pose.name].pose = pose.pose
                    self.markers[pose.name].header = pose.header
            for name in msg.erases:
                self.markers.pop(name, None)
        self.queue = []

    def tick(self):
        """RViz's update(): request the markers (again after 1 s), then apply the queue."""
        if self.initialized:
            return True
        if not self.get_client.service_is_ready():
            return False
        if self._request is None or (
            not self._request.done() and time.monotonic() - self._request_time > 1.0
        ):
            self._request = self.get_client.call_async(GetInteractiveMarkers.Request())
            self._request_time = time.monotonic()
            self.requests += 1
        if self._request.done():
            response = self._request.result()
            self.markers = {m.name: m for m in response.markers}
            self.queue = [u for u in self.queue if u.seq_num > response.sequence_number]
            self.initialized = True
            self.init_sequence_number = response.sequence_number
            self._apply_queue()
        return self.initialized

    def send(self, event_type, marker_name, pose=None, menu_entry_id=0, control=""):
        """Publish one feedback message, as RViz does (client_id, the marker's frame)."""
        msg = InteractiveMarkerFeedback(
            client_id=self.client_id,
            marker_name=marker_name,
            control_name=control,
            event_type=event_type,
            menu_entry_id=menu_entry_id,
        )
        marker = self.markers.get(marker_name)
        if marker is not None:
            msg.header.frame_id = marker.header.frame_id
            msg.pose = marker.pose if pose is None else pose
        elif pose is not None:
            msg.pose = pose
        self.feedback_pub.publish(msg)


def box_marker(name="box", x=0.0):
    marker = InteractiveMarker(name=name, scale=0.1)
    marker.header.frame_id = "panda_link0"
    marker.pose.position.x, marker.pose.orientation.w = x, 1.0
    cube = Marker(type=Marker.CUBE)
    cube.scale.x = cube.scale.y = cube.scale.z = 0.05
    cube.color.a = 1.0
    control = InteractiveMarkerControl(
        name="drag", interaction_mode=InteractiveMarkerControl.MOVE_PLANE, always_visible=True
    )
    control.markers.append(cube)
    marker.controls.append(control)
    return marker


def implementations():
    """Our protocol server, and interactive_markers' where it is installed."""
    params = [pytest.param((interactive.ProtocolServer, interactive.Menu), id="own")]
    try:
        from interactive_markers import InteractiveMarkerServer, MenuHandler
    except ImportError:
        params.append(
            pytest.param(
                None,
                id="interactive_markers",
                marks=pytest.mark.skip(
                    reason="interactive_markers is not installed (not on PyPI)"
                ),
            )
        )
    else:
        params.append(
            pytest.param((InteractiveMarkerServer, MenuHandler), id="interactive_markers")
        )
    return params


@pytest.fixture(params=implementations())
def imarkers(request, ros_node):
    """(server, menu class, client, executor, spin): a server and an RViz-like client."""
    server_class, menu_class = request.param
    server_node = rclpy.create_node("imarker_server")
    client_node = rclpy.create_node("rviz_like")
    executor = SingleThreadedExecutor()
    executor.add_node(server_node)
    executor.add_node(client_node)
    server = server_class(server_node, NS)
    client = RvizLikeClient(client_node, NS)

    def spin(predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for each in CLIENTS.get(client_node, ()):
                each.tick()
            if predicate():
                return True
            executor.spin_once(timeout_sec=0.02)
        return predicate()

    try:
        yield server, menu_class, client, spin
    finally:
        CLIENTS.pop(client_node, None)
        server.shutdown()
        executor.shutdown()
        server_node.destroy_node()
        client_node.destroy_node()


def connected(client, spin, publishers=1):
    """Wait until the client is initialised and the update topic has matched."""
    assert spin(lambda: client.initialized and client.get_client.service_is_ready())
    node = client.node
    assert spin(lambda: node.count_publishers(f"/{NS}/update") >= publishers)


def test_updates_carry_consecutive_sequence_numbers_and_init_replies_hold_the_markers(imarkers):
    server, _, client, spin = imarkers
    connected(client, spin)
    assert client.init_sequence_number == 0 and client.markers == {}
    server.insert(box_marker("box"))
    server.applyChanges()
    server.applyChanges()  # nothing pending: nothing published
    pose = PoseMsg()
    pose.position.x, pose.orientation.w = 0.3, 1.0
    assert server.setPose("box", pose)
    server.applyChanges()
    server.insert(box_marker("other"))
    server.erase("box")
    server.applyChanges()
    assert spin(lambda: len(client.updates) == 3), [u.seq_num for u in client.updates]
    first, second, third = client.updates
    assert [u.seq_num for u in client.updates] == [1, 2, 3]
    assert [m.name for m in first.markers] == ["box"] and not first.poses
    assert [p.name for p in second.poses] == ["box"] and second.poses[0].pose.position.x == 0.3
    assert second.poses[0].header.frame_id == "panda_link0"  # the marker's own header
    assert third.erases == ["box"] and [m.name for m in third.markers] == ["other"]
    assert set(client.markers) == {"other"} and client.resets == 0
    # a late client: the init reply has every marker and the last sequence number
    late = RvizLikeClient(client.node, NS, client_id="/late")
    assert spin(lambda: late.initialized)
    assert late.init_sequence_number == 3 and set(late.markers) == {"other"}
    assert not server.setPose("missing", pose) and not server.erase("missing")
    assert server.get("other").name == "other" and server.get("box") is None


def test_no_keep_alive_and_a_gap_makes_the_client_ask_again(imarkers):
    server, _, client, spin = imarkers
    connected(client, spin)
    server.insert(box_marker())
    server.applyChanges()
    assert spin(lambda: len(client.updates) == 1)
    # idle: ROS 2 servers send no KEEP_ALIVE (the client ignores them) and no updates
    spin(lambda: False, timeout=1.5)
    assert client.keep_alives == 0 and len(client.updates) == 1
    # a lost update (seq 2 never arrives): the next one is out of order, the client resets,
    # asks get_interactive_markers again and gets the current state
    requests = client.requests
    server.seq_num += 1
    server.insert(box_marker(x=0.5))
    server.applyChanges()
    assert spin(lambda: client.resets == 1)
    assert spin(lambda: client.initialized and client.requests == requests + 1)
    assert client.init_sequence_number == 3 and client.markers["box"].pose.position.x == 0.5


def test_pose_feedback_moves_the_marker_and_menu_feedback_reaches_its_entry(imarkers):
    server, menu_class, client, spin = imarkers
    events, chosen = [], []
    server.insert(box_marker(), feedback_callback=events.append)
    menu = menu_class()
    menu.insert("Execute", callback=lambda f: chosen.append("execute"))
    sub = menu.insert("Follow-up")
    menu.insert("more to the left", parent=sub, callback=lambda f: chosen.append("left"))
    assert menu.getTitle(sub) == "Follow-up"
    assert menu.apply(server, "box")
    server.applyChanges()
    connected(client, spin)
    assert spin(lambda: "box" in client.markers)
    entries = client.markers["box"].menu_entries
    assert [(e.id, e.parent_id, e.title) for e in entries] == [
        (1, 0, "Execute"),
        (2, 0, "Follow-up"),
        (3, 2, "more to the left"),
    ]
    time.sleep(1.05)  # feedback within 1 s of a marker's creation counts as a conflict
    dragged = PoseMsg()
    dragged.position.x, dragged.position.y, dragged.orientation.w = 0.2, -0.1, 1.0
    # the server keeps the last feedback only (depth 1, as interactive_markers): one at a time
    for k, (event, pose) in enumerate(
        (
            (Feedback.MOUSE_DOWN, None),
            (Feedback.POSE_UPDATE, dragged),
            (Feedback.MOUSE_UP, dragged),
        )
    ):
        client.send(event, "box", pose)
        assert spin(lambda k=k: len(events) == k + 1), [e.event_type for e in events]
    assert [e.event_type for e in events] == [
        Feedback.MOUSE_DOWN,
        Feedback.POSE_UPDATE,
        Feedback.MOUSE_UP,
    ]
    assert events[0].client_id == "/rviz_like"
    # the server published the dragged pose, with the next sequence number
    assert spin(lambda: any(u.poses for u in client.updates))
    (moved,) = [u for u in client.updates if u.poses]
    assert moved.seq_num == client.updates[0].seq_num + 1
    assert (moved.poses[0].pose.position.x, moved.poses[0].pose.position.y) == (0.2, -0.1)
    assert server.get("box").pose.position.y == -0.1
    for name, entry in (("box", 3), ("box", 1), ("box", 42), ("nothing", 1)):
        client.send(Feedback.MENU_SELECT, name, menu_entry_id=entry)  # 42, nothing: ignored
        spin(lambda: False, timeout=0.3)
    assert chosen == ["left", "execute"] and len(events) == 3  # menu feedback went to the menu


def test_feedback_from_a_second_client_within_a_second_is_rejected(imarkers):
    server, _, client, spin = imarkers
    events = []
    server.insert(box_marker(), feedback_callback=events.append)
    server.applyChanges()
    connected(client, spin)
    assert spin(lambda: "box" in client.markers)
    other = RvizLikeClient(client.node, NS, client_id="/rviz_two")
    assert spin(lambda: other.initialized)
    time.sleep(1.05)
    client.send(Feedback.MOUSE_DOWN, "box")
    assert spin(lambda: len(events) == 1)
    other.send(Feedback.MOUSE_DOWN, "box")  # another user grabs it at once: rejected
    spin(lambda: False, timeout=0.3)
    client.send(Feedback.MOUSE_UP, "box")
    assert spin(lambda: len(events) == 2)
    assert [e.client_id for e in events] == ["/rviz_like", "/rviz_like"]
    time.sleep(1.05)  # a second later the other client may take over
    other.send(Feedback.MOUSE_DOWN, "box")
    assert spin(lambda: len(events) == 3) and events[-1].client_id == "/rviz_two"


def test_the_node_uses_the_standard_server_where_installed():
    try:
        import interactive_markers  # noqa: F401
    except ImportError:
        assert interactive.InteractiveMarkerServer is interactive.ProtocolServer
        assert interactive.MenuHandler is interactive.Menu
        assert interactive.IMPLEMENTATION == "rt_grasp_ros.ros.interactive"
    else:
        assert interactive.IMPLEMENTATION == "interactive_markers"
    assert not math.isnan(interactive.CONFLICT_S)
    assert json.dumps(interactive.__all__)


def test_the_node_refuses_with_a_reason_and_stops_cleanly_on_sigint(
    start_node, ros_node, spin_until
):
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    from rt_grasp_ros.ros import qos
    from rt_grasp_ros.ros.stack import sim_camera_extrinsic

    extrinsic = "[" + ",".join(str(v) for v in sim_camera_extrinsic()) + "]"
    node = start_node("grasp_refinement", "-p", f"camera_extrinsic:={extrinsic}")
    states = []
    ros_node.create_subscription(
        String, "grasp_refinement/state", lambda m: states.append(json.loads(m.data)), qos.LATCHED
    )
    assert spin_until(ros_node, lambda: states, 20.0)
    assert states[-1]["stage"] == "idle" and states[-1]["grasp"] is None
    follow = ros_node.create_publisher(String, "grasp_refinement/follow_up", qos.COMMAND)
    assert spin_until(ros_node, lambda: follow.get_subscription_count() > 0, 20.0)
    follow.publish(String(data="more to the left"))
    assert spin_until(ros_node, lambda: "plan_grasp is not available" in states[-1]["error"])
    execute = ros_node.create_client(Trigger, "grasp_refinement/execute")
    assert execute.wait_for_service(timeout_sec=20.0)
    future = execute.call_async(Trigger.Request())
    assert spin_until(ros_node, future.done, 20.0)
    assert not future.result().success and "execute_grasp" in future.result().message
    assert "not available" in node.output()  # logged, not only published
    node.stop_cleanly()


def test_a_bad_refinement_parameter_names_itself_and_exits_2(start_node):
    with pytest.raises(pytest.fail.Exception) as info:  # no camera pose and no TF
        start_node("grasp_refinement", timeout=30)
    assert "camera_extrinsic" in str(info.value) and "exit status 2" in str(info.value)
    pose = "camera_extrinsic:=[0.5,0.0,1.0,1.0,0.0,0.0,0.0]"
    with pytest.raises(pytest.fail.Exception) as info:
        start_node("grasp_refinement", "-p", pose, "-p", "plan_timeout:=-1.0", timeout=30)
    assert "plan_timeout=-1.0" in str(info.value) and "exit status 2" in str(info.value)


# --- grasp_refinement on the stack (embedded robot, tiny model) ---------------------------------


def entry_id(marker, title):
    (entry,) = [e for e in marker.menu_entries if e.title == title]
    return entry.id


def marker_text(marker):
    return "\n".join(m.text for c in marker.controls for m in c.markers if m.text)


@pytest.mark.slow
@pytest.mark.xdist_group("ros_stack")
def test_an_rviz_like_client_refines_and_executes_a_grasp_on_the_stack(
    tiny_model, ros_domain, ros_node
):
    pytest.importorskip("mujoco")
    from rosgraph_msgs.msg import Clock
    from rt_grasp.action import ExecuteGrasp
    from rt_grasp.srv import GetSceneGrasps, PlanGrasp
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    from rt_grasp_ros.ros import qos
    from rt_grasp_ros.ros.bringup import Stack

    start = time.monotonic()
    states, stages = [], []
    ros_node.create_subscription(
        String, "grasp_refinement/state", lambda m: states.append(json.loads(m.data)), qos.LATCHED
    )
    ros_node.create_subscription(
        ExecuteGrasp.Impl.FeedbackMessage,
        "execute_grasp/_action/feedback",
        lambda m: stages.append(m.feedback),
        10,
    )
    clock = [0.0]
    ros_node.create_subscription(
        Clock, "/clock", lambda m: clock.append(m.clock.sec + 1e-9 * m.clock.nanosec), 10
    )
    rviz = RvizLikeClient(ros_node, "grasp_refinement")
    truth = ros_node.create_client(GetSceneGrasps, "sim/scene_grasps")
    replan = ros_node.create_client(Trigger, "grasp_refinement/replan")
    arguments = {"sim": "true", "model": str(tiny_model), "seed": "3"}
    overrides = {"sim": {"realtime_factor": 0.0, "camera_rate": 1.0}}
    with Stack(arguments, overrides, log=lambda line: None) as stack:

        def until(predicate, timeout, what):
            def step():
                rviz.tick()
                rclpy.spin_once(ros_node, timeout_sec=0.02)
                return predicate()

            stack.wait_until(step, timeout, what, step=0.0)

        def call(client, request, timeout=30.0):
            until(client.service_is_ready, 60.0, f"{client.srv_name} did not come up")
            future = client.call_async(request)
            until(future.done, timeout, f"{client.srv_name} did not answer")
            return future.result()

        def state():
            return states[-1] if states else {}

        ground = call(truth, GetSceneGrasps.Request(object="obj0"))
        assert ground.success and ground.grasps, ground.message
        goal = ground.grasps[0].pose.pose
        until(lambda: rviz.initialized, 30.0, "the RViz-like client did not initialise")
        assert rviz.markers == {}  # no grasp planned yet
        until(lambda: state().get("stage") == "idle", 10.0, "no idle state")
        # the panel's Re-plan (std_srvs/Trigger) starts a session once the planner is up
        until(lambda: ros_node.count_publishers("/grasp_planner/status") > 0, 60.0, "no planner")
        until(
            ros_node.create_client(PlanGrasp, "plan_grasp").service_is_ready,
            90.0,
            "/plan_grasp never appeared",
        )
        answer = call(replan, Trigger.Request())
        assert answer.success, answer.message
        until(lambda: state().get("stage") == "planned", 60.0, "the first plan did not come")
        first = state()
        assert first["session"] and first["turn"] == 1 and first["answer"]
        until(lambda: "grasp" in rviz.markers, 10.0, "no grasp marker")
        marker = rviz.markers["grasp"]
        assert marker.header.frame_id == "panda_link0"
        assert marker.pose.position.x == pytest.approx(first["grasp"]["position"][0], abs=1e-6)
        assert "turn 1" in marker_text(marker)
        # interactive_markers takes no feedback within 1 s (node clock: the sim's) of a
        # marker's creation, as if another client held it: wait as long as a user would. The
        # sim runs faster than real time here, and the server's clock may trail this node's
        # by a few callbacks: 3 sim s and 1 wall s (1.2 sim s lost a menu select 1 in 6)
        seen, wall = clock[-1], time.monotonic() + 1.0
        until(
            lambda: clock[-1] > seen + 3.0 and time.monotonic() > wall,
            30.0,
            "the sim clock stands still",
        )
        # a follow-up from the menu: a new turn of the same session, through the model
        rviz.send(
            Feedback.MENU_SELECT, "grasp", menu_entry_id=entry_id(marker, "more to the left")
        )
        until(lambda: state().get("turn") == 2, 60.0, "the follow-up was not answered")
        second = state()
        assert second["session"] == first["session"] and second["stage"] == "planned"
        assert second["last_follow_up"] == "more to the left"
        until(lambda: "turn 2" in marker_text(rviz.markers["grasp"]), 10.0, "marker not updated")
        # drag it onto the ground-truth grasp: place and turn; its height comes from the depth
        dragged = PoseMsg()
        dragged.position.x, dragged.position.y = goal.position.x, goal.position.y
        dragged.position.z = rviz.markers["grasp"].pose.position.z
        dragged.orientation = goal.orientation
        for event in (Feedback.MOUSE_DOWN, Feedback.POSE_UPDATE, Feedback.MOUSE_UP):
            rviz.send(event, "grasp", dragged)  # one at a time: the server keeps the last only
            pause = time.monotonic() + 0.3
            until(lambda p=pause: time.monotonic() > p, 5.0, "")
        until(lambda: state().get("stage") == "corrected", 20.0, "the drag was not taken")
        corrected = state()
        placed = rviz.markers["grasp"].pose
        assert (placed.position.x, placed.position.y) == pytest.approx(
            (goal.position.x, goal.position.y), abs=1e-6
        )
        assert corrected["grasp"]["position"][2] == pytest.approx(placed.position.z, abs=1e-6)
        assert 0.0 < placed.position.z < 0.2 and "corrected your grasp" in corrected["correction"]
        # Execute from the menu: the dragged grasp is what the executor gets
        rviz.send(Feedback.MENU_SELECT, "grasp", menu_entry_id=entry_id(marker, "Execute"))
        until(lambda: state().get("stage") in ("succeeded", "failed"), 90.0, "no execution result")
        done = state()
        assert done["stage"] == "succeeded", done.get("result")
        assert done["result"]["success"] and done["result"]["stage"] == "hold"
        executed = done["executed"]["position"]
        assert executed == pytest.approx(corrected["grasp"]["position"], abs=1e-3)
        assert executed[:2] == pytest.approx([goal.position.x, goal.position.y], abs=1e-3)
        # the marker showed the stages
        texts = [marker_text(m) for u in rviz.updates for m in u.markers]
        assert any("executing: approach" in t for t in texts), texts[-5:]
        # the marker's update is a topic of its own: it may come after the state
        until(lambda: "executed" in marker_text(rviz.markers["grasp"]), 10.0, "marker text")
        # the robot closed where the user dragged the grasp, and the object went up
        close = [f.tcp_pose.pose.position for f in stages if f.stage == "close"]
        assert close and math.hypot(close[0].x - executed[0], close[0].y - executed[1]) < 0.005
        after = call(truth, GetSceneGrasps.Request(object="obj0"))
        lift = after.grasps[0].pose.pose.position.z - goal.position.z
        assert lift > 0.05, f"the object rose {lift:.3f} m"
        assert rviz.resets == 0 and [u.seq_num for u in rviz.updates] == list(
            range(rviz.updates[0].seq_num, rviz.updates[0].seq_num + len(rviz.updates))
        )
    assert stack.status == 0, stack.exits
    print(f"refinement on the stack: {time.monotonic() - start:.1f} s")
