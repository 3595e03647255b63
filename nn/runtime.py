"""Where and how reproducibly a model runs: device choice, seeding and the memory allocator,
shared by every trainer and batch job."""

from __future__ import annotations

import ctypes
import ctypes.util
import random

import numpy as np
import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` if a GPU is visible, else ``cpu``; other values via torch.device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (all devices) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# glibc mallopt parameters and the values keep_buffers sets
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest: buffers up to 32 MiB come from the heap
TRIM_THRESHOLD = 64 << 20  # free memory kept at the top of the heap before it is returned


def keep_buffers() -> bool:
    """Let glibc's malloc reuse freed tensor buffers instead of mapping fresh pages each time.

    By default glibc raises its mmap threshold as large blocks are freed, so the buffers a
    model allocates over and over come from the heap. Setting any malloc threshold, as dask's
    nanny does for every worker it starts (``MALLOC_TRIM_THRESHOLD_=65536``), freezes that
    threshold at 128 KiB: each activation above it is a new mapping, zero-filled on first
    touch, and the embedded restorer ran at half its speed in a dask worker
    (benchmarks/jobs_scale.py). Sets the mmap threshold to glibc's largest (32 MiB) and the
    trim threshold to 64 MiB; returns False where the C library has no ``mallopt`` (not glibc).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
