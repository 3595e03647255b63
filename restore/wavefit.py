"""WaveFit vocoder (Koizumi et al., 2022): ``y_T`` is noise, ``y_{t-1} = G(y_t - F(y_t, c, t), c)``.

``F`` predicts the noise component, ``G`` fixes the gain: for log-mel conditioning it matches the
mel's power, ``sqrt(P_c / (P_z + eps))`` (the square root is missing in the paper; training fails
without it); SSL features imply no power, so ``G`` normalizes each utterance's peak instead.
Features ``(batch, frames, dim)``, masks ``(batch, frames)`` True on valid frames, waves
``(batch, frames * hop_length)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fleursr.corpus.config import Config
from fleursr.nn.conformer import sinusoidal_positions
from fleursr.nn.spectral import MelConfig, MelSpectrogram, mel_power, mel_stft
from fleursr.restore.base import Vocoder


def derive_factors(hop_length: int, max_factor: int = 8) -> tuple[int, ...]:
    """Factor ``hop_length`` into upsampling factors <= ``max_factor``, largest first."""
    factors, rest = [], hop_length
    while rest > 1:
        factors.append(next((d for d in range(max_factor, 1, -1) if rest % d == 0), 0))
        if not factors[-1]:
            msg = f"hop_length {hop_length} has a prime factor > {max_factor} ({rest} is left)"
            raise ValueError(f"{msg}; pass upsample_factors or use a hop such as 256, 320, 480")
        rest //= factors[-1]
    if not factors:
        raise ValueError(f"hop_length must be >= 2, got {hop_length}")
    return tuple(sorted(factors, reverse=True))


@dataclass
class WaveFitConfig(Config):
    """Settings of a :class:`WaveFit`; ``tiny``/``embedded``/``full`` give the three sizes."""

    cond_dim: int = 100
    hop_length: int = 256
    sample_rate: int = 24000
    steps: int = 5
    channels: int = 256  # width at the frame rate; level i: channels / upsampling**width_decay
    width_decay: float = 0.5  # 0.5 spends about the same compute at every rate
    min_channels: int = 16  # narrowest width
    upsample_factors: tuple[int, ...] | None = None  # None: derive_factors(hop_length)
    fold: int | None = None  # hop of the waveform filterbanks; None: see max_fold
    max_fold: int = 8  # fold = largest product of trailing factors <= this (one factor is kept)
    cond_layers: int = 6  # residual convs of the conditioning encoder (run once per forward)
    cond_kernel: int = 5
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 3)  # one FiLM-modulated residual conv per entry per level
    step_dim: int = 128
    gain: str = "mel"  # "mel": match the mel's power; "peak": peak-normalize (SSL features)
    mel: MelConfig | None = None  # the log-mel the conditioning is (gain="mel")
    peak: float = 0.9
    eps: float = 1e-10
    detach_between_steps: bool = True
    # y_T with gain="mel": "griffin-lim" (phase recovered from the mel's magnitude, the default)
    # or "noise" (Gaussian noise shaped by the mel envelope, as in the paper). See initial_noise.
    # "degraded": the input recording (``forward``'s ``reference``) gain-matched, plus shaped noise
    # where the mel has energy it lacks (wavefit_stft.degraded_start); with no reference (TTS),
    # ``start_fallback``. "masked": the same, and the recording is also attenuated where it has
    # more energy than the mel (noise, reverberation), at mel resolution: a Wiener-like start.
    start: str = "griffin-lim"
    start_iterations: int = 16  # Griffin-Lim iterations (fast variant, momentum 0.99)
    start_fallback: str = "griffin-lim"
    # restoring a recording (not training, not TTS): the last output bounded by the mel once
    # more, min(1, T / D) ** final_mask at mel resolution (wavefit_stft.mel_bound); 0: off
    final_mask: float = 0.0
    fill: str = "all"  # the start's noise: "all" or "absent" (wavefit_stft.absent_bins)
    # per-step network F: "wave" (WaveFitGenerator) or "stft" (wavefit_stft.WaveFitSTFTGenerator:
    # ConvNeXt blocks over STFT frames predicting a complex mask)
    network: str = "wave"
    stft_dim: int = 192
    stft_blocks: int = 4
    stft_mult: int = 3  # MLP width of a block: stft_mult * stft_dim
    stft_kernel: int = 7  # depthwise convolution over frames
    stft_n_fft: int | None = None  # None: 4 * hop_length (Hann window, hop = hop_length)

    def __post_init__(self) -> None:
        if self.gain not in ("mel", "peak"):
            raise ValueError(f"gain must be 'mel' or 'peak', got {self.gain!r}")
        if self.start not in ("griffin-lim", "noise", "degraded", "masked"):
            raise ValueError(
                f"start must be griffin-lim, noise, degraded or masked, got {self.start!r}"
            )
        if self.start_fallback not in ("griffin-lim", "noise"):
            raise ValueError(f"start_fallback must be griffin-lim or noise: {self.start_fallback}")
        if self.fill not in ("all", "absent"):
            raise ValueError(f"fill must be 'all' or 'absent', got {self.fill!r}")
        if self.final_mask < 0 or (self.final_mask and self.gain != "mel"):
            raise ValueError(f"final_mask must be >= 0 and needs gain='mel': {self.final_mask}")
        if self.network not in ("wave", "stft"):
            raise ValueError(f"network must be 'wave' or 'stft', got {self.network!r}")
        self.stft_n_fft = self.stft_n_fft or 4 * self.hop_length
        sizes = (self.stft_dim, self.stft_blocks, self.stft_mult, self.stft_kernel)
        if min(sizes) < 1 or self.stft_kernel % 2 == 0:
            raise ValueError(f"stft_dim/blocks/mult must be >= 1, stft_kernel odd: got {sizes}")
        if self.stft_n_fft < 2 * self.hop_length or self.stft_n_fft % 2:
            raise ValueError(f"stft_n_fft must be even and >= 2 * hop, got {self.stft_n_fft}")
        if isinstance(self.mel, dict):
            self.mel = MelConfig(**self.mel)
        if self.gain == "mel":
            self.mel = self.mel or MelConfig(sample_rate=self.sample_rate)
            if (self.mel.hop_length, self.mel.n_mels) != (self.hop_length, self.cond_dim):
                m = self.mel
                raise ValueError(
                    f"gain='mel' needs hop {m.hop_length} and cond_dim == n_mels {m.n_mels}"
                )
        if self.upsample_factors is None:
            self.upsample_factors = derive_factors(self.hop_length)
        self.upsample_factors = tuple(self.upsample_factors)
        self.dilations = tuple(self.dilations)
        if math.prod(self.upsample_factors) != self.hop_length:
            raise ValueError(f"upsample_factors {self.upsample_factors} != hop {self.hop_length}")
        trailing = [math.prod(self.upsample_factors[i:]) for i in range(len(self.upsample_factors))]
        self.fold = self.fold or max(f for f in [*trailing[1:], 1] if f <= self.max_fold)
        if self.fold not in [*trailing, 1]:
            raise ValueError(f"fold {self.fold} is not one of {trailing}: trailing factor products")

    @property
    def n_up(self) -> int:
        """Upsampling blocks: the factors left once ``fold`` is taken off the end."""
        return next(n for n in range(99) if math.prod(self.upsample_factors[n:]) == self.fold)

    def widths(self) -> list[int]:
        """Channels per level: index 0 is the frame rate, the last is ``sample_rate / fold``.
        The path over ``y_t`` is half as wide (as in WaveGrad, it only has to steer FiLM)."""
        ratios = [math.prod(self.upsample_factors[:i]) for i in range(self.n_up + 1)]
        widths = [self.channels / r**self.width_decay for r in ratios]
        return [max(self.min_channels, 4 * round(w / 4)) for w in widths]

    @classmethod
    def tiny(cls, **overrides: Any) -> WaveFitConfig:
        """About 0.1M parameters: tests."""
        base = dict(channels=64, min_channels=8, cond_layers=4, cond_kernel=3, step_dim=32)
        return cls(**{**base, **overrides})

    @classmethod
    def embedded(cls, **overrides: Any) -> WaveFitConfig:
        """About 2.5M parameters: trains on CPU, the embedded default."""
        return cls(**{"max_fold": 32, **overrides})

    @classmethod
    def full(cls, **overrides: Any) -> WaveFitConfig:
        """About 12M parameters: GPU training on real corpora."""
        base = dict(channels=512, min_channels=32, cond_layers=8, dilations=(1, 2, 4, 8))
        return cls(**{**base, **overrides})


def _conv(cin: int, cout: int, kernel: int, dilation: int = 1) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class _Res(nn.Module):
    """``x + conv(act(x))``: ``(batch, channels, time)`` in and out."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.conv = _conv(channels, channels, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(_act(x))


class _UpBlock(nn.Module):
    """1x1 projection, nearest upsampling by ``factor``, FiLM-modulated residual convolutions."""

    def __init__(self, cin: int, cout: int, factor: int, kernel: int, dilations: tuple) -> None:
        super().__init__()
        self.factor, self.proj = factor, nn.Conv1d(cin, cout, 1)
        self.convs = nn.ModuleList(_conv(cout, cout, kernel, d) for d in dilations)

    def forward(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(self.proj(x), scale_factor=self.factor, mode="nearest")
        for conv in self.convs:
            x = x + conv(_act(x * scale + shift))
        return x


class WaveFitGenerator(nn.Module):
    """``F(y_t, c, t)``: WaveGrad-style noise predictor at any hop (derived factors).

    A conditioning encoder turns features into ``(batch, channels, frames)`` once per utterance;
    each step, a downsampling path over ``y_t`` ``(batch, samples)`` gives FiLM scale and shift
    (plus an iteration embedding) at every rate, which modulate upsampling blocks driven by the
    encoded conditioning. Returns the noise estimate ``(batch, samples)``. The waveform enters
    and leaves through learned filterbanks (a strided convolution with ``2 * fold`` taps, and
    ``2 * fold``-sample frames overlap-added at hop ``fold``) instead of convolutions at the
    sample rate: on CPU, narrow convolutions over every sample cost more than all the rest.
    """

    def __init__(self, config: WaveFitConfig) -> None:
        super().__init__()
        c, w, n = config, config.widths(), config.n_up
        fs, self.fold, self.step_dim = c.upsample_factors, c.fold, c.step_dim
        layers = (_Res(w[0], c.cond_kernel) for _ in range(c.cond_layers))
        self.encoder = nn.Sequential(_conv(c.cond_dim, w[0], c.cond_kernel), *layers)
        d = c.step_dim
        self.step_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        # learned analysis / synthesis filterbanks: 2 * fold taps, hop fold
        v = [max(c.min_channels // 2, x // 2) for x in w]  # widths of the path over y_t
        self.down_in = nn.Conv1d(1, v[-1], 2 * self.fold, stride=self.fold)
        self.downs = nn.ModuleList(  # (act, strided conv, residual conv) per factor
            nn.Sequential(
                nn.LeakyReLU(0.2),
                nn.Conv1d(v[i + 1], v[i], fs[i], fs[i]),
                _Res(v[i], c.kernel_size),
            )
            for i in reversed(range(n))
        )
        # FiLM per level: down-path features + step embedding -> (scale, shift)
        self.film_step = nn.ModuleList(nn.Linear(d, v[i]) for i in range(n + 1))
        self.film_out = nn.ModuleList(nn.Conv1d(v[i], 2 * w[i], 1) for i in range(n + 1))
        self.ups = nn.ModuleList(
            _UpBlock(w[i], w[i + 1], fs[i], c.kernel_size, c.dilations) for i in range(n)
        )
        self.out = nn.Conv1d(w[-1], 2 * self.fold, 1)  # overlap-added frames of 2 * fold
        # Zero-initialized: an untrained generator predicts no noise, so the output starts as the
        # gain-adjusted, mel-shaped initial noise (already mel-close) and training improves on it;
        # a random output layer starts far worse than that and CPU-length runs never recover.
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, cond_dim)`` -> ``(batch, channels, frames)``; independent of ``t``."""
        return self.encoder(features.transpose(1, 2))

    def forward(self, y: torch.Tensor, cond: torch.Tensor, t: int) -> torch.Tensor:
        """``y`` ``(batch, samples)``, ``cond`` from :meth:`encode`, ``t`` in ``T..1``."""
        table = sinusoidal_positions(t + 1, self.step_dim, y.device)[t].to(y.dtype)
        emb = self.step_mlp(table)[None].expand(y.shape[0], -1)
        left, right = self.fold // 2, self.fold - self.fold // 2
        downs = [self.down_in(F.pad(y[:, None], (left, right)))]  # (batch, v, samples / fold)
        for block in self.downs:
            downs.insert(0, block(downs[0]))  # ends with the frame rate first
        films = [
            out(_act(d + step(emb)[:, :, None])).chunk(2, dim=1)
            for step, out, d in zip(self.film_step, self.film_out, downs)
        ]
        x = cond * (1 + films[0][0]) + films[0][1]
        for up, (scale, shift) in zip(self.ups, films[1:]):
            x = up(x, 1 + scale, shift)
        frames = self.out(_act(x))  # (batch, 2 * fold, samples / fold), 50% overlap-add:
        frames = frames[:, : self.fold] + F.pad(frames[:, self.fold :, :-1], (1, 0))
        return frames.transpose(1, 2).reshape(y.shape)


class WaveFit(Vocoder):
    """WaveFit vocoder: ``(batch, frames, cond_dim)`` features -> ``(batch, frames * hop)`` wave."""

    def __init__(self, config: WaveFitConfig | None = None) -> None:
        super().__init__()
        self.config = config or WaveFitConfig()
        self.sample_rate, self.hop_length = self.config.sample_rate, self.config.hop_length
        if self.config.network == "stft":
            from fleursr.restore.wavefit_stft import WaveFitSTFTGenerator  # it builds on this one

            self.generator: nn.Module = WaveFitSTFTGenerator(self.config)
        else:
            self.generator = WaveFitGenerator(self.config)
        if self.config.gain == "mel":
            self.mel = MelSpectrogram(self.config.mel)
            fb = self.mel.fb  # (n_mels, bins): mel magnitude = fb @ linear magnitude
            # band magnitude -> per-bin magnitude of a flat band, then triangle interpolation
            rows, cols = fb.sum(dim=1).clamp_min(1e-12), fb.sum(dim=0).clamp_min(1e-12)
            interp = fb.t() / cols[:, None] / rows[None, :]  # (bins, n_mels)
            self.register_buffer("mel_to_linear", interp, persistent=False)
            # Griffin-Lim's magnitude: the filterbank's pseudo-inverse, clipped at zero
            self.register_buffer("mel_pinv", torch.linalg.pinv(fb), persistent=False)

    @property
    def mel_config(self) -> MelConfig | None:
        """The log-mel it renders (gain="mel"); ``None`` when conditioned on SSL features."""
        return self.config.mel if self.config.gain == "mel" else None

    def sample_mask(self, mask: torch.Tensor | None, wave: torch.Tensor) -> torch.Tensor:
        """``(batch, frames)`` frame mask -> ``(batch, samples)`` float sample mask."""
        if mask is None:
            return torch.ones_like(wave)
        return mask.repeat_interleave(self.hop_length, dim=1).to(wave.dtype)

    def gain_adjust(
        self, z: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``G``: ``z`` ``(batch, frames * hop)`` less its mean, rescaled per utterance, zero past
        ``mask``. gain="mel": by ``sqrt(P_c / (P_z + eps))``, so the power of ``mel(z)`` over valid
        frames is the power implied by the log-mel ``cond`` ``(batch, frames, n_mels)``.
        gain="peak": to a peak of ``config.peak`` over valid samples."""
        eps = self.config.eps
        with torch.autocast(z.device.type, enabled=False):
            keep = self.sample_mask(mask, z.float())
            z = z.float() * keep  # remove DC: the mel cannot see it, so G could not bound it
            z = (z - z.sum(dim=1, keepdim=True) / keep.sum(dim=1, keepdim=True).clamp_min(1)) * keep
            if self.config.gain == "peak":
                return z * (self.config.peak / (z.abs().amax(dim=1, keepdim=True) + eps))
            p_c = mel_power(cond.float().transpose(1, 2), mask)
            p_z = mel_power(self.mel(z)[:, :, : cond.shape[1]], mask)
            return z * torch.sqrt(p_c / (p_z + eps))[:, None]

    @property
    def uses_reference(self) -> bool:
        """Whether ``forward`` starts from a ``reference`` recording when given one."""
        return self.config.start in ("degraded", "masked")

    def initial_noise(
        self,
        features: torch.Tensor,
        generator: torch.Generator | None = None,
        reference: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``y_T`` ``(batch, frames * hop)`` before gain adjustment. gain="peak": white noise.
        gain="mel", start="noise": complex Gaussian STFT coefficients shaped by the mel envelope
        interpolated to linear frequency, inverted with the mel's own STFT settings (the paper).
        start="griffin-lim": the same random phases refined by ``start_iterations`` of fast
        Griffin-Lim against the pseudo-inverse magnitude of the mel. A departure from the paper,
        measured: on CPU training budgets the network never learned to beat shaped noise (log-mel
        distance to the clean audio ~0.74 after 1,200 steps, as untrained), while Griffin-Lim
        starts at ~0.36; the steps then only have to remove Griffin-Lim's phase artefacts.
        start="degraded": ``reference`` ``(batch, samples)`` at ``sample_rate``, the recording
        itself (see :func:`~fleursr.restore.wavefit_stft.degraded_start`); without one, the
        ``start_fallback``. start="masked": the same start, attenuated where the recording has more
        energy than the mel."""
        start = self.config.start
        if self.uses_reference and reference is not None:
            from fleursr.restore.wavefit_stft import degraded_start

            suppress = start == "masked"
            return degraded_start(self, features, reference, mask, generator, suppress=suppress)
        start = self.config.start_fallback if self.uses_reference else start
        batch, frames, _ = features.shape
        length, device = frames * self.hop_length, features.device
        if self.config.gain == "peak":
            return torch.randn(batch, length, device=device, generator=generator)
        m, c = self.config.mel, self.config
        with torch.autocast(device.type, enabled=False):
            mel = features.float().exp().transpose(1, 2)  # (batch, n_mels, frames)
            mel = torch.cat([mel, mel[:, :, -1:]], dim=2)  # centered STFT: frames + 1
            noise = torch.randn(*mel.shape[:1], self.mel_to_linear.shape[0], mel.shape[2], 2,
                                device=device, generator=generator)  # fmt: skip
            stft = mel_stft(m, device)
            if start == "noise":
                spec = torch.view_as_complex(noise) * (self.mel_to_linear @ mel) * math.sqrt(0.5)
                return torch.istft(spec, **stft, length=length)
            magnitude = (self.mel_pinv @ mel).clamp_min(0)
            angles = torch.view_as_complex(noise)
            angles = angles / angles.abs().clamp_min(1e-12)
            previous = torch.zeros_like(angles)
            for _ in range(c.start_iterations):
                wave = torch.istft(magnitude * angles, **stft, length=length)
                rebuilt = torch.stft(wave, **stft, return_complex=True)
                angles = rebuilt - (0.99 / 1.99) * previous
                angles = angles / angles.abs().clamp_min(1e-12)
                previous = rebuilt
            return torch.istft(magnitude * angles, **stft, length=length)

    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor | None = None,
        steps: int | None = None,
        return_all: bool = False,
        generator: torch.Generator | None = None,
        reference: torch.Tensor | None = None,
    ) -> torch.Tensor | list[torch.Tensor]:
        """``(batch, frames, cond_dim)`` -> wave ``(batch, frames * hop)`` (float32), zero past
        each mask; with ``return_all`` the list of the T outputs ``y_{T-1} .. y_0``.
        ``reference`` ``(batch, samples)`` at ``sample_rate``: the recording start="degraded"
        starts from (ignored by the other starts)."""
        steps = steps or self.config.steps
        y0 = self.initial_noise(features, generator, reference, mask)
        y = self.gain_adjust(y0, features, mask)
        cond = self.generator.encode(features)
        outputs = []
        for t in range(steps, 0, -1):
            z = y - self.generator(y, cond, t)
            y = self.gain_adjust(z, features, mask)
            outputs.append(y)
            if self.config.detach_between_steps:
                y = y.detach()
        if self.config.final_mask and self.uses_reference and reference is not None:
            from fleursr.restore.wavefit_stft import mel_bound

            if not self.training:  # restoring a recording
                outputs[-1] = mel_bound(self, features, outputs[-1], mask)
        return outputs if return_all else outputs[-1]
