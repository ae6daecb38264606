from __future__ import annotations

import math

import pytest

from rt_grasp_ros.data.jacquard import load_jacquard, read_jacquard_grasps
from rt_grasp_ros.data.objects import read_object_map
from rt_grasp_ros.errors import DatasetError


def test_jacquard_grasp_lines_and_angle_sign(tmp_path):
    path = tmp_path / "0_a_grasps.txt"
    path.write_text("512.0;400.5;-30.0;60.0;20.0\nbad line\n1;2;3;0;5\n")
    rects, warnings = read_jacquard_grasps(path)
    assert len(rects) == 1
    assert rects[0].theta == pytest.approx(math.radians(30))  # Jacquard -30 deg = our +30 deg
    assert rects[0].width == pytest.approx(60) and rects[0].center == pytest.approx((512.0, 400.5))
    assert [w.split(":")[1] for w in warnings] == ["2", "3"]


def test_load_jacquard_folder(jacquard_dir):
    samples = load_jacquard(jacquard_dir)
    assert [s.id for s in samples] == ["0_obj0", "1_obj0", "2_obj1", "3_obj1"]
    assert samples[0].object_id == "obj0" and samples[0].image_size == (1024, 1024)
    assert samples[0].load_depth().shape == (1024, 1024)


def test_object_map_errors_name_the_line(tmp_path):
    path = tmp_path / "objects.csv"
    path.write_text("image,object,category\npcd0100,1,mug\npcd0100,2,cup\n")
    with pytest.raises(DatasetError, match=r"objects.csv:3: image 'pcd0100' is listed twice"):
        read_object_map(path)
    path.write_text("img,obj\n")
    with pytest.raises(DatasetError, match="expected the header"):
        read_object_map(path)
    path.write_text("image,object,category\npcd0100,1\n")
    with pytest.raises(DatasetError, match=r"objects\.csv:2: expected 3 columns"):
        read_object_map(path)
    path.write_text("image,object,category\npcd0100,,mug\n")
    assert read_object_map(path)["pcd0100"].object_id is None
