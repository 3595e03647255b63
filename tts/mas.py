"""Monotonic alignment search (Glow-TTS), written with numba.

Given the log-likelihood ``value[n, t]`` of mel frame ``t`` under text token ``n``, find the
alignment that maximizes the summed log-likelihood under three rules: every frame belongs to
exactly one token, the token index never decreases from one frame to the next and moves by at
most one, and every token gets at least one frame (frame 0 is token 0, the last frame is the
last token). Dynamic programming, ``O(tokens * frames)`` per utterance.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit


@njit(cache=False, nogil=True)
def _path_one(value: np.ndarray, path: np.ndarray, n: int, t: int) -> None:  # pragma: no cover
    """Fill ``path[:n, :t]`` (zeros on entry) with the best alignment of ``value[:n, :t]``."""
    if t < n:  # infeasible: spread tokens evenly (some get no frame)
        for y in range(t):
            path[y * n // t, y] = 1
        return
    neg = -1e30
    score = np.full((n, t), neg, dtype=np.float64)
    score[0, 0] = value[0, 0]
    for y in range(1, t):
        lo = max(0, n - (t - y))
        hi = min(n - 1, y)
        for x in range(lo, hi + 1):
            stay = score[x, y - 1]
            move = score[x - 1, y - 1] if x > 0 else neg
            score[x, y] = value[x, y] + (stay if stay >= move else move)
    x = n - 1
    for y in range(t - 1, -1, -1):
        path[x, y] = 1
        if y > 0 and x > 0 and (x == y or score[x, y - 1] < score[x - 1, y - 1]):
            x -= 1


@njit(cache=False, nogil=True)
def _paths(
    value: np.ndarray, text_lengths: np.ndarray, frame_lengths: np.ndarray
) -> np.ndarray:  # pragma: no cover
    path = np.zeros(value.shape, dtype=np.int32)
    for b in range(value.shape[0]):
        n, t = text_lengths[b], frame_lengths[b]
        if n > 0 and t > 0:
            _path_one(value[b], path[b], n, t)
    return path


def maximum_path_numpy(
    value: np.ndarray, text_lengths: np.ndarray, frame_lengths: np.ndarray
) -> np.ndarray:
    """``value`` ``(batch, tokens, frames)`` -> 0/1 alignment ``(batch, tokens, frames)`` int32.

    Only ``[:text_lengths[b], :frame_lengths[b]]`` of row ``b`` is read and written. A row with
    fewer frames than tokens has no valid alignment; it gets an even spread instead.
    """
    value = np.ascontiguousarray(value, dtype=np.float32)
    if value.ndim != 3:
        raise ValueError(f"value must be (batch, tokens, frames), got shape {value.shape}")
    text_lengths = np.asarray(text_lengths, dtype=np.int64).reshape(-1)
    frame_lengths = np.asarray(frame_lengths, dtype=np.int64).reshape(-1)
    if len(text_lengths) != value.shape[0] or len(frame_lengths) != value.shape[0]:
        raise ValueError("one text length and one frame length per batch row are needed")
    if (text_lengths > value.shape[1]).any() or (frame_lengths > value.shape[2]).any():
        raise ValueError("lengths exceed the value matrix")
    return _paths(value, text_lengths, frame_lengths)


def maximum_path(
    value: torch.Tensor, text_lengths: torch.Tensor, frame_lengths: torch.Tensor
) -> torch.Tensor:
    """Torch front end: ``(batch, tokens, frames)`` scores -> float 0/1 path on the same device
    (computed on the CPU, no gradient)."""
    path = maximum_path_numpy(
        value.detach().float().cpu().numpy(),
        text_lengths.detach().cpu().numpy(),
        frame_lengths.detach().cpu().numpy(),
    )
    return torch.from_numpy(path).to(device=value.device, dtype=value.dtype)
