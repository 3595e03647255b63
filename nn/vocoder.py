"""The vocoder role, shared by restoration and TTS: features -> waveform.

``Vocoder`` is the abstract base every vocoder implements (WaveFit in ``fleursr.restore``).
``fleursr.tts`` renders its log-mel with any ``Vocoder`` whose ``mel_config`` is the voice's;
neither package reaches into the other: whoever wires them (``fleursr.jobs``) hands the TTS a
vocoder object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from fleursr.nn.spectral import MelConfig


class Vocoder(nn.Module, ABC):
    """Features -> waveform at ``sample_rate``, ``hop_length`` output samples per frame."""

    sample_rate: int
    hop_length: int

    @property
    def mel_config(self) -> MelConfig | None:
        """The log-mel this vocoder is conditioned on; ``None`` for other features (SSL)."""
        return None

    @abstractmethod
    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor | None = None,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        *,
        reference: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(batch, frames, dim)`` -> ``(batch, frames * hop_length)`` audio. Vocoders that
        start from noise draw it from ``generator``; ``steps`` sets their iterations.
        ``reference`` ``(batch, samples)`` at ``sample_rate``: the recording being restored, for
        vocoders that start from it (``None``: none, as when TTS renders a mel)."""
