"""The contact picture: a policy's contacts drawn on the scenes it was asked about."""

from __future__ import annotations

import cv2
import pytest

pytest.importorskip("mujoco")

from rt_grasp_ros.cli.main import main
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.contact_picture import render_contacts


@pytest.mark.slow
def test_the_oracle_contacts_are_drawn_green_on_each_scene(tmp_path):
    out = main(
        [
            "manip",
            "render",
            "--out",
            str(tmp_path / "c.png"),
            "--policy",
            "oracle",
            "--categories",
            "drawer",
            "door",
            "--seed",
            "3000000",
            "--size",
            "160",
        ]
    )
    assert out == 0
    image = cv2.cvtColor(cv2.imread(str(tmp_path / "c.png")), cv2.COLOR_BGR2RGB)
    assert image.shape[:2] == (160, 320)
    for tile in (image[:, :160], image[:, 160:]):  # the oracle's pixel is on the moving part
        green = (tile[..., 1] > 120) & (tile[..., 0] < 90) & (tile[..., 2] < 90)
        assert green.sum() >= 8


def test_an_unknown_category_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="teapot"):
        render_contacts(tmp_path / "c.png", "oracle", ("teapot",), 0)
