from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from synthetic import write_cornell_folder

from rt_grasp_ros.data.build import BuildConfig, build_dataset
from rt_grasp_ros.data.cornell import load_cornell
from rt_grasp_ros.data.records import open_built_dataset
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """Eight one-grasp images in the Cornell layout, built into a single-fold dataset."""
    root = tmp_path_factory.mktemp("vlm_data")
    write_cornell_folder(root / "cornell", n_images=8, objects_per_image=1, grasps=1)
    samples = load_cornell(root / "cornell")
    build_dataset(
        samples,
        root / "built",
        BuildConfig(folds=1),
        {"kind": "cornell", "root": str(root / "cornell")},
        progress=False,
    )
    return open_built_dataset(root / "built")


def corpus(dataset) -> list[str]:
    lib = load_templates()
    texts = [t for ts in lib.reasoning.values() for t in ts] + list(lib.instructions)
    return texts + [
        turn["value"] for r in dataset.records(0, "train") for turn in r["conversations"]
    ]


@pytest.fixture(scope="session", params=["llava", "qwen2_vl"])
def tiny_base(request, tiny_data, tmp_path_factory):
    """A tiny model of each family, saved like a downloaded checkpoint."""
    out = tmp_path_factory.mktemp(f"tiny_{request.param}")
    build_tiny(TinySpec(family=request.param), corpus(tiny_data), out)
    return out


@pytest.fixture(scope="session")
def tiny_llava(tiny_data, tmp_path_factory):
    """A tiny LLaVA saved like a downloaded checkpoint (for runs in other processes)."""
    out = tmp_path_factory.mktemp("tiny_llava")
    build_tiny(TinySpec(family="llava"), corpus(tiny_data), out)
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Tests marked ``gpu`` run a real CUDA path; elsewhere they are skipped (before fixtures)."""
    if item.get_closest_marker("gpu") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("no CUDA device: torch.cuda.is_available() is False")


@pytest.fixture(scope="session")
def manip_folder(tmp_path_factory):
    """Eight generated ManipLLM samples and their task file (the collection layout)."""
    from manip_synthetic import write_manip_collection

    return write_manip_collection(tmp_path_factory.mktemp("manip") / "collection", 8)
