"""Deterministic k-fold cross-validation splits, image-wise or object-wise."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

from rt_grasp_ros.data.sample import GraspSample
from rt_grasp_ros.errors import DatasetError

log = logging.getLogger(__name__)


class SplitKind(str, Enum):
    """Image-wise folds put each image in one test fold; object-wise folds each object."""

    IMAGE = "image"
    OBJECT = "object"


@dataclass(frozen=True)
class Fold:
    """One fold: sample ids to train on and to test on."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]


def kfold_split(
    samples: list[GraspSample], k: int, kind: SplitKind | str, seed: int
) -> list[Fold]:
    """Split samples into ``k`` folds; ``k == 1`` puts every sample in the training set.

    Object-wise folds keep all images of one object on the same side. Groups are shuffled
    with ``seed`` and dealt largest-first to the fold with the fewest images, so folds are
    balanced and the result depends only on the ids and the seed.
    """
    kind = SplitKind(kind)
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        raise DatasetError("sample ids must be unique to split a dataset")
    if k < 1:
        raise DatasetError(f"--folds must be at least 1, got {k}")
    if k == 1:
        return [Fold(0, tuple(sorted(ids)), ())]
    groups = _groups(samples, kind)
    if k > len(groups):
        raise DatasetError(
            f"cannot make {k} {kind.value}-wise folds from {len(groups)} {kind.value}(s)"
        )
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    names.sort(key=lambda g: -len(groups[g]))  # stable: ties keep the shuffled order
    members: list[list[str]] = [[] for _ in range(k)]
    for name in names:
        smallest = min(range(k), key=lambda f: (len(members[f]), f))
        members[smallest].extend(groups[name])
    folds = []
    for f in range(k):
        test = set(members[f])
        folds.append(Fold(f, tuple(sorted(set(ids) - test)), tuple(sorted(test))))
    return folds


def _groups(samples: list[GraspSample], kind: SplitKind) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    unknown = 0
    for s in samples:
        if kind is SplitKind.IMAGE:
            key = s.id
        elif s.object_id is None:
            unknown += 1
            key = f"image:{s.id}"
        else:
            key = f"object:{s.object_id}"
        groups[key].append(s.id)
    if unknown:
        log.warning(
            "%d image(s) have no object id; each is its own object in object-wise folds "
            "(give an objects.csv to group them)",
            unknown,
        )
    return groups
