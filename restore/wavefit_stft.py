"""WaveFit's STFT-domain options: the degraded start and a frame-rate per-step network.

``degraded_start`` (``WaveFitConfig.start="degraded"``): the fixed-point iteration starts from
the input recording itself rather than from noise or Griffin-Lim, so the words and the voice of
the input are there from the first step and the steps only have to remove what the cleaned mel
says is not speech. Where the mel carries energy the recording lacks (a band it never had, a
masked stretch) shaped noise fills it in. ``start="masked"`` also attenuates the recording where it
has more energy than the mel, so the steps start from a Wiener-like estimate.

``WaveFitSTFTGenerator`` (``WaveFitConfig.network="stft"``): ``F(y_t, c, t)`` computed at the
frame rate, Vocos-like. ``STFT(y_t)`` (``n_fft = 4 * hop`` by default, Hann, hop = the mel hop)
gives ``[log|Y|, cos angle, sin angle]`` per bin, concatenated with the encoded conditioning;
a 1x1 projection and ConvNeXt blocks (depthwise conv, LayerNorm, MLP, residual) with FiLM from
the step embedding predict a complex residual mask ``m``; ``Y_hat = Y * (1 + m)``. The network
returns ``y - iSTFT(Y_hat)``, the noise estimate WaveFit's loop subtracts, so the loop is the
same for both networks. The output layer ``out`` starts at zero: untrained, the mask is zero
and WaveFit returns its gain-adjusted start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from fleursr.nn.conformer import sinusoidal_positions
from fleursr.nn.spectral import mel_stft
from fleursr.restore.wavefit import WaveFitConfig, _conv, _Res

if TYPE_CHECKING:
    from fleursr.restore.wavefit import WaveFit


def _frame_mask(mask: torch.Tensor | None, frames: int) -> torch.Tensor | None:
    """``(batch, frames)`` -> float ``(batch, 1, frames + 1)`` for centered STFT frames."""
    if mask is None:
        return None
    return F.pad(mask[:, None, :frames].float(), (0, 1), mode="replicate")


def degraded_start(
    wavefit: WaveFit,
    features: torch.Tensor,
    reference: torch.Tensor,
    mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    suppress: bool = False,
) -> torch.Tensor:
    """``y_T`` ``(batch, frames * hop)`` from ``reference`` ``(batch, samples)`` at the vocoder's
    rate, padded or cropped to ``frames * hop``.

    gain="mel": the reference is scaled by WaveFit's gain ``G`` to the power of the log-mel
    ``features``; ``S = STFT(g * reference)`` with the mel's settings. ``T = max(0, mel_pinv @
    exp(mel))`` is the magnitude the mel implies and ``D = max(0, mel_pinv @ fb @ |S|)`` the
    reference's, both at mel resolution; ``sqrt(max(0, T^2 - D^2))`` with random unit phases
    (from ``generator``) is added to ``S`` before the inverse STFT (with ``fill="absent"``
    only in the bins the reference never had, :func:`absent_bins`). Where ``T <= D`` nothing is
    added: the start is the gain-matched reference. Comparing ``T`` with ``|S|`` bin by bin
    instead would fill every gap between harmonics with noise (``T`` is smooth across a band):
    measured with the clean signal as reference and its own mel, log-mel distance 0.11 (as far
    as Griffin-Lim's start) against 0.0014 this way. gain="peak" (SSL features, no magnitude to
    compare): the padded reference. ``suppress`` (``start="masked"``): ``S`` is also multiplied by
    ``min(1, T / D)``, removing what the mel says is not speech (noise, reverberation) at mel
    resolution, a Wiener-like gain; measured on recorded speech with the cleaner's mels, this
    start alone scores as the trained network on the unsuppressed start did (docs/engine.md).
    """
    batch, frames, _ = features.shape
    length, device = frames * wavefit.hop_length, features.device
    ref = reference.to(device).float()[:, :length]
    ref = F.pad(ref, (0, length - ref.shape[1]))
    if wavefit.config.gain == "peak":
        return ref
    with torch.autocast(device.type, enabled=False):
        ref = wavefit.gain_adjust(ref, features, mask)
        spec, target, have, stft = _mel_magnitudes(wavefit, features, ref, mask)
        missing = (target.pow(2) - have.pow(2)).clamp_min(0).sqrt()
        if wavefit.config.fill == "absent":
            missing = missing * absent_bins(spec, _frame_mask(mask, frames))
        if suppress:
            spec = spec * (target / have.clamp_min(1e-8)).clamp(max=1.0)
        phase = torch.randn(*spec.shape, 2, device=device, generator=generator)
        phase = torch.view_as_complex(phase)
        phase = phase / phase.abs().clamp_min(1e-12)
        return torch.istft(spec + missing * phase, **stft, length=length)


ABSENT_DB = -60.0  # a bin whose mean power lies this far below the strongest bin's is absent


def absent_bins(spec: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
    """``(batch, bins, 1)`` float: 1 for the bins of ``spec`` ``(batch, bins, frames)`` that the
    signal never had (mean power over the kept frames ``ABSENT_DB`` or more below its strongest
    bin's: the band above a band-limited input's cutoff), else 0."""
    power = spec.real.pow(2) + spec.imag.pow(2)  # |S|^2 without the square root
    power = power if keep is None else power * keep
    mean = power.sum(dim=2, keepdim=True)
    return (mean <= mean.amax(dim=1, keepdim=True) * 10 ** (ABSENT_DB / 10)).float()


def _mel_magnitudes(
    wavefit: WaveFit, features: torch.Tensor, wave: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    """``(S, T, D, stft)``: ``S = STFT(wave)`` with the mel's settings, ``T`` the magnitude the
    log-mel ``features`` imply and ``D`` the wave's, both at mel resolution (pseudo-inverse of
    the filterbank, per linear bin), and the STFT's keyword arguments. float32."""
    m, length = wavefit.config.mel, wave.shape[1]
    stft = mel_stft(m, wave.device)
    pad_mode = "reflect" if length > m.n_fft // 2 else "constant"
    spec = torch.stft(wave.float(), **stft, pad_mode=pad_mode, return_complex=True)
    frames = features.shape[1]
    mel = features.float().exp().transpose(1, 2)  # (batch, n_mels, frames)
    mel = torch.cat([mel, mel[:, :, -1:]], dim=2)  # centered STFT: frames + 1
    keep = _frame_mask(mask, frames)
    mel = mel if keep is None else mel * keep
    target = (wavefit.mel_pinv @ mel).clamp_min(0)
    have = (wavefit.mel_pinv @ (wavefit.mel.fb @ spec.abs())).clamp_min(0)
    return spec, target, have, stft


def mel_bound(
    wavefit: WaveFit,
    features: torch.Tensor,
    wave: torch.Tensor,
    mask: torch.Tensor | None,
    power: float | None = None,
) -> torch.Tensor:
    """``wave`` ``(batch, samples)`` attenuated where it has more energy than the log-mel
    ``features`` say, at mel resolution: ``S * min(1, T / D) ** power`` (``power`` defaults to
    the config's ``final_mask``), zero past each ``mask``."""
    power = wavefit.config.final_mask if power is None else power
    with torch.autocast(wave.device.type, enabled=False):
        spec, target, have, stft = _mel_magnitudes(wavefit, features, wave, mask)
        gain = (target / have.clamp_min(1e-8)).clamp(max=1.0).pow(power)
        out = torch.istft(spec * gain, **stft, length=wave.shape[1])
        return out * wavefit.sample_mask(mask, out)


class _ConvNeXt(nn.Module):
    """Depthwise conv, LayerNorm, FiLM from the step embedding, MLP, residual:
    ``(batch, dim, frames)`` in and out."""

    def __init__(self, dim: int, mult: int, kernel: int, step_dim: int) -> None:
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.film = nn.Linear(step_dim, 2 * dim)
        self.up, self.down = nn.Linear(dim, mult * dim), nn.Linear(mult * dim, dim)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.dw(x).transpose(1, 2))  # (batch, frames, dim)
        scale, shift = self.film(emb)[:, None].chunk(2, dim=-1)
        h = self.down(F.gelu(self.up(h * (1 + scale) + shift)))
        return x + h.transpose(1, 2)


class WaveFitSTFTGenerator(nn.Module):
    """``F(y_t, c, t)`` at the frame rate (see the module docstring); same interface as
    :class:`~fleursr.restore.wavefit.WaveFitGenerator`: :meth:`encode` once, then
    ``forward(y, cond, t)`` -> the noise estimate ``(batch, samples)``."""

    def __init__(self, config: WaveFitConfig) -> None:
        super().__init__()
        c, width = config, config.widths()[0]
        self.n_fft, self.hop, self.step_dim = int(c.stft_n_fft or 0), c.hop_length, c.step_dim
        bins = self.n_fft // 2 + 1
        layers = (_Res(width, c.cond_kernel) for _ in range(c.cond_layers))
        self.encoder = nn.Sequential(_conv(c.cond_dim, width, c.cond_kernel), *layers)
        d = c.step_dim
        self.step_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.proj = nn.Conv1d(3 * bins + width, c.stft_dim, 1)
        self.blocks = nn.ModuleList(
            _ConvNeXt(c.stft_dim, c.stft_mult, c.stft_kernel, d) for _ in range(c.stft_blocks)
        )
        self.norm = nn.LayerNorm(c.stft_dim)
        self.out = nn.Linear(c.stft_dim, 2 * bins)  # (real, imag) of the residual mask per bin
        nn.init.zeros_(self.out.weight)  # untrained: mask 0, y_hat = y, WaveFit returns its start
        nn.init.zeros_(self.out.bias)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, cond_dim)`` -> ``(batch, channels, frames)``; independent of ``t``."""
        return self.encoder(features.transpose(1, 2))

    def _stft(self) -> dict:
        return dict(n_fft=self.n_fft, hop_length=self.hop, window=self.window.float())

    def forward(self, y: torch.Tensor, cond: torch.Tensor, t: int) -> torch.Tensor:
        """``y`` ``(batch, samples)``, ``cond`` from :meth:`encode`, ``t`` in ``T..1``."""
        table = sinusoidal_positions(t + 1, self.step_dim, y.device)[t].to(cond.dtype)
        emb = self.step_mlp(table)[None].expand(y.shape[0], -1)
        with torch.autocast(y.device.type, enabled=False):
            spec = torch.stft(y.float(), **self._stft(), pad_mode="constant", return_complex=True)
            mag = (spec.real.pow(2) + spec.imag.pow(2) + 1e-10).sqrt()  # (batch, bins, frames + 1)
            feats = torch.cat([mag.clamp_min(1e-5).log(), spec.real / mag, spec.imag / mag], 1)
        cond = F.pad(cond, (0, spec.shape[-1] - cond.shape[-1]), mode="replicate")
        x = self.proj(torch.cat([feats.to(cond.dtype), cond], dim=1))
        for block in self.blocks:
            x = block(x, emb)
        mask = self.out(self.norm(x.transpose(1, 2))).transpose(1, 2)  # (batch, 2 * bins, ...)
        with torch.autocast(y.device.type, enabled=False):
            real, imag = mask.float().chunk(2, dim=1)
            y_hat = torch.istft(spec * torch.complex(1 + real, imag), **self._stft(),
                                length=y.shape[1])  # fmt: skip
        return y - y_hat
