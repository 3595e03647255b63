"""Monotonic alignment search against an exhaustive search over every monotonic alignment."""

import itertools

import numpy as np
import pytest
import torch

from fleursr.tts.mas import maximum_path, maximum_path_numpy


def brute_force(value: np.ndarray) -> tuple[float, np.ndarray]:
    """Best score and path over all ways to give each of n tokens >= 1 of t frames, in order."""
    n, t = value.shape
    best, best_path = -np.inf, None
    for cuts in itertools.combinations(range(1, t), n - 1):
        bounds = (0, *cuts, t)
        path = np.zeros((n, t), dtype=np.int32)
        for k in range(n):
            path[k, bounds[k] : bounds[k + 1]] = 1
        score = float((value * path).sum())
        if score > best:
            best, best_path = score, path
    return best, best_path


@pytest.mark.parametrize("seed", range(25))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    t = int(rng.integers(n, 9))
    value = rng.standard_normal((n, t)).astype(np.float32)
    best, expected = brute_force(value)
    path = maximum_path_numpy(value[None], np.array([n]), np.array([t]))[0]
    np.testing.assert_array_equal(path, expected)
    assert np.isclose((value * path).sum(), best, atol=1e-4)


def test_batch_rows_are_independent_of_padding():
    rng = np.random.default_rng(1)
    shapes = [(3, 7), (2, 5), (4, 4)]
    value = rng.standard_normal((3, 4, 8)).astype(np.float32)
    paths = maximum_path_numpy(value, [s[0] for s in shapes], [s[1] for s in shapes])
    for b, (n, t) in enumerate(shapes):
        alone = maximum_path_numpy(value[b : b + 1, :n, :t], [n], [t])[0]
        np.testing.assert_array_equal(paths[b, :n, :t], alone)
        assert paths[b].sum() == t  # every frame has exactly one token; padding stays zero
        assert (paths[b, :n, :t].sum(axis=1) >= 1).all()


def test_fewer_frames_than_tokens_spreads_and_torch_front_end():
    path = maximum_path_numpy(np.zeros((1, 5, 3), np.float32), [5], [3])[0]
    assert (path.sum(axis=0) == 1).all()  # each frame still belongs to one token
    value = torch.randn(2, 3, 6, dtype=torch.float64)
    out = maximum_path(value, torch.tensor([3, 2]), torch.tensor([6, 4]))
    assert out.dtype == torch.float64 and out.shape == (2, 3, 6)
    assert out.sum(dim=(1, 2)).tolist() == [6.0, 4.0]
    with pytest.raises(ValueError, match="exceed"):
        maximum_path_numpy(np.zeros((1, 2, 3), np.float32), [3], [3])
