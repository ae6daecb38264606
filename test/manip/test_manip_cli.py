from __future__ import annotations

import json

import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.manip import evaluate as evaluation
from rt_grasp_ros.manip.collect import parse_shard, shard_seeds


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def fake_trial(job, config):
    category, seed = job
    delta = {"drawer": 0.15, "door": 0.05}.get(category, 0.0)
    record = {"category": category, "seed": seed, "delta": delta}
    failure = None if delta else evaluation.OFF_PART
    return evaluation._done(record, failure, "", 0.0)


def test_evaluate_prints_the_table_1_layout_and_json(capsys, monkeypatch):
    monkeypatch.setattr(evaluation, "evaluate_trial", fake_trial)
    code, text, _ = run(
        capsys, "manip", "evaluate", "--categories", "drawer", "door", "dishwasher", "--trials", 2
    )
    assert code == 0
    assert "train categories: oracle contacts, AIA" in text and "test categories" in text
    assert "off the movable part (2)" in text
    code, text, _ = run(
        capsys, "manip", "evaluate", "--policy", "random", "--categories", "train", "--json"
    )
    summary = json.loads(text)
    assert summary["policy"] == "random" and summary["pull"] == "aia"
    drawer = summary["categories"]["drawer"]
    assert drawer == {"initial": 1.0, "long": 1.0, "trials": 10, "split": "train"}
    assert summary["categories"]["door"]["long"] == 0.0
    assert summary["test"] is None
    n = len(summary["categories"])
    assert summary["train"]["initial"] == pytest.approx(round(2 / n, 4))
    assert summary["failures"] == {"off the movable part": 10 * (n - 2)}


def test_a_missing_model_checkpoint_is_refused_with_a_clear_message(capsys, tmp_path):
    pytest.importorskip("transformers")
    code, _, err = run(capsys, "manip", "evaluate", "--policy", tmp_path / "manipllm.ckpt")
    assert code == 2
    assert "cannot load the ManipLLM model" in err and "oracle, affordance, random" in err


def test_shards_split_the_seed_range(capsys, tmp_path):
    assert parse_shard("2/5") == (2, 5)
    blocks = [shard_seeds(100, 23, (i, 4)) for i in range(4)]
    assert [s for b in blocks for s in b] == list(range(100, 123))
    code, _, err = run(capsys, "manip", "collect", "--out", tmp_path, "--shard", "3/2")
    assert code == 2 and "0 <= i < N" in err
    code, _, err = run(capsys, "manip", "collect", "--out", tmp_path, "--shard", "x")
    assert code == 2 and "i/N" in err
    code, _, err = run(capsys, "manip", "collect", "--out", tmp_path, "--categories", "sofa")
    assert code == 2 and "unknown" in err


def test_collect_takes_the_tool(capsys, tmp_path):
    code, text, _ = run(
        capsys, "manip", "collect", "--out", tmp_path, "--n", 1, "--seed", 2, "--json"
    )
    assert code == 0
    manifest = json.loads(text)
    assert manifest["config"]["tool"] == "flying" and manifest["successes"] == 1
    with pytest.raises(SystemExit):
        main(["manip", "collect", "--out", str(tmp_path), "--tool", "crane"])
    assert "invalid choice: 'crane'" in capsys.readouterr().err
