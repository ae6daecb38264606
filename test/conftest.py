from __future__ import annotations

import os
from pathlib import Path

# Headless rendering backend, chosen before anything imports mujoco (the Makefile sets it too).
os.environ.setdefault("MUJOCO_GL", "egl")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist every worker is a process of its own: one intra-op thread each, set
    # before torch is imported, so that workers share the cores instead of thrashing them.
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

import pytest
from synthetic import write_cornell_folder, write_jacquard_folder


@pytest.fixture
def cornell_dir(tmp_path: Path) -> Path:
    root = tmp_path / "cornell"
    write_cornell_folder(root, n_images=10, subfolders=True)
    return root


@pytest.fixture
def jacquard_dir(tmp_path: Path) -> Path:
    root = tmp_path / "jacquard"
    write_jacquard_folder(root, n_images=4)
    return root
