"""The three swappable roles of the restoration model.

``FeatureExtractor`` turns audio into frames, ``FeatureCleaner`` maps degraded frames to clean
ones, ``Vocoder`` turns frames back into 24 kHz audio. ``Restorer`` composes one of each.
Feature tensors are ``(batch, frames, dim)`` with ``(batch, frames)`` bool masks (True = valid).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn


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


class Vocoder(nn.Module, ABC):
    """Features -> waveform at ``sample_rate``, ``hop_length`` output samples per frame."""

    sample_rate: int
    hop_length: int

    @abstractmethod
    def forward(
        self, features: torch.Tensor, mask: torch.Tensor | None = None, steps: int | None = None
    ) -> torch.Tensor:
        """``(batch, frames, dim)`` -> ``(batch, frames * hop_length)`` audio."""
