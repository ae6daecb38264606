"""The grasp planner node over DDS: readiness, a failed load, bounded requests, sessions.

Each test starts the real node (python -m rt_grasp_ros.ros.grasp_planner) on a tiny random
LLaVA built for the test and calls /plan_grasp as any ROS client does: wait_for_service(), then
call. The requests carry their own images, so no sim or camera node is needed.
"""

import hashlib
import json
import math
import shutil
import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is missing: `make setup` installs ROS 2")
pytest.importorskip("rt_grasp.msg", reason="rt_grasp's interfaces are not built: run `make setup`")
pytest.importorskip("transformers")

from rt_grasp.msg import PlannerStatus  # noqa: E402
from rt_grasp.srv import AdaptContact, PlanGrasp  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from rt_grasp_ros.ros import conversions as conv  # noqa: E402
from rt_grasp_ros.ros import qos  # noqa: E402
from rt_grasp_ros.ros.stack import sim_camera_extrinsic  # noqa: E402

pytestmark = [pytest.mark.xdist_group("ros_planner"), pytest.mark.ros, pytest.mark.slow]

# the stack's one camera pose: a planner without it (and without tf2_ros) refuses to start
EXTRINSIC = ("-p", "camera_extrinsic:=[" + ",".join(map(str, sim_camera_extrinsic())) + "]")

STATUS = "grasp_planner/status"


def images(size=64):
    """Colour, depth (a plane 0.75 m away) and camera info of one stamp, for a request."""
    stamp = conv.Image().header.stamp
    stamp.sec = 7
    color = conv.rgb_to_msg(np.full((size, size, 3), 128, np.uint8), "cam", stamp)
    depth = conv.depth_to_msg(np.full((size, size), 0.75, np.float32), "cam", stamp)
    info = conv.CameraInfo(width=size, height=size)
    info.k = [80.0, 0.0, size / 2 - 0.5, 0.0, 80.0, size / 2 - 0.5, 0.0, 0.0, 1.0]
    info.header.frame_id, info.header.stamp = "cam", stamp
    return {"image": color, "depth": depth, "camera_info": info}


class Planner:
    """A test's client of a started planner: its status, its service, timed calls."""

    def __init__(self, node, spin_until):
        self.node, self.spin_until = node, spin_until
        self.statuses = []  # (state, service advertised when it arrived, message)
        self.client = node.create_client(PlanGrasp, "plan_grasp")
        node.create_subscription(PlannerStatus, STATUS, self._on_status, qos.LATCHED)

    def _on_status(self, msg):
        self.statuses.append((msg.state, self.client.service_is_ready(), msg.message))

    def wait_status(self, state, timeout=60.0):
        ok = self.spin_until(
            self.node, lambda: bool(self.statuses) and self.statuses[-1][0] == state, timeout
        )
        assert ok, f"status never became {state}; seen {self.statuses}"
        return self.statuses[-1]

    def call(self, timeout=60.0, **fields):
        """wait_for_service() then call, as any client; returns (response, seconds)."""
        assert self.client.wait_for_service(timeout_sec=90.0), "/plan_grasp never appeared"
        start = time.perf_counter()
        future = self.client.call_async(PlanGrasp.Request(**fields))
        assert self.spin_until(self.node, future.done, timeout), f"no answer to {fields}"
        return future.result(), time.perf_counter() - start


def test_wait_for_service_then_call_gets_a_plan_with_the_default_decoding(
    tiny_model, start_node, ros_node, spin_until
):
    """Not advertised while LOADING; then a request with only an instruction gets a pose."""
    start_node("grasp_planner", *EXTRINSIC, "-p", f"model:={tiny_model}")
    planner = Planner(ros_node, spin_until)
    assert spin_until(ros_node, lambda: bool(planner.statuses), 30.0), "no latched status"
    state, advertised, message = planner.statuses[0]
    assert state == PlannerStatus.LOADING and not advertised, planner.statuses
    assert str(tiny_model) in message
    # What `ros2 service call /plan_grasp ... "{instruction: ...}"` sends: DECODING_DEFAULT,
    # which is the node's parameter `decoding` (constrained): the answer always has a pose.
    response, _ = planner.call(instruction="pick up the object", **images())
    assert response.success, response.message
    assert response.grasp.answer and response.session_id == "s1"
    assert planner.wait_status(PlannerStatus.READY, 10.0)[1]  # READY, and advertised


def test_a_node_default_of_free_decoding_applies_unless_the_request_asks(
    tiny_model, start_node, ros_node, spin_until
):
    start_node("grasp_planner", *EXTRINSIC, "-p", f"model:={tiny_model}", "-p", "decoding:=free")
    planner = Planner(ros_node, spin_until)
    free, _ = planner.call(instruction="pick up the object", **images())
    constrained, _ = planner.call(
        instruction="pick up the object",
        decoding=PlanGrasp.Request.DECODING_CONSTRAINED,
        **images(),
    )
    # the random model's free answer has no pose; constrained decoding always gives one
    assert not free.success and "no valid pose" in free.message
    assert constrained.success, constrained.message


def _corrupt_config(model, folder):
    shutil.copytree(model, folder)
    (folder / "config.json").write_text('{"model_type": "llava", ')


def _config_of_wrong_type(model, folder):
    """A config.json whose load raises neither OSError nor ValueError (the old code hung)."""
    shutil.copytree(model, folder)
    config = json.loads((folder / "config.json").read_text())
    config["text_config"]["hidden_size"] = "big"
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("make", "cause"),
    [(_corrupt_config, "not a valid JSON"), (_config_of_wrong_type, "hidden_size")],
    ids=["corrupt_json", "wrong_type"],
)
def test_a_failed_load_is_reported_with_its_cause_in_status_log_and_every_answer(
    make, cause, tiny_model, start_node, ros_node, spin_until, tmp_path
):
    make(tiny_model, tmp_path / "bad")
    proc = start_node("grasp_planner", *EXTRINSIC, "-p", f"model:={tmp_path / 'bad'}")
    planner = Planner(ros_node, spin_until)
    _, _, message = planner.wait_status(PlannerStatus.FAILED, 60.0)
    assert cause in message and "failed to load" in message
    for _ in range(2):
        response, _ = planner.call(instruction="pick", **images())
        assert not response.success and cause in response.message
    assert proc.wait_for_output("failed to load", 5.0) and cause in proc.output()
    assert proc.running()


def test_bad_requests_are_answered_naming_the_field_and_the_node_survives(
    tiny_model, start_node, ros_node, spin_until
):
    proc = start_node(
        "grasp_planner",
        *EXTRINSIC,
        *("-p", f"model:={tiny_model}", "-p", "max_samples:=4"),
        *("-p", "max_instruction_chars:=120", "-p", "max_instruction_tokens:=12"),
        *("-p", "max_turns:=2", "-p", "max_sessions:=2"),
    )
    planner = Planner(ros_node, spin_until)
    frame = images()
    bad = [
        ({"samples": 2, "temperature": -1.0}, "temperature"),  # transformers: ValueError
        ({"samples": 1_000_000}, "samples"),  # ended every node of `ros up` on 40c23f7
        ({"samples": 2, "top_p": 1.5}, "top_p"),
        ({"decoding": 7}, "decoding"),
        ({"mode": PlanGrasp.Request.MODE_CONTACT}, "mode"),
        ({"instruction": "x" * 121}, "instruction"),  # characters
        ({"instruction": " ".join("abcdefghij" * 4)}, "instruction"),  # 79 chars, >= 40 tokens
    ]
    for fields, name in bad:
        response, seconds = planner.call(**{"instruction": "pick", **fields, **frame})
        assert not response.success and response.message.startswith(f"{name}: "), (
            fields,
            response.message,
        )
        assert seconds < 2.0, f"{fields} took {seconds:.2f} s to be refused"
    assert "max_instruction_tokens=12" in response.message
    assert proc.running()
    good, _ = planner.call(instruction="pick", **frame)  # greedy: deterministic
    assert good.success, good.message
    sampled, _ = planner.call(instruction="pick", samples=2, temperature=0.5, **frame)
    assert sampled.success or "no valid pose" in sampled.message  # answered either way

    # turns per session: the first instruction and one follow-up (max_turns 2)
    first, _ = planner.call(instruction="pick", **frame)
    follow, _ = planner.call(session_id=first.session_id, follow_up="left")
    assert follow.session_id == first.session_id and follow.grasp.answer
    more, _ = planner.call(session_id=first.session_id, follow_up="more left")
    assert not more.success and more.message.startswith("follow_up: ")
    assert "max_turns=2" in more.message

    # sessions: at most 2 live, the least recently used evicted
    newer = [planner.call(instruction="pick", **frame)[0].session_id for _ in range(2)]
    evicted, _ = planner.call(session_id=first.session_id, follow_up="left")
    assert not evicted.success and "evicted" in evicted.message, evicted.message
    kept, _ = planner.call(session_id=newer[-1], follow_up="left")
    assert kept.session_id == newer[-1] and kept.grasp.answer
    assert proc.running()


def test_the_cli_client_waits_for_the_service_not_for_a_loading_text(
    tiny_model, start_node, ros_node, spin_until
):
    """`rt-grasp ros plan` right after the planner starts gets a real answer, not 'loading'."""
    from rt_grasp_ros.errors import RtGraspError
    from rt_grasp_ros.ros.clients import StackClient

    client = StackClient("pytest_cli")
    try:
        with pytest.raises(RtGraspError, match="no status on grasp_planner/status"):
            client.plan("pick", timeout=1.0)  # no planner yet: the error says so
        start_node("grasp_planner", *EXTRINSIC, "-p", f"model:={tiny_model}")
        response = client.plan("pick", timeout=60.0)  # while the model is still loading
    finally:
        client.close()
    # no camera crop in this test: the loaded planner's own answer, not "still loading"
    assert not response.success and response.message.startswith("no image"), response.message


class Latched:
    """The latest message on a latched topic (None until one came)."""

    def __init__(self, node, msg_type, topic):
        self.msg = None
        node.create_subscription(msg_type, topic, self._on_msg, qos.LATCHED)

    def _on_msg(self, msg):
        self.msg = msg


def _assert_poses_agree(contact):
    """pose (base frame) = the camera extrinsic @ pose_camera, within 1e-6."""
    from rt_grasp_ros.ros.frames import parse_extrinsic

    extrinsic = parse_extrinsic(sim_camera_extrinsic())
    base = conv.pose_from_msg(contact.pose.pose)
    seen = extrinsic @ conv.pose_from_msg(contact.pose_camera.pose)
    np.testing.assert_allclose(seen.position, base.position, atol=1e-6)
    np.testing.assert_allclose(seen.rotation.as_matrix(), base.rotation.as_matrix(), atol=1e-6)
    # the TCP's z is up, its x forward (ContactPose.msg), both in the base frame
    up, forward = (np.array([v.x, v.y, v.z]) for v in (contact.up, contact.forward))
    np.testing.assert_allclose(base.rotation.apply([0, 0, 1]), up, atol=1e-6)
    np.testing.assert_allclose(base.rotation.apply([1, 0, 0]), forward, atol=1e-6)


def test_a_contact_planner_answers_the_chain_of_thought_its_topic_markers_and_follow_ups(
    tiny_model, start_node, ros_node, spin_until
):
    from rt_grasp.msg import ContactPose
    from visualization_msgs.msg import Marker, MarkerArray

    proc = start_node(
        "grasp_planner", *EXTRINSIC, "-p", f"model:={tiny_model}", "-p", "task:=contact"
    )
    planner = Planner(ros_node, spin_until)
    frame = images()
    response, _ = planner.call(
        mode=PlanGrasp.Request.MODE_CONTACT, instruction="open the drawer", **frame
    )
    assert response.success, response.message
    contact = response.contact
    _assert_poses_agree(contact)
    assert contact.pose.header.frame_id == "panda_link0"
    assert contact.pose_camera.header.frame_id == "cam"
    assert len(contact.chain) == 3 and contact.category
    assert contact.reasoning == contact.chain[1] and contact.answer == contact.chain[2]
    assert f"({round(contact.u)}, {round(contact.v)})" in contact.answer
    assert contact.depth == pytest.approx(0.75)
    assert response.timings.total >= response.timings.decode > 0
    assert contact.session_id == response.session_id != ""  # for follow-ups and ~/adapt

    topic = Latched(ros_node, ContactPose, "grasp_planner/contact")
    markers = Latched(ros_node, MarkerArray, "grasp_planner/markers")
    assert spin_until(ros_node, lambda: topic.msg and markers.msg, 10.0), "nothing latched"
    assert list(topic.msg.chain) == list(contact.chain) and topic.msg.u == contact.u
    assert topic.msg.session_id == response.session_id
    kinds = [m.type for m in markers.msg.markers]
    assert kinds == [Marker.SPHERE, Marker.ARROW, Marker.ARROW, Marker.TEXT_VIEW_FACING]
    sphere, up_arrow, forward_arrow, text = markers.msg.markers
    assert sphere.pose.position == contact.pose.pose.position
    assert up_arrow.points[1] == contact.pose.pose.position  # up ends at the contact
    assert forward_arrow.points[0] == contact.pose.pose.position
    assert text.text == contact.category

    # a refinement session: the follow-up re-asks the pose turn in the same conversation
    follow, _ = planner.call(
        mode=PlanGrasp.Request.MODE_CONTACT,
        session_id=response.session_id,
        follow_up="more to the left",
    )
    assert follow.success and follow.session_id == response.session_id, follow.message
    assert len(follow.contact.chain) == 4 and list(follow.contact.chain[:3]) == list(contact.chain)
    assert follow.contact.answer == follow.contact.chain[3]
    _assert_poses_agree(follow.contact)
    assert spin_until(ros_node, lambda: len(topic.msg.chain) == 4, 10.0), "no new contact"

    bad = [
        ({"mode": PlanGrasp.Request.MODE_GRASP}, "mode"),  # a contact planner
        ({"mode": 7}, "mode"),
        ({"samples": 2}, "samples"),  # one greedy chain
        ({"decoding": 7}, "decoding"),
    ]
    for fields, name in bad:
        answer, _ = planner.call(**{"mode": PlanGrasp.Request.MODE_CONTACT, **fields, **frame})
        assert not answer.success and answer.message.startswith(f"{name}: "), answer.message
    # no depth anywhere: no contact, but what the model said comes back
    holes = {**frame, "depth": conv.depth_to_msg(np.full((64, 64), np.nan, np.float32), "cam")}
    holes["depth"].header.stamp = frame["image"].header.stamp
    blind, _ = planner.call(mode=PlanGrasp.Request.MODE_CONTACT, **holes)
    assert not blind.success and blind.message.startswith("contact pixel ("), blind.message
    assert len(blind.contact.chain) == 3 and blind.contact.answer == blind.contact.chain[2]
    assert blind.contact.session_id == blind.session_id != ""
    # tta off: the adaptation services answer why, naming the parameter
    adapt = Adaptation(ros_node, spin_until)
    refused = adapt.call(session_id=response.session_id, moved=True)
    assert not refused.success and refused.message.startswith("tta is false"), refused.message
    reset = adapt.reset()
    assert not reset.success and reset.message.startswith("tta is false"), reset.message
    assert proc.running()


def test_a_contact_planner_without_cot_asks_the_pose_prompt_alone(
    tiny_model, start_node, ros_node, spin_until
):
    start_node(
        "grasp_planner",
        *EXTRINSIC,
        *("-p", f"model:={tiny_model}", "-p", "task:=contact", "-p", "cot:=false"),
    )
    planner = Planner(ros_node, spin_until)
    response, _ = planner.call(mode=PlanGrasp.Request.MODE_CONTACT, **images())
    assert response.success, response.message
    assert len(response.contact.chain) == 1 and response.contact.reasoning == ""
    assert response.contact.answer == response.contact.chain[0]
    _assert_poses_agree(response.contact)


class Adaptation:
    """A test's client of the planner's ~/adapt and ~/reset_adaptation."""

    def __init__(self, node, spin_until):
        self.node, self.spin_until = node, spin_until
        self.adapt = node.create_client(AdaptContact, "grasp_planner/adapt")
        self.reset_client = node.create_client(Trigger, "grasp_planner/reset_adaptation")
        self.seconds = []  # each adapt call's round trip

    def _call(self, client, request, timeout):
        assert client.wait_for_service(timeout_sec=90.0), f"{client.srv_name} never appeared"
        start = time.perf_counter()
        future = client.call_async(request)
        assert self.spin_until(self.node, future.done, timeout), f"no answer to {request}"
        return future.result(), time.perf_counter() - start

    def call(self, timeout=60.0, **fields):
        response, seconds = self._call(self.adapt, AdaptContact.Request(**fields), timeout)
        self.seconds.append(seconds)
        return response

    def reset(self, timeout=60.0):
        return self._call(self.reset_client, Trigger.Request(), timeout)[0]


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_contact_planner_with_tta_adapts_on_a_planned_session_and_resets(
    tiny_model, start_node, ros_node, spin_until, tmp_path
):
    from rt_grasp_ros.manip.tta import ADAPTED_FILE, STATE_FILE

    model_files = _digest(tiny_model)
    out = tmp_path / "tta"
    proc = start_node(
        "grasp_planner",
        *EXTRINSIC,
        *("-p", f"model:={tiny_model}", "-p", "task:=contact", "-p", "tta:=true"),
        *("-p", f"tta_dir:={out}", "-p", "tta_steps:=2", "-p", "tta_learning_rate:=0.01"),
    )
    assert proc.wait_for_output(str(out), 10.0), proc.output()  # the folder is logged
    planner, adapt = Planner(ros_node, spin_until), Adaptation(ros_node, spin_until)
    frame = images()
    planned, _ = planner.call(mode=PlanGrasp.Request.MODE_CONTACT, **frame)
    assert planned.success, planned.message
    session = planned.contact.session_id
    assert session == planned.session_id != ""

    first = adapt.call(session_id=session, moved=False)
    assert first.success and first.trials == 1, first.message
    assert math.isfinite(first.loss_before) and math.isfinite(first.loss_after)
    assert first.loss_after != first.loss_before  # the steps moved the vision adapter
    assert session in first.message and str(out) in first.message
    second = adapt.call(session_id=session, moved=True)
    assert second.success and second.trials == 2, second.message
    assert math.isfinite(second.loss_before) and math.isfinite(second.loss_after)
    assert (out / ADAPTED_FILE).is_file()
    trials = json.loads((out / STATE_FILE).read_text())["trials"]
    assert [t["success"] for t in trials] == [False, True]
    assert _digest(tiny_model) == model_files  # the model folder is never written

    # the adapted model plans the same image
    again, _ = planner.call(mode=PlanGrasp.Request.MODE_CONTACT, **frame)
    assert again.success and again.session_id != session, again.message

    reset = adapt.reset()
    assert reset.success and "after 2 trial(s)" in reset.message, reset.message
    restored = adapt.call(session_id=session, moved=False)
    assert restored.success and restored.trials == 1, restored.message
    # the model's own adapter is back: the first trial's loss again
    assert restored.loss_before == pytest.approx(first.loss_before, rel=1e-5)

    unknown = adapt.call(session_id="s99", moved=True)
    assert not unknown.success and unknown.message.startswith("session_id: 's99'"), unknown.message
    assert unknown.trials == 1  # nothing adapted
    assert proc.running()
    median = sorted(adapt.seconds)[len(adapt.seconds) // 2]
    print(f"~/adapt round trip on the tiny model (2 steps): median {median:.2f} s")


def test_tta_needs_the_contact_task_and_keeps_its_weights_out_of_the_model(
    tiny_model, start_node, ros_node, spin_until
):
    with pytest.raises(pytest.fail.Exception) as info:  # a grasp planner has no contact model
        start_node("grasp_planner", *EXTRINSIC, "-p", f"model:={tiny_model}", "-p", "tta:=true")
    assert "parameter tta=True needs task:=contact" in str(info.value)
    assert "exit status 2" in str(info.value)
    # the adapter refuses a folder inside the model's: the load fails, saying so
    start_node(
        "grasp_planner",
        *EXTRINSIC,
        *("-p", f"model:={tiny_model}", "-p", "task:=contact", "-p", "tta:=true"),
        *("-p", f"tta_dir:={tiny_model / 'tta'}"),
    )
    planner = Planner(ros_node, spin_until)
    _, _, message = planner.wait_status(PlannerStatus.FAILED)
    assert "inside the base checkpoint" in message, message
    refused = Adaptation(ros_node, spin_until).call(session_id="s1", moved=True)
    assert not refused.success and "inside the base checkpoint" in refused.message
    assert not (tiny_model / "tta").exists()
