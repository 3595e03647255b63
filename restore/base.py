"""The three swappable roles of the restoration model.

``FeatureExtractor`` turns audio into frames, ``FeatureCleaner`` maps degraded frames to clean
ones, ``Vocoder`` turns frames back into 24 kHz audio. ``Restorer`` composes one of each.
``Vocoder`` is defined in ``fleursr.nn.vocoder`` because TTS renders with it too.
Feature tensors are ``(batch, frames, dim)`` with ``(batch, frames)`` bool masks (True = valid).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from fleursr.nn.vocoder import Vocoder  # the role TTS shares: it lives on the lower floor


class FeatureExtractor(nn.Module, ABC):
    """Audio at ``sample_rate`` -> frames every ``hop_length`` input samples, ``dim`` wide."""

    sample_rate: int
    hop_length: int
    dim: int

    @abstractmethod
    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` float audio -> ``(features (batch, frames, dim), frame_lengths
        (batch,))``. ``lengths`` are valid samples per row (default: all)."""

    @abstractmethod
    def num_frames(self, num_samples: int) -> int:
        """Frames produced for ``num_samples`` input samples."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-serializable settings that rebuild this extractor (``kind`` included)."""

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length


class FeatureCleaner(nn.Module, ABC):
    """Degraded features -> predicted clean features, same shape."""

    @abstractmethod
    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(batch, frames, dim)`` -> ``(batch, frames, dim)``."""


__all__ = ["FeatureCleaner", "FeatureExtractor", "Vocoder", "check_batch"]


def check_batch(
    waves: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``(batch, samples)`` audio and lengths; trim padding beyond the longest row."""
    if waves.dim() == 1:
        waves = waves[None]
    if waves.dim() != 2:
        raise ValueError(f"expected audio of shape (batch, samples), got {tuple(waves.shape)}")
    if lengths is None:
        lengths = torch.full((waves.shape[0],), waves.shape[1], dtype=torch.long)
    lengths = torch.as_tensor(lengths, device=waves.device).long().reshape(-1)
    if lengths.shape[0] != waves.shape[0]:
        raise ValueError(f"{lengths.shape[0]} lengths for a batch of {waves.shape[0]} rows")
    if waves.shape[0] and (lengths.max() > waves.shape[1] or lengths.min() < 0):
        raise ValueError(f"lengths must lie in [0, {waves.shape[1]}], got {lengths.tolist()}")
    if waves.shape[0]:
        waves = waves[:, : int(lengths.max())]
    return waves, lengths
