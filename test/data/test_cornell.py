from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from synthetic import TABLE_DEPTH_M, bar_scene, write_cornell_folder

from rt_grasp_ros.data.cornell import load_cornell, read_cornell_rectangles, write_cornell_sample
from rt_grasp_ros.data.pcd import read_pcd_depth, write_pcd_depth
from rt_grasp_ros.errors import DatasetError


def test_reads_original_corner_lines(tmp_path):
    path = tmp_path / "pcd0100cpos.txt"
    path.write_text("253 319.7\n309 324\n307 350\n251 345.7\n100 100\n120 100\n120 110\n100 110\n")
    rects, warnings = read_cornell_rectangles(path)
    assert warnings == []
    assert len(rects) == 2
    assert rects[1].width == pytest.approx(20) and rects[1].height == pytest.approx(10)
    assert rects[1].theta == pytest.approx(0.0)
    assert rects[0].theta == pytest.approx(-math.atan2(324 - 319.7, 309 - 253))


def test_nan_and_malformed_rectangles_are_skipped_with_file_and_line(tmp_path):
    path = tmp_path / "pcd0101cpos.txt"
    path.write_text(
        "1 1\n11 1\n11 6\n1 6\n"  # ok
        "NaN NaN\n5 5\n6 6\n7 7\n"  # line 5: NaN
        "2 2\n12 2\nabc\n2 7\n"  # line 11: malformed
        "0 0\n0 0\n0 0\n0 0\n"  # line 13: degenerate
        "1 1\n2 2\n"  # line 17: incomplete
    )
    rects, warnings = read_cornell_rectangles(path)
    assert len(rects) == 1
    assert [w.split(":")[1] for w in warnings] == ["5", "11", "13", "17"]
    assert all(str(path) in w for w in warnings)


def test_pcd_depth_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    _, depth, _, _ = bar_scene(rng, size=(64, 48))
    depth[0, :5] = 0  # holes stay holes
    write_pcd_depth(tmp_path / "pcd0100.txt", depth)
    text = (tmp_path / "pcd0100.txt").read_text()
    assert text.startswith("# .PCD v.7") and "FIELDS x y z rgb index" in text
    back = read_pcd_depth(tmp_path / "pcd0100.txt", depth.shape)
    np.testing.assert_allclose(back, depth, atol=1e-4)


def test_pcd_without_data_line_is_rejected(tmp_path):
    (tmp_path / "x.txt").write_text("FIELDS x y z\n1 2 3\n")
    with pytest.raises(DatasetError, match="DATA ascii"):
        read_pcd_depth(tmp_path / "x.txt", (2, 2))


@pytest.mark.parametrize("depth_format", ["tiff", "pcd"])
def test_load_folder_with_subfolders_object_map_and_depth(tmp_path, depth_format):
    root = tmp_path / "c"
    stems = write_cornell_folder(root, n_images=6, subfolders=True, depth_format=depth_format)
    samples = load_cornell(root)
    assert [s.id for s in samples] == stems
    s = samples[0]
    assert s.image_size == (640, 480) and s.category == "pen" and s.object_id == "0"
    assert len(s.rectangles) == 3
    depth = s.load_depth()
    assert depth.shape == (480, 640)
    assert np.median(depth) == pytest.approx(TABLE_DEPTH_M, abs=1e-3)
    assert s.load_image().shape == (480, 640, 3)


def test_one_bad_file_never_stops_the_run(tmp_path, caplog):
    root = tmp_path / "c"
    write_cornell_folder(root, n_images=4)
    (root / "pcd0101cpos.txt").write_text("nan nan\n1 1\n1 1\n1 1\n")
    (root / "pcd0102cpos.txt").unlink()
    (root / "pcd0103r.png").write_bytes(b"not a png")
    with caplog.at_level(logging.WARNING):
        samples = load_cornell(root)
    assert [s.id for s in samples] == ["pcd0100"]
    text = caplog.text
    assert "pcd0101cpos.txt:1" in text and "no valid positive rectangle" in text
    assert "pcd0102" in text and "pcd0103r.png" in text


def test_empty_or_missing_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_cornell(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no Cornell images"):
        load_cornell(tmp_path / "empty")


def test_only_positive_rectangles_are_loaded(tmp_path):
    rng = np.random.default_rng(3)
    rgb, depth, pos, neg = bar_scene(rng)
    write_cornell_sample(tmp_path, "pcd0200", rgb, pos, neg, depth)
    (sample,) = load_cornell(tmp_path)
    assert len(sample.rectangles) == len(pos) and len(neg) > 0
    np.testing.assert_allclose(sample.corners, np.stack([r.corners for r in pos]), atol=0.01)
