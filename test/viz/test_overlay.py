from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.grasp.rectangle import corners_from_params
from rt_grasp_ros.viz.overlay import GROUND_TRUTH_RGB, PREDICTION_RGB, draw_grasps, tile


def test_draws_colours_at_the_jaws_and_leaves_input_untouched():
    image = np.full((100, 200, 3), 255, np.uint8)
    gt = corners_from_params(50, 50, 0.0, 40, 20)[None]
    pred = corners_from_params(150, 50, 0.0, 40, 20)[None]
    out = draw_grasps(image, gt, pred, caption="x")
    assert (image == 255).all()
    # jaw edge of the ground truth is at x = 30 (vertical line), of the prediction at x = 130
    assert tuple(out[55, 30]) == GROUND_TRUTH_RGB
    assert tuple(out[55, 130]) == PREDICTION_RGB


def test_tile_lays_out_a_grid():
    a = np.zeros((10, 20, 3), np.uint8)
    grid = tile([a, a, a, a, a], columns=2)
    assert grid.shape == (30, 40, 3)
    assert (grid[20:, 20:] == 255).all()  # empty cell stays white
    with pytest.raises(ValueError, match="at least one image"):
        tile([])
