"""How the benchmark scripts time their work: one call, or the fastest of several."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()``'s result and the wall seconds the call took."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_wall(fn: Callable[[], object], repeats: int, cuda: bool = False) -> float:
    """The fastest of ``repeats`` timed calls of ``fn`` after one warm-up call: on a shared
    machine the minimum is the measurement least disturbed by other work (as ``timeit``
    advises). ``cuda``: wait for the GPU before and after each call."""
    import torch

    walls = []
    for i in range(repeats + 1):
        if cuda:
            torch.cuda.synchronize()
        _, wall = timed(fn)
        if cuda:
            torch.cuda.synchronize()
        if i:
            walls.append(wall)
    return min(walls)
