"""Per-fold training and evaluation, and {fold} model paths, without the command line."""

from __future__ import annotations

import json

import pytest
from synthetic import write_cornell_folder

from rt_grasp_ros.data.build import BuildConfig, build_dataset
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.records import open_built_dataset
from rt_grasp_ros.errors import ConfigError, DatasetError, RtGraspError
from rt_grasp_ros.eval.sources import from_built
from rt_grasp_ros.vlm import train as train_module
from rt_grasp_ros.vlm.config import load_train_config
from rt_grasp_ros.vlm.evaluate import evaluate_models, model_for_fold, models_per_set
from rt_grasp_ros.vlm.predictor import parse_prediction
from rt_grasp_ros.vlm.train import plan_folds, train_folds

# One worker runs this module, so its module fixture is built once under pytest-xdist.
pytestmark = pytest.mark.xdist_group("folds")


@pytest.fixture(scope="module")
def two_folds(tmp_path_factory):
    root = tmp_path_factory.mktemp("two_folds")
    write_cornell_folder(root / "cornell", n_images=6)
    build_dataset(
        load_cornell(root / "cornell"),
        root / "built",
        BuildConfig(folds=2),
        {"kind": "cornell", "root": str(root / "cornell")},
        progress=False,
    )
    return open_built_dataset(root / "built")


def test_plan_folds_picks_the_fold_and_the_output(tmp_path):
    config = load_train_config("tiny", ["data.fold=1"])
    (default,) = plan_folds(config, 3, tmp_path)
    assert (default.fold, default.config.data.fold, default.output) == (1, 1, tmp_path)
    (given,) = plan_folds(config, 3, tmp_path, "2")
    assert (given.fold, given.config.data.fold, given.output) == (2, 2, tmp_path)
    every = plan_folds(config, 3, tmp_path, "all")
    assert [(r.fold, r.config.data.fold, r.output) for r in every] == [
        (k, k, tmp_path / f"fold_{k}") for k in range(3)
    ]
    assert every[0].config.optim == config.optim  # only the fold changes


@pytest.mark.parametrize(
    ("fold", "error", "message"),
    [
        ("two", ConfigError, "fold must be a number or 'all', got 'two'"),
        (3, DatasetError, "fold 3"),
    ],
)
def test_plan_folds_rejects_bad_folds(tmp_path, fold, error, message):
    with pytest.raises(error, match=message):
        plan_folds(load_train_config("tiny"), 3, tmp_path, fold)


def test_train_folds_trains_every_fold_in_turn(two_folds, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        train_module,
        "train",
        lambda config, data, output, **kw: calls.append((config.data.fold, output)) or output,
    )
    results = list(train_folds(load_train_config("tiny"), two_folds.root, tmp_path, "all"))
    assert calls == [(0, tmp_path / "fold_0"), (1, tmp_path / "fold_1")]
    assert [(run.fold, result) for run, result in results] == [
        (0, tmp_path / "fold_0"),
        (1, tmp_path / "fold_1"),
    ]


def test_fold_templates_resolve_or_say_why_not():
    assert model_for_fold("runs/lora/fold_{fold}", 3) == "runs/lora/fold_3"
    assert model_for_fold("runs/lora/fold_0", None) == "runs/lora/fold_0"
    assert model_for_fold("runs/lora/fold_0", 2) == "runs/lora/fold_0"
    with pytest.raises(RtGraspError, match=r"'runs/lora/fold_\{fold\}' has \{fold\}.*no folds"):
        model_for_fold("runs/lora/fold_{fold}", None)
    assert models_per_set(["m"], 3) == ["m", "m", "m"]
    with pytest.raises(RtGraspError, match="got 2 for 3"):
        models_per_set(["a", "b"], 3)


class FakePredictor:
    """Answers the same pose for every image and remembers how many images it saw."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.images = 0

    def predict_batch(self, images, instructions, constrained=False):
        self.images += len(images)
        return [parse_prediction("[0.500, 0.500], 0.000", 10, 5, {}) for _ in images]


def test_each_fold_is_predicted_by_its_own_model_loaded_once(two_folds, tmp_path):
    loaded: dict[str, FakePredictor] = {}

    def load(model: str) -> FakePredictor:
        assert model not in loaded, f"{model} loaded twice"
        loaded[model] = FakePredictor(model)
        return loaded[model]

    sets = [from_built(two_folds), from_built(two_folds, [1])]
    runs = evaluate_models(["ckpt/fold_{fold}"], sets, load, tmp_path, progress=False)
    assert sorted(loaded) == ["ckpt/fold_0", "ckpt/fold_1"]
    tests = [len(two_folds.records(k, "test")) for k in (0, 1)]
    assert loaded["ckpt/fold_0"].images == tests[0]
    assert loaded["ckpt/fold_1"].images == 2 * tests[1]  # fold 1 is in both sets
    first, second = runs
    assert [f.fold for f in first.report.folds] == [0, 1] and first.report.total == sum(tests)
    assert [f.fold for f in second.report.folds] == [1]
    # Two sets of one dataset: two prediction files, neither overwrites the other.
    assert first.predictions_file != second.predictions_file
    for run in runs:
        lines = run.predictions_file.read_text().splitlines()
        assert run.predictions_file.parent == tmp_path
        assert [json.loads(line)["id"] for line in lines] == [r.id for r in run.report.results]
