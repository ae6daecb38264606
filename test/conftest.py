from __future__ import annotations

import os
from pathlib import Path

# Headless rendering backend, chosen before anything imports mujoco (the Makefile sets it too).
os.environ.setdefault("MUJOCO_GL", "egl")

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
