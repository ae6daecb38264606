"""Test-time adaptation: one trial's outcome moves the vision LoRA, and nothing else."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")

import torch
from manip_synthetic import write_manip_collection

from rt_grasp_ros.data.images import read_rgb
from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.dataset import load_samples
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.manip.tta import (
    ADAPTED_FILE,
    STATE_FILE,
    TrialAdapter,
    TrialOutcome,
    TTAConfig,
    affordance_turns,
)
from rt_grasp_ros.vlm.config import LoraConfig, ModelConfig, OptimConfig, TrainConfig
from rt_grasp_ros.vlm.tiny import TinySpec
from rt_grasp_ros.vlm.train import train


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return write_manip_collection(tmp_path_factory.mktemp("tta") / "collection", 4)


def _checkpoint(collection, out, trainable, family="llava"):
    config = TrainConfig(
        model=ModelConfig(tiny=TinySpec(family=family), dtype="float32", device="cpu"),
        trainable=trainable,
        lora=LoraConfig(r=4, alpha=8, dropout=0.0),
        optim=OptimConfig(
            learning_rate=5e-3, batch_size=4, micro_batch_size=4, max_steps=2, warmup_ratio=0.0
        ),
        logging_steps=1,
        save_steps=100,
    )
    train(config, collection, out, progress=False)
    return out


@pytest.fixture(scope="module", params=["llava", "qwen2_vl"])
def full_checkpoint(collection, tmp_path_factory, request):
    out = tmp_path_factory.mktemp(f"ckpt_full_{request.param}") / "ckpt"
    parts = ("projector", "language_model", "vision_tower")
    return _checkpoint(collection, out, parts, request.param)


def _outcome(collection, success=True):
    meta = load_samples(collection)[0]
    image = read_rgb(collection / meta["image"])
    return TrialOutcome(image, tuple(meta["contact"]["pixel"]), success, meta["category"])


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_question_is_the_affordance_task_about_the_trial_pixel(collection):
    formats = load_task_formats()
    ok, failed = _outcome(collection), _outcome(collection, success=False)
    question, answer = affordance_turns(ok, formats)
    x, y = (round(v) for v in ok.pixel)
    assert question["value"].endswith(f"manipulate the object within the image: ({x}, {y})")
    assert answer["value"] == "yes" and affordance_turns(failed, formats)[1]["value"] == "no"


def test_adapting_moves_only_the_vision_lora_and_never_the_base(
    collection, full_checkpoint, tmp_path
):
    before_files = _digest(full_checkpoint)
    tta = TrialAdapter.from_checkpoint(
        full_checkpoint, tmp_path / "adapted", TTAConfig(steps=3, learning_rate=1e-2)
    )
    family = tta.backbone.family
    assert tta.names and all("lora_" in n and family.is_vision(n) for n in tta.names)
    start = {n: p.detach().clone() for n, p in tta.backbone.model.named_parameters()}
    failed = _outcome(collection, success=False)
    p_yes = tta.yes_probability(failed)
    entry = tta.adapt(failed)
    assert entry["loss_after"] < entry["loss_before"]
    assert tta.yes_probability(failed) < p_yes  # "no" was the outcome: less sure of yes
    now = dict(tta.backbone.model.named_parameters())
    changed = {n for n in start if not torch.equal(start[n], now[n])}
    assert changed and changed <= set(tta.names)  # the vision adapter only
    adapted = {n: now[n].detach().clone() for n in tta.names}

    folder = tta.save()
    assert folder == (tmp_path / "adapted").resolve()
    assert (folder / ADAPTED_FILE).is_file() and (folder / STATE_FILE).is_file()
    assert _digest(full_checkpoint) == before_files  # the base checkpoint is never written

    tta.reset()
    assert all(torch.equal(start[n], p) for n, p in tta.backbone.model.named_parameters())
    assert tta.history == [] and tta.yes_probability(failed) == pytest.approx(p_yes)
    tta.load(folder)
    assert all(
        torch.equal(adapted[n], p) for n, p in zip(tta.names, tta.parameters(), strict=True)
    )


def test_a_checkpoint_with_a_vision_lora_adapts_its_own(collection, tmp_path):
    ckpt = _checkpoint(collection, tmp_path / "ckpt", ("projector", "lm_lora", "vision_lora"))
    tta = TrialAdapter.from_checkpoint(ckpt, tmp_path / "adapted", TTAConfig(steps=2))
    trained = [n for n in tta.names if "lora_B" in n]
    assert trained and any(tta.initial[n].abs().sum() > 0 for n in trained)  # not fresh
    start = {n: p.detach().clone() for n, p in tta.backbone.model.named_parameters()}
    tta.adapt(_outcome(collection))
    now = dict(tta.backbone.model.named_parameters())
    changed = {n for n in start if not torch.equal(start[n], now[n])}
    assert changed and changed <= set(tta.names)
    lm_lora = [n for n in now if "lora_" in n and not tta.backbone.family.is_vision(n)]
    assert lm_lora and not changed & set(lm_lora)


def test_adapted_weights_never_go_into_the_checkpoint(full_checkpoint):
    with pytest.raises(ConfigError, match="inside the base checkpoint"):
        TrialAdapter.from_checkpoint(full_checkpoint, full_checkpoint / "tta")
    with pytest.raises(ConfigError, match=r"TTAConfig\.steps must be at least 1"):
        TTAConfig(steps=0)
    assert np.isfinite(TTAConfig().learning_rate)


@pytest.mark.slow
def test_a_trial_sequence_with_and_without_adaptation_sees_the_same_scenes(
    full_checkpoint, tmp_path
):
    pytest.importorskip("mujoco")
    from rt_grasp_ros.manip.tta_trials import SequenceConfig, run_sequence

    runs = {}
    for adapt in (False, True):
        config = SequenceConfig("drawer", trials=2, adapt=adapt, tta=TTAConfig(steps=1))
        runs[adapt] = run_sequence(full_checkpoint, tmp_path / f"tta_{adapt}", config)
    assert [r["seed"] for r in runs[True]["records"]] == [
        r["seed"] for r in runs[False]["records"]
    ]
    first = runs[True]["records"][0], runs[False]["records"][0]
    # The first trial comes before any adaptation: the same answer with and without it.
    assert first[0].get("pixel") == first[1].get("pixel")
    adapted = [r for r in runs[True]["records"] if "tta" in r]
    assert all("tta" not in r for r in runs[False]["records"])
    assert (tmp_path / "tta_True" / STATE_FILE).is_file()
    assert not (tmp_path / "tta_False").exists()
    assert all(r["tta"]["success"] == r["success"] for r in adapted)
