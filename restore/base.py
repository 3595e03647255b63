"""The swappable roles of restoration: a whole restorer and the three parts of the project's own.

``SpeechRestorer`` is what the corpus path, ``fleursr restore`` and the batch jobs call: any
recording in, 24 kHz mono float32 out. ``Restorer`` (the project's model) and the restorers of
``fleursr.restore.peers`` implement it.

``FeatureExtractor`` turns audio into frames, ``FeatureCleaner`` maps degraded frames to clean
ones, ``Vocoder`` turns frames back into 24 kHz audio. ``Restorer`` composes one of each.
``Vocoder`` is defined in ``fleursr.nn.vocoder`` because TTS renders with it too.
Feature tensors are ``(batch, frames, dim)`` with ``(batch, frames)`` bool masks (True = valid).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from fleursr.corpus.audio import as_float32, resample, to_mono
from fleursr.nn.vocoder import Vocoder  # the role TTS shares: it lives on the lower floor

OUTPUT_SAMPLE_RATE = 24000  # every restorer's output rate: the corpus contract


def mono_float32(wave: np.ndarray) -> np.ndarray:
    """Any numeric dtype, mono or multichannel -> float32 mono; ``ValueError``/``TypeError``
    for empty, non-numeric or non-finite audio (the checks of :func:`prepare_audio`, which a
    streamed recording gets block by block)."""
    wave = np.asarray(wave)
    if wave.size == 0:
        raise ValueError("cannot restore empty audio")
    if not np.issubdtype(wave.dtype, np.number):
        raise TypeError(f"audio must be numeric, got dtype {wave.dtype}")
    x = to_mono(as_float32(wave))
    if not np.isfinite(x).all():
        raise ValueError("audio contains NaN or infinite samples")
    return x


def check_sample_rate(sr: int) -> None:
    if not 1000 <= sr <= 384000:
        raise ValueError(f"implausible sample rate {sr} Hz")


def prepare_audio(wave: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Any dtype, mono or multichannel, any plausible rate -> float32 mono at ``target_sr``;
    ``ValueError``/``TypeError`` for empty, non-numeric or non-finite audio."""
    x = mono_float32(wave)
    check_sample_rate(sr)
    return resample(x, sr, target_sr)


class SpeechRestorer(ABC):
    """A restorer as the corpus path sees it: ``restore(wave, sr) -> (float32 wave, 24000)``.

    ``name`` says which restorer it is (run metadata, benchmark tables); ``input_sample_rate``
    is the rate it works at (inputs are resampled to it by :meth:`prepare`); output is always
    mono float32 at ``sample_rate`` (24 kHz), one output second per input second.
    """

    name: str = "restorer"
    sample_rate: int = OUTPUT_SAMPLE_RATE
    input_sample_rate: int = OUTPUT_SAMPLE_RATE

    def prepare(self, wave: np.ndarray, sr: int) -> np.ndarray:
        """Any dtype, mono or multichannel, any rate -> float32 mono at ``input_sample_rate``."""
        return prepare_audio(wave, sr, self.input_sample_rate)

    @abstractmethod
    def restore(self, wave: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        """One recording of any shape, dtype, rate and length -> ``(float32 (n,), 24000)``."""

    def restore_batch(
        self, waves: Sequence[np.ndarray], srs: int | Sequence[int], batch_size: int = 8
    ) -> list[np.ndarray]:
        """Many recordings, results in input order (default: one :meth:`restore` each)."""
        srs = [srs] * len(waves) if isinstance(srs, int) else list(srs)
        if len(srs) != len(waves):
            raise ValueError(f"{len(waves)} waves but {len(srs)} sample rates")
        return [self.restore(w, sr)[0] for w, sr in zip(waves, srs)]

    def describe(self) -> dict[str, Any]:
        """JSON-serializable name and settings, for run metadata and benchmark tables."""
        return {"name": self.name}

    def output_length(self, input_samples: int) -> int:
        """Output samples for ``input_samples`` at ``input_sample_rate``."""
        return input_samples * self.sample_rate // self.input_sample_rate


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


__all__ = [
    "OUTPUT_SAMPLE_RATE",
    "FeatureCleaner",
    "FeatureExtractor",
    "SpeechRestorer",
    "Vocoder",
    "check_batch",
    "check_sample_rate",
    "mono_float32",
    "prepare_audio",
]


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
