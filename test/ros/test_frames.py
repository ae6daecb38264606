"""The camera extrinsic from one place: the stack's argument or the sim camera, or TF.

The sim's static camera transform and the camera_extrinsic parameter the stack passes to the
camera and grasp_planner nodes are the same numbers between the same frames.
"""

import math

import pytest

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.ros import stack
from rt_grasp_ros.ros.frames import (
    MISSING,
    camera_transform_fields,
    extrinsic_numbers,
    parse_extrinsic,
    tf2_available,
)

SIM = {"sim": "true", "model": "default"}
REAL = {"sim": "false", "model": "default"}
CALIBRATED = "0.4 0.1 0.8 1.0 0.0 0.0 0.0"


def node_params(arguments):
    return {spec.name: spec.parameters for spec in stack.nodes(arguments)}


def yaml_params(name):
    import yaml

    path = stack.config_dir() / f"{name}.yaml"
    return yaml.safe_load(path.read_text())[name]["ros__parameters"]


@pytest.mark.parametrize("value", ["", [], None, "  "])
def test_an_empty_extrinsic_means_tf(value):
    assert parse_extrinsic(value) is None


@pytest.mark.parametrize(
    "value", [CALIBRATED, "[0.4, 0.1, 0.8, 1.0, 0.0, 0.0, 0.0]", [0.4, 0.1, 0.8, 1, 0, 0, 0]]
)
def test_seven_numbers_as_a_string_or_a_list(value):
    assert extrinsic_numbers(parse_extrinsic(value)) == pytest.approx(
        [0.4, 0.1, 0.8, 1.0, 0.0, 0.0, 0.0]
    )


@pytest.mark.parametrize(
    "value", ["1 2 3", "a b c d e f g", "0 0 0 0 0 0 0", [0.0] * 6 + [math.nan], [1.0] * 8]
)
def test_a_bad_extrinsic_names_the_parameter_and_what_was_expected(value):
    with pytest.raises(ConfigError, match="camera_extrinsic"):
        parse_extrinsic(value)


def test_the_sim_tf_and_the_parameter_the_stack_passes_agree():
    pytest.importorskip("mujoco")
    from rt_grasp_ros.sim.embedded import EmbeddedRobot, SceneRequest

    robot = EmbeddedRobot(SceneRequest(seed=0))
    try:
        fields = camera_transform_fields(
            yaml_params("sim")["base_frame"], robot.camera_frame(), robot.camera_pose()
        )
        frame = robot.render()
    finally:
        robot.close()
    params = node_params(SIM)
    numbers = [*fields.translation, *fields.rotation]
    for node in ("camera", "grasp_planner"):
        assert params[node]["camera_extrinsic"] == pytest.approx(numbers, abs=1e-9), node
    assert "camera_extrinsic" not in params["sim"]
    # the same frames: the planner's base frame, and the frame of the sim's images
    assert fields.frame_id == yaml_params("grasp_planner")["base_frame"] == "panda_link0"
    assert fields.child_frame_id == frame.camera.frame_id == "camera_color_optical_frame"


def test_the_extrinsic_is_set_once_for_the_stack_not_in_the_node_files():
    for name in ("camera", "grasp_planner"):
        assert "camera_extrinsic" not in yaml_params(name), name


def test_with_sim_the_argument_must_be_the_sim_camera():
    sim = stack.sim_camera_extrinsic()
    same = " ".join(str(v) for v in [*sim[:3], *(-q for q in sim[3:])])  # -q: the same rotation
    assert node_params({**SIM, "camera_extrinsic": same})["camera"]["camera_extrinsic"] == sim
    with pytest.raises(ConfigError, match="differs from the sim camera's pose"):
        stack.nodes({**SIM, "camera_extrinsic": CALIBRATED})


def test_without_sim_the_argument_goes_to_every_node_that_needs_it():
    params = node_params({**REAL, "camera_extrinsic": CALIBRATED})
    for node in ("camera", "grasp_planner"):
        assert params[node]["camera_extrinsic"] == pytest.approx([0.4, 0.1, 0.8, 1, 0, 0, 0])
    assert "sim" not in params


def test_without_sim_or_argument_tf_or_a_refusal_that_says_what_to_set():
    if tf2_available():
        params = node_params(REAL)
        assert all("camera_extrinsic" not in p for p in params.values())  # from TF
        return
    with pytest.raises(ConfigError) as info:
        stack.nodes(REAL)
    assert "set camera_extrinsic:='x y z qx qy qz qw'" in str(info.value)
    assert MISSING in str(info.value)


def test_a_bad_argument_names_itself():
    with pytest.raises(ConfigError, match="argument camera_extrinsic"):
        stack.resolve({"camera_extrinsic": "1 2 3"})
    with pytest.raises(ConfigError, match="argument seed:=x must be an integer"):
        stack.resolve({"seed": "x"})


def test_rt_grasp_ros_up_refuses_a_real_robot_without_an_extrinsic(capsys):
    if tf2_available():
        pytest.skip("tf2_ros is installed: the nodes take the extrinsic from TF")
    from rt_grasp_ros.cli.main import main

    assert main(["ros", "up", "sim:=false", "--print"]) == 2
    assert "camera_extrinsic" in capsys.readouterr().err


# -- the nodes' side: CameraExtrinsic with rclpy --------------------------------------------


@pytest.fixture
def make_node(ros_node):
    from rclpy.parameter import Parameter

    made = []

    def make(**params):
        import rclpy

        node = rclpy.create_node(
            f"frames_{len(made)}",
            parameter_overrides=[Parameter(k, value=v) for k, v in params.items()],
        )
        made.append(node)
        return node

    yield make
    for node in made:
        node.destroy_node()


@pytest.mark.ros
@pytest.mark.parametrize("value", [CALIBRATED, [0.4, 0.1, 0.8, 1.0, 0.0, 0.0, 0.0]])
def test_camera_extrinsic_from_the_parameter(make_node, value):
    pytest.importorskip("rclpy")
    from rt_grasp_ros.ros.frames import CameraExtrinsic

    extrinsic = CameraExtrinsic(make_node(camera_extrinsic=value), "panda_link0")
    assert extrinsic.source == "parameter"
    pose = extrinsic.base_from_camera("camera_color_optical_frame", None, timeout=0.1)
    assert extrinsic_numbers(pose) == pytest.approx([0.4, 0.1, 0.8, 1.0, 0.0, 0.0, 0.0])


@pytest.mark.ros
def test_camera_extrinsic_without_parameter_or_tf2_refuses_to_start(make_node):
    pytest.importorskip("rclpy")
    from rt_grasp_ros.ros.frames import CameraExtrinsic

    if tf2_available():
        assert CameraExtrinsic(make_node(), "panda_link0").source == "tf"
        return
    with pytest.raises(ConfigError) as info:
        CameraExtrinsic(make_node(), "panda_link0")
    assert "camera_extrinsic is empty and tf2_ros is not installed" in str(info.value)
    with pytest.raises(ConfigError, match="camera_extrinsic must be 7 numbers"):
        CameraExtrinsic(make_node(camera_extrinsic="1 2 3"), "panda_link0")


@pytest.mark.ros
def test_transform_msg_carries_the_fields():
    pytest.importorskip("geometry_msgs")
    from rt_grasp_ros.ros.frames import transform_msg
    from rt_grasp_ros.transforms import Pose

    pose = Pose.from_position_quat([0.5, 0.0, 0.75], [0.7071068, -0.7071068, 0.0, 0.0])
    t = transform_msg(camera_transform_fields("panda_link0", "cam", pose))
    assert (t.header.frame_id, t.child_frame_id) == ("panda_link0", "cam")
    assert [t.transform.translation.x, t.transform.translation.z] == pytest.approx([0.5, 0.75])
    q = t.transform.rotation
    assert [q.x, q.y, q.z, q.w] == pytest.approx(extrinsic_numbers(pose)[3:])
