from __future__ import annotations

import numpy as np
import pytest

from rt_grasp_ros.data.augment import (
    Augmentation,
    AugmentationConfig,
    augment_sample,
    augmentation_rng,
    sample_augmentation,
)
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.splits import kfold_split
from rt_grasp_ros.errors import ConfigError, DatasetError


def test_augmentation_is_deterministic_per_seed_sample_and_index(cornell_dir):
    sample = load_cornell(cornell_dir)[0]
    cfg = AugmentationConfig(flip=True)
    a = sample_augmentation(augmentation_rng(7, sample.id, 3), sample, cfg)
    b = sample_augmentation(augmentation_rng(7, sample.id, 3), sample, cfg)
    c = sample_augmentation(augmentation_rng(7, sample.id, 4), sample, cfg)
    assert a == b and a != c
    assert Augmentation.from_dict(a.to_dict()) == a


@pytest.mark.parametrize("flip", [False, True])
def test_image_depth_and_rectangles_move_together(cornell_dir, flip):
    samples = load_cornell(cornell_dir)
    cfg = AugmentationConfig(flip=flip)
    for sample in samples[:4]:
        original = sample.load_image()
        bar_colour = original[tuple(np.round(sample.rectangles[1].center[::-1]).astype(int))]
        for k in range(3):
            aug = sample_augmentation(augmentation_rng(0, sample.id, k), sample, cfg)
            rgb, depth, rects = augment_sample(sample, aug, with_depth=True)
            assert rgb.shape == original.shape and depth.shape == original.shape[:2]
            assert rects, "at least one grasp stays inside the image"
            for rect in rects:
                x, y = np.round(rect.center).astype(int)
                # every grasp centre still lies on the bar, in colour and in depth
                assert np.abs(rgb[y, x].astype(int) - bar_colour.astype(int)).max() < 20
                assert depth[y, x] < 0.69


def test_flip_mirrors_the_grasp_angle(cornell_dir):
    sample = load_cornell(cornell_dir)[0]
    aug = Augmentation(flip=True, pivot=(0.0, 0.0))
    _, _, rects = augment_sample(sample, aug)
    assert [r.theta for r in rects] == pytest.approx([-r.theta for r in sample.rectangles])


def test_augmentation_config_is_validated():
    with pytest.raises(ConfigError, match="min_zoom"):
        AugmentationConfig(min_zoom=1.5, max_zoom=1.0)
    with pytest.raises(ConfigError, match="max_rotation_deg"):
        AugmentationConfig(max_rotation_deg=270)


def test_object_wise_folds_never_share_an_object(cornell_dir):
    samples = load_cornell(cornell_dir)  # 10 images of 5 objects
    folds = kfold_split(samples, 5, "object", seed=3)
    obj = {s.id: s.object_id for s in samples}
    tested = []
    for fold in folds:
        assert not {obj[i] for i in fold.train} & {obj[i] for i in fold.test}
        tested += fold.test
    assert sorted(tested) == sorted(obj)  # every image is tested exactly once


def test_image_wise_folds_are_deterministic_and_balanced(cornell_dir):
    samples = load_cornell(cornell_dir)
    a = kfold_split(samples, 3, "image", seed=1)
    assert a == kfold_split(samples, 3, "image", seed=1)
    assert a != kfold_split(samples, 3, "image", seed=2)
    sizes = sorted(len(f.test) for f in a)
    assert sizes == [3, 3, 4]
    assert kfold_split(samples, 1, "image", 0)[0].test == ()


def test_too_many_folds_is_an_error(cornell_dir):
    samples = load_cornell(cornell_dir)
    with pytest.raises(DatasetError, match="cannot make 6 object-wise folds from 5"):
        kfold_split(samples, 6, "object", 0)
