"""``rt-grasp manip evaluate --policy CHECKPOINT``: a model's chain of thought on a sim scene."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("torch")
pytest.importorskip("transformers")

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.errors import RtGraspError
from rt_grasp_ros.manip.policies import make_policy
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.sim.world import World


@pytest.fixture(scope="module")
def checkpoint(tiny_manip_llava):
    return tiny_manip_llava


@pytest.mark.slow
def test_the_model_policy_answers_a_contact_placed_in_3d(checkpoint):
    with World(manip_scene(1_000_000, "drawer")) as world:
        frame = world.render(segmentation=True)
        for cot in (True, False):
            policy = make_policy(str(checkpoint), cot)(world, np.random.default_rng(0))
            contact = policy(frame, load_task_formats().pose.questions[0])
            h, w = frame.depth.shape
            assert 0 <= contact.x <= w and 0 <= contact.y <= h
            row, col = min(int(contact.y), h - 1), min(int(contact.x), w - 1)
            if not np.isfinite(frame.depth[row, col]):  # an untrained model's pixel: no surface
                with pytest.raises(RtGraspError, match="no depth"):
                    contact.tcp_pose(frame)
                continue
            tcp = contact.tcp_pose(frame)  # the pixel's depth, back-projected
            np.testing.assert_allclose(tcp.position, frame.point_at(contact.x, contact.y))
            np.testing.assert_allclose(tcp.rotation_matrix[:, 2], contact.up_base(frame.camera))


@pytest.mark.slow
@pytest.mark.parametrize("flag", [[], ["--no-cot"]])
def test_manip_evaluate_runs_a_model_checkpoint(checkpoint, capsys, flag):
    args = ["manip", "evaluate", "--policy", str(checkpoint), "--categories", "drawer"]
    code = main([*args, "--trials", "1", "--json", "--details", *flag])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["cot"] is not bool(flag)
    (trial,) = out["trials"]
    assert trial["failure"] != "no prediction", trial["detail"]  # the model answered a contact
    assert len(trial["pixel"]) == 2
