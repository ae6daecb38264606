from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.data.records import open_built_dataset


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def build_ok(capsys, *args) -> bool:
    """``dataset build`` with ``args``: whether it succeeded and said what it wrote."""
    code, text, err = run(capsys, "dataset", "build", *args)
    return code == 0 and "source images ->" in text and not err


def oracle_predictions(path, records, spoil=()):
    with path.open("w") as f:
        for r in records:
            text = "no idea" if r["id"] in spoil else r["conversations"][1]["value"]
            f.write(json.dumps({"id": r["id"], "text": text}) + "\n")


def test_build_then_stats(cornell_dir, tmp_path, capsys):
    out = tmp_path / "built"
    code, text, _ = run(
        capsys,
        "dataset",
        "build",
        "--cornell",
        cornell_dir,
        "--out",
        out,
        "--augment",
        2,
        "--folds",
        5,
        "--split",
        "object",
        "--no-progress",
    )
    assert code == 0 and "10 source images -> 30 samples" in text
    code, text, _ = run(capsys, "dataset", "stats", out, "--json")
    stats = json.loads(text)
    assert stats["split"] == "object" and stats["folds"] == 5 and stats["samples"] == 30


def test_evaluate_cornell_by_image_stem(cornell_dir, tmp_path, capsys):
    out = tmp_path / "built"
    assert build_ok(
        capsys,
        "--cornell",
        cornell_dir,
        "--out",
        out,
        "--folds",
        1,
        "--no-progress",
    )
    records = open_built_dataset(out).records(0, "train")
    preds = tmp_path / "p.jsonl"
    oracle_predictions(preds, records[:-1], spoil={"pcd0101"})  # last image has no answer
    code, text, _ = run(
        capsys, "evaluate", "--cornell", cornell_dir, "--predictions", preds, "--json"
    )
    report = json.loads(text)
    assert code == 0
    assert (report["total"], report["correct"], report["parse_failures"], report["missing"]) == (
        10,
        8,
        1,
        1,
    )
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["per_category"]["pen"]["total"] == 10


def test_evaluate_folds_prints_table_one(cornell_dir, tmp_path, capsys):
    iw, ow = tmp_path / "iw", tmp_path / "ow"
    for out, split in ((iw, "image"), (ow, "object")):
        assert build_ok(
            capsys,
            "--cornell",
            cornell_dir,
            "--out",
            out,
            "--split",
            split,
            "--no-progress",
        )
    preds = []
    for out in (iw, ow):
        ds = open_built_dataset(out)
        p = out / "pred.jsonl"
        oracle_predictions(
            p, [r for k in range(5) for r in ds.records(k, "test")], spoil={"pcd0100"}
        )
        preds.append(p)
    code, text, _ = run(
        capsys,
        "evaluate",
        "--dataset",
        iw,
        "--predictions",
        preds[0],
        "--dataset",
        ow,
        "--predictions",
        preds[1],
    )
    assert code == 0
    assert "Image-wise (IW)" in text and "Object-wise (OW)" in text and "Ours (RT-Grasp)" in text
    assert "90.00±20.00" in text  # one fold at 50 %, four at 100 %
    code, text, _ = run(
        capsys, "evaluate", "--dataset", iw, "--predictions", preds[0], "--json", "--fold", 0
    )
    report = json.loads(text)
    assert report["total"] == 2 and [f["fold"] for f in report["folds"]] == [0]


def test_bad_input_gives_one_line_error(cornell_dir, tmp_path, capsys):
    code, _, err = run(
        capsys, "evaluate", "--cornell", cornell_dir, "--predictions", tmp_path / "none.jsonl"
    )
    assert code == 2 and "none.jsonl" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "dataset",
        "build",
        "--cornell",
        cornell_dir,
        "--out",
        tmp_path / "o",
        "--folds",
        20,
        "--split",
        "object",
        "--no-progress",
    )
    assert code == 2 and "cannot make 20 object-wise folds" in err
    code, _, err = run(
        capsys,
        "dataset",
        "build",
        "--cornell",
        cornell_dir,
        "--out",
        tmp_path / "o",
        "--zoom",
        2,
        1,
        "--no-progress",
    )
    assert code == 2 and "min_zoom" in err


def test_show_draws_ground_truth_and_prediction(cornell_dir, tmp_path, capsys):
    out = tmp_path / "built"
    assert build_ok(
        capsys,
        "--cornell",
        cornell_dir,
        "--out",
        out,
        "--folds",
        1,
        "--no-progress",
    )
    preds = tmp_path / "p.jsonl"
    oracle_predictions(preds, open_built_dataset(out).records(0, "train"))
    png = tmp_path / "show.png"
    code, _, _ = run(
        capsys,
        "show",
        "--cornell",
        cornell_dir,
        "--id",
        "pcd0100",
        "--id",
        "pcd0101",
        "--predictions",
        preds,
        "--out",
        png,
    )
    assert code == 0
    image = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB).astype(int)
    assert image.shape == (480, 1280, 3)
    red = (image[..., 0] > 200) & (image[..., 1] < 80) & (image[..., 2] < 80)
    green = (image[..., 1] > 150) & (image[..., 0] < 90) & (image[..., 2] < 100)
    assert red.sum() > 100 and green.sum() > 100


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "rt-grasp"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("rt-grasp ")
