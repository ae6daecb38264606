from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("peft")

from synthetic import write_cornell_folder

from rt_grasp_ros.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
FAST = [
    "--set",
    "optim.max_steps=2",
    "--set",
    "eval.every_steps=0",
    "--set",
    "eval.samples=2",
    "--no-progress",
]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# One worker runs this module, so its module fixture is built once under pytest-xdist.
pytestmark = pytest.mark.xdist_group("cli_model")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A two-fold dataset and a tiny checkpoint per fold (two steps each)."""
    root = tmp_path_factory.mktemp("cli_model")
    write_cornell_folder(root / "cornell", n_images=6)
    assert (
        main(
            [
                "dataset",
                "build",
                "--cornell",
                str(root / "cornell"),
                "--out",
                str(root / "built"),
                "--folds",
                "2",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "--config",
                "tiny",
                "--data",
                str(root / "built"),
                "--output",
                str(root / "ckpt"),
                "--fold",
                "all",
                *FAST,
            ]
        )
        == 0
    )
    return root


def test_train_all_folds_writes_one_checkpoint_per_fold(trained):
    for fold in (0, 1):
        meta = json.loads(
            (trained / "ckpt" / f"fold_{fold}" / "rt_grasp_checkpoint.json").read_text()
        )
        assert (
            meta["dataset"]["fold"] == fold and meta["steps"] == 2 and meta["base_model"] == "base"
        )


def test_evaluate_runs_each_fold_model_and_writes_rescorable_predictions(
    trained, capsys, tmp_path
):
    code, out, _ = run(
        capsys,
        "evaluate",
        "--dataset",
        trained / "built",
        "--model",
        trained / "ckpt" / "fold_{fold}",
        "--json",
        "--save-predictions",
        tmp_path / "pred",
        "--constrained",
    )
    assert code == 0
    report = json.loads(out)
    assert report["total"] == 6 and [f["fold"] for f in report["folds"]] == [0, 1]
    assert report["parse_failures"] == 0  # constrained decoding
    files = list((tmp_path / "pred").glob("*.jsonl"))
    assert len(files) == 1
    code, out, _ = run(
        capsys, "evaluate", "--dataset", trained / "built", "--predictions", files[0], "--json"
    )
    rescored = json.loads(out)
    assert (rescored["correct"], rescored["total"]) == (report["correct"], report["total"])


def test_predict_prints_reasoning_pose_and_follow_ups(trained, capsys, tmp_path):
    image = trained / "cornell" / "pcd0100r.png"
    code, out, _ = run(
        capsys,
        "predict",
        "--model",
        trained / "ckpt" / "fold_0",
        "--image",
        image,
        "--constrained",
        "--follow-up",
        "Rotate the gripper by 90 degrees.",
        "--json",
        "--overlay",
        tmp_path / "o.png",
    )
    data = json.loads(out)
    assert code == 0 and len(data["turns"]) == 2
    assert data["turns"][1]["instruction"] == "Rotate the gripper by 90 degrees."
    assert all(t["pose"] is not None and t["timings"]["total"] > 0 for t in data["turns"])
    assert (tmp_path / "o.png").exists()


def test_model_errors_are_one_line(capsys, tmp_path, trained):
    code, _, err = run(
        capsys, "evaluate", "--cornell", trained / "cornell", "--model", tmp_path / "nope"
    )
    assert code == 2 and "cannot load model" in err
    code, _, err = run(
        capsys,
        "train",
        "--config",
        "tiny",
        "--data",
        trained / "built",
        "--output",
        tmp_path / "x",
        "--set",
        "optim.lr=1",
    )
    assert code == 2 and "optim.lr: unknown key" in err
    code, _, err = run(capsys, "evaluate", "--cornell", trained / "cornell")
    assert code == 2 and "--predictions" in err
