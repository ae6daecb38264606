"""A process pool for simulation jobs (each process makes its own GL context)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


@contextmanager
def process_pool(workers: int) -> Iterator[Pool | None]:
    """``workers`` spawned processes, or None for one worker (the jobs run in this process).

    Spawned, not forked: a forked child would inherit the parent's OpenGL state.
    """
    if workers <= 1:
        yield None
        return
    pool = multiprocessing.get_context("spawn").Pool(workers)
    try:
        yield pool
    finally:
        pool.close()
        pool.join()
