"""Import MuJoCo headless: EGL (Mesa) by default, falling back to OSMesa when EGL fails."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from types import ModuleType
from typing import Any

from rt_grasp_ros.optional import require

log = logging.getLogger(__name__)
HEADLESS = ("egl", "osmesa")


def mujoco_module() -> ModuleType:
    """The ``mujoco`` module, with ``MUJOCO_GL`` defaulting to ``egl`` for headless use.

    Set ``MUJOCO_GL=osmesa`` for the OSMesa software renderer, or ``glfw`` with a display.
    """
    os.environ.setdefault("MUJOCO_GL", "egl")
    if os.environ["MUJOCO_GL"] in HEADLESS:
        os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
    return require("mujoco", "the simulated robot")


def make_renderer(model: Any, height: int, width: int) -> Any:
    """A ``mujoco.Renderer``; if its OpenGL context cannot be made, try EGL, then OSMesa."""
    mujoco = mujoco_module()
    errors = (RuntimeError, ImportError, OSError, mujoco.FatalError)
    try:
        return mujoco.Renderer(model, height, width)
    except errors as exc:
        first = exc
    current = os.environ.get("MUJOCO_GL", "")
    for backend in (b for b in HEADLESS if b != current):
        log.warning(
            "%s rendering failed (%s); falling back to %s",
            current or "default",
            first,
            backend.upper(),
        )
        try:
            _use_backend(backend)
            return mujoco.Renderer(model, height, width)
        except errors as exc:
            first, current = exc, backend
    raise first


def _use_backend(name: str) -> None:
    from mujoco.rendering.classic import gl_context

    # PyOpenGL binds its platform on first import; drop it so that it binds to ``name``.
    os.environ["PYOPENGL_PLATFORM"] = name
    for module in [
        m
        for m in sys.modules
        if m == "OpenGL" or m.startswith(("OpenGL.", "mujoco.egl", "mujoco.osmesa"))
    ]:
        del sys.modules[module]
    gl_context.GLContext = importlib.import_module(f"mujoco.{name}").GLContext
    os.environ["MUJOCO_GL"] = name
