"""STFT and log-mel helpers (torch), one definition for the whole project.

The log-mel here is the restoration model's embedded feature and the conditioning of the
WaveFit vocoder that TTS shares: 24 kHz, 1024-point FFT, hop 256, 100 mel bands (the
configuration Vocos uses at 24 kHz), natural log of the mel *magnitude* with a floor of 1e-5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import librosa
import torch
from torch import nn


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int = 24000
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 100
    f_min: float = 0.0
    f_max: float | None = None
    log_floor: float = 1e-5

    def to_dict(self) -> dict:
        return asdict(self)


def mel_stft(config: MelConfig, device: torch.device | str | None = None) -> dict:
    """The keyword arguments of ``torch.stft`` / ``torch.istft`` for ``config``'s frames: FFT
    size, hop, window length and a float32 Hann window on ``device``."""
    c, window = config, torch.hann_window(config.win_length, device=device)
    return dict(n_fft=c.n_fft, hop_length=c.hop_length, win_length=c.win_length, window=window)


def stft_magnitude(
    wave: torch.Tensor, n_fft: int, hop_length: int, win_length: int | None = None
) -> torch.Tensor:
    """``(batch, samples)`` -> magnitude ``(batch, n_fft // 2 + 1, samples // hop + 1)``."""
    win_length = win_length or n_fft
    window = torch.hann_window(win_length, device=wave.device, dtype=wave.dtype)
    spec = torch.stft(
        wave, n_fft, hop_length, win_length, window=window, center=True, return_complex=True
    )
    return spec.abs().clamp_min(1e-9)


class MelSpectrogram(nn.Module):
    """Log-mel magnitude: ``(batch, samples)`` -> ``(batch, n_mels, samples // hop + 1)``."""

    def __init__(self, config: MelConfig | None = None) -> None:
        super().__init__()
        self.config = config or MelConfig()
        c = self.config
        fb = librosa.filters.mel(
            sr=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.f_min, fmax=c.f_max
        )
        self.register_buffer("fb", torch.from_numpy(fb).float(), persistent=False)

    @property
    def hop_length(self) -> int:
        return self.config.hop_length

    def mel_magnitude(self, wave: torch.Tensor) -> torch.Tensor:
        """Linear mel magnitude ``(batch, n_mels, frames)``."""
        c = self.config
        mag = stft_magnitude(wave.float(), c.n_fft, c.hop_length, c.win_length)
        return torch.matmul(self.fb, mag)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.log(self.mel_magnitude(wave).clamp_min(self.config.log_floor))

    def num_frames(self, num_samples: int) -> int:
        return num_samples // self.config.hop_length + 1

    def bands_below(self, hz: torch.Tensor) -> torch.Tensor:
        """``(batch, n_mels)``: True for the mel bands whose whole triangle lies at or below
        ``hz`` ``(batch,)`` (a band straddling ``hz`` is False)."""
        c = self.config
        edges = librosa.mel_frequencies(
            c.n_mels + 2, fmin=c.f_min, fmax=c.f_max or c.sample_rate / 2
        )
        upper = torch.as_tensor(edges[2:], dtype=torch.float32, device=hz.device)
        return upper[None, :] <= hz.float()[:, None] + 1e-3


def mel_power(log_mel: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-utterance power implied by a log-mel magnitude ``(batch, n_mels, frames)``.

    The mean of the squared mel magnitude over bands and valid frames, ``(batch,)``. It scales
    with the square of the waveform's gain, which is what WaveFit's gain adjustment needs.
    """
    power = torch.exp(2.0 * log_mel)
    if frame_mask is None:
        return power.mean(dim=(1, 2))
    mask = frame_mask[:, None, :].to(power.dtype)
    return (power * mask).sum(dim=(1, 2)) / (mask.sum(dim=(1, 2)) * power.shape[1]).clamp_min(1)
