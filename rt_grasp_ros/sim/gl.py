"""Import MuJoCo headless: EGL (Mesa) by default, falling back to OSMesa when EGL fails."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


def make_renderer(model: Any, height: int, width: int, shared: bool = False) -> Any:
    """A ``mujoco.Renderer``; if its OpenGL context cannot be made, try EGL, then OSMesa.

    ``shared``: on this process's shared GL context (see :func:`shared_context`), with a
    scene sized for the model's geoms.
    """
    mujoco = mujoco_module()
    errors = (RuntimeError, ImportError, OSError, mujoco.FatalError)
    if shared:
        with shared_context():
            # The scene holds the model's geoms (and a few decorations); 10000 costs 20 ms.
            return mujoco.Renderer(model, height, width, max_geom=2 * model.ngeom + 100)
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


class _Shared:
    """The process's GL context as a renderer holds its own, except that it is never freed."""

    context: Any = None

    def __init__(self, width: int, height: int) -> None:
        if _Shared.context is None:
            from mujoco.rendering.classic import gl_context

            _Shared.context = _ORIGINAL.get("GLContext", gl_context.GLContext)(width, height)
        self._context = _Shared.context

    def make_current(self) -> None:
        self._context.make_current()

    def as_current(self) -> Any:
        return self._context.as_current()

    def free(self) -> None:
        """Kept for the next renderer of this process (it goes with the process)."""


_ORIGINAL: dict[str, Any] = {}


@contextmanager
def shared_context() -> Iterator[None]:
    """Renderers made inside use one GL context per process instead of one each.

    A new GL context compiles MuJoCo's shaders again on its first scene (some 160 ms with
    Mesa's software renderer); a scene's textures then load in a few ms. Only for one thread
    rendering one scene at a time (the context is current on the thread that renders).
    """
    from mujoco.rendering.classic import gl_context

    _ORIGINAL.setdefault("GLContext", gl_context.GLContext)
    gl_context.GLContext = _Shared
    try:
        yield
    finally:
        gl_context.GLContext = _ORIGINAL["GLContext"]
