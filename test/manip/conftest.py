"""Tiny untrained models for ManipLLM's texts (built only by the tests that ask for them)."""

from __future__ import annotations

import pytest
from manip_synthetic import manip_corpus


def _build(family: str, tmp_path_factory) -> object:
    from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

    out = tmp_path_factory.mktemp(f"tiny_manip_{family}")
    build_tiny(TinySpec(family=family), manip_corpus(), out)
    return out


@pytest.fixture(scope="session", params=["llava", "qwen2_vl"])
def tiny_manip(request, tmp_path_factory):
    """A tiny untrained model of each family (SentencePiece and byte-level tokenizers)."""
    return _build(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_manip_llava(tmp_path_factory):
    """A tiny untrained LLaVA, saved like a checkpoint."""
    return _build("llava", tmp_path_factory)
