"""WaveFit's discriminators and losses, independent of any optimizer.

Multi-period (HiFi-GAN, periods 2, 3, 5, 7, 11) and multi-resolution (UnivNet, STFT magnitude)
discriminators; least-squares adversarial, feature matching and multi-resolution STFT losses.
Waves are ``(batch, samples)``. Every discriminator returns ``(logits, feature_maps)``: a list
with one logit tensor per sub-discriminator and a list of that sub-discriminator's activations.
Default weights follow an open LibriTTS WaveFit setup: adversarial 1, feature matching 10,
spectral convergence 2.5, log magnitude 2.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from fleursr.corpus.config import Config
from fleursr.nn.spectral import stft_magnitude

STFT_RESOLUTIONS = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))
Outputs = tuple[list[torch.Tensor], list[list[torch.Tensor]]]
PRESETS = ("tiny", "cpu", "embedded", "full")  # the DiscriminatorConfig classmethods


@dataclass
class DiscriminatorConfig(Config):
    """Periods and widths of the multi-period discriminator (HiFi-GAN: strides 3 then 1) and
    ``(n_fft, hop, win)`` resolutions and width of the multi-resolution one (UnivNet)."""

    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_channels: tuple[int, ...] = (32, 64, 128, 256)
    resolutions: tuple[tuple[int, int, int], ...] = (
        (1024, 120, 600),
        (2048, 240, 1200),
        (512, 50, 240),
    )
    resolution_channels: int = 32
    # frequency stride of the first three resolution layers: 1 keeps every bin (UnivNet);
    # 2 halves the bins at each of them, 1/8 of the cost (the ``cpu`` preset)
    resolution_freq_stride: int = 1

    def __post_init__(self) -> None:
        self.periods, self.period_channels = tuple(self.periods), tuple(self.period_channels)
        self.resolutions = tuple(tuple(r) for r in self.resolutions)

    @classmethod
    def tiny(cls, **overrides: Any) -> DiscriminatorConfig:
        """About 8k parameters: tests."""
        return cls(**{"period_channels": (4, 8, 16), "resolution_channels": 4, **overrides})

    @classmethod
    def embedded(cls, **overrides: Any) -> DiscriminatorConfig:
        """About 1.3M parameters: CPU training."""
        return cls(**overrides)

    @classmethod
    def cpu(cls, **overrides: Any) -> DiscriminatorConfig:
        """About 0.1M parameters, 1/20 of ``embedded``'s multiply-adds: adversarial training on CPU.
        Three periods, narrow period convs, STFT resolutions at hop = window / 4, bins halved
        at each of the first three resolution layers."""
        base = dict(periods=(2, 3, 5), period_channels=(16, 32, 64, 64), resolution_channels=16,
                    resolutions=((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048)),
                    resolution_freq_stride=2)  # fmt: skip
        return cls(**{**base, **overrides})

    @classmethod
    def full(cls, **overrides: Any) -> DiscriminatorConfig:
        """About 16M parameters (HiFi-GAN's period widths)."""
        return cls(
            **{"period_channels": (32, 128, 512, 1024), "resolution_channels": 64, **overrides}
        )


class PeriodDiscriminator(nn.Module):
    """Folds ``(batch, samples)`` into ``(batch, 1, samples / period, period)``, 2-D convs."""

    def __init__(self, period: int, channels: Sequence[int]) -> None:
        super().__init__()
        self.period, cin, layers = period, 1, []
        for i, cout in enumerate(channels):
            stride = 3 if i < len(channels) - 1 else 1
            layers.append(weight_norm(nn.Conv2d(cin, cout, (5, 1), (stride, 1), (2, 0))))
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.post = weight_norm(nn.Conv2d(cin, 1, (3, 1), padding=(1, 0)))

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = F.pad(wave, (0, -wave.shape[-1] % self.period), mode="reflect")
        x = x.view(x.shape[0], 1, -1, self.period)
        fmaps = []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.1)
            fmaps.append(x)
        x = self.post(x)
        fmaps.append(x)
        return x.flatten(1), fmaps


class ResolutionDiscriminator(nn.Module):
    """2-D convs over one STFT magnitude ``(batch, 1, bins, frames)``."""

    def __init__(self, resolution: tuple[int, int, int], channels: int, freq_stride: int = 1):
        super().__init__()
        self.resolution, c, f = resolution, channels, freq_stride
        self.layers = nn.ModuleList(
            weight_norm(nn.Conv2d(cin, c, k, s, p))
            for cin, k, s, p in [
                (1, (3, 9), (f, 1), (1, 4)),
                (c, (3, 9), (f, 2), (1, 4)),
                (c, (3, 9), (f, 2), (1, 4)),
                (c, (3, 3), 1, (1, 1)),
            ]
        )
        self.post = weight_norm(nn.Conv2d(c, 1, (3, 3), padding=(1, 1)))

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        n_fft, hop, win = self.resolution
        x = stft_magnitude(wave.float(), n_fft, hop, win)[:, None]
        fmaps = []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.1)
            fmaps.append(x)
        x = self.post(x)
        fmaps.append(x)
        return x.flatten(1), fmaps


class _Multi(nn.Module):
    discriminators: nn.ModuleList

    def forward(self, wave: torch.Tensor) -> Outputs:
        """``(batch, samples)`` -> a logit tensor and a feature-map list per sub-discriminator."""
        outs = [d(wave.float()) for d in self.discriminators]
        return [o[0] for o in outs], [o[1] for o in outs]


class MultiPeriodDiscriminator(_Multi):
    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        c = config or DiscriminatorConfig()
        self.discriminators = nn.ModuleList(
            PeriodDiscriminator(p, c.period_channels) for p in c.periods
        )


class MultiResolutionDiscriminator(_Multi):
    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        c = config or DiscriminatorConfig()
        self.discriminators = nn.ModuleList(
            ResolutionDiscriminator(tuple(r), c.resolution_channels, c.resolution_freq_stride)
            for r in c.resolutions
        )


class WaveFitDiscriminator(_Multi):
    """Multi-period and multi-resolution discriminators together (one optimizer target)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DiscriminatorConfig()
        self.mpd = MultiPeriodDiscriminator(self.config)
        self.mrd = MultiResolutionDiscriminator(self.config)

    def forward(self, wave: torch.Tensor) -> Outputs:
        (lp, fp), (lr, fr) = self.mpd(wave), self.mrd(wave)
        return lp + lr, fp + fr


@dataclass
class LossWeights:
    adversarial: float = 1.0
    feature_matching: float = 10.0
    spectral_convergence: float = 2.5
    log_magnitude: float = 2.5


def multi_resolution_stft_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    resolutions: Sequence[tuple[int, int, int]] = STFT_RESOLUTIONS,
    floor: float = 1e-5,
    cutoff_hz: torch.Tensor | None = None,
    sample_rate: int = 24000,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(batch, samples)`` pair -> (spectral convergence, log-magnitude L1), each averaged over
    ``(n_fft, hop, win)`` resolutions. Magnitudes are floored at ``floor`` before the log so
    digital silence does not dominate. ``cutoff_hz`` ``(batch,)``: per item, bins above it (at
    ``sample_rate``) count in neither term, e.g. above the band a 16 kHz source ever had."""
    sc, log_mag = pred.new_zeros((), dtype=torch.float32), pred.new_zeros((), dtype=torch.float32)
    for n_fft, hop, win in resolutions:
        p = stft_magnitude(pred.float(), n_fft, hop, win)
        t = stft_magnitude(target.float(), n_fft, hop, win)
        diff = (p.clamp_min(floor).log() - t.clamp_min(floor).log()).abs()
        if cutoff_hz is None:
            norm = t.pow(2).sum(dim=(1, 2)).add(1e-12).sqrt()
            sc = sc + ((t - p).pow(2).sum(dim=(1, 2)).add(1e-12).sqrt() / norm).mean()
            log_mag = log_mag + diff.mean()
            continue
        freqs = torch.arange(t.shape[1], device=t.device) * (sample_rate / n_fft)
        keep = (freqs[None, :] <= cutoff_hz.to(t.device).float()[:, None]).float()[:, :, None]
        norm = (keep * t.pow(2)).sum(dim=(1, 2)).add(1e-12).sqrt()
        sc = sc + ((keep * (t - p).pow(2)).sum(dim=(1, 2)).add(1e-12).sqrt() / norm).mean()
        log_mag = log_mag + (keep * diff).sum() / (keep.sum() * t.shape[2]).clamp_min(1)
    return sc / len(resolutions), log_mag / len(resolutions)


def adversarial_generator_loss(fake_logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """Least squares, mean over sub-discriminators: ``mean((1 - D(fake))^2)``."""
    return torch.stack([(1 - x).pow(2).mean() for x in fake_logits]).mean()


def adversarial_discriminator_loss(
    real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Least squares: ``mean((1 - D(real))^2) + mean(D(fake)^2)``, mean over sub-discriminators."""
    losses = [(1 - r).pow(2).mean() + f.pow(2).mean() for r, f in zip(real_logits, fake_logits)]
    return torch.stack(losses).mean()


def feature_matching_loss(
    real_fmaps: Sequence[Sequence[torch.Tensor]], fake_fmaps: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    """L1 between real (detached) and fake activations, mean over every feature map."""
    losses = [
        (r.detach() - f).abs().mean()
        for rs, fs in zip(real_fmaps, fake_fmaps)
        for r, f in zip(rs, fs)
    ]
    return torch.stack(losses).mean()


def _match(target: torch.Tensor, length: int) -> torch.Tensor:
    """Crop or zero-pad ``(batch, samples)`` to ``length`` samples."""
    return (
        F.pad(target, (0, length - target.shape[-1]))
        if target.shape[-1] < length
        else target[:, :length]
    )


def _judge(discriminators: nn.Module | Sequence[nn.Module], wave: torch.Tensor) -> Outputs:
    """Run one discriminator module or a sequence of them; their outputs are concatenated."""
    if isinstance(discriminators, nn.Module) and not isinstance(discriminators, nn.ModuleList):
        return discriminators(wave)
    outs = [d(wave) for d in discriminators]
    return [x for o in outs for x in o[0]], [x for o in outs for x in o[1]]


def generator_loss(
    vocoder: nn.Module,
    discriminators: nn.Module | Sequence[nn.Module] | None,
    features: torch.Tensor,
    mask: torch.Tensor | None,
    target: torch.Tensor,
    outputs: list[torch.Tensor] | None = None,
    weights: LossWeights | None = None,
    generator: torch.Generator | None = None,
    band_hz: torch.Tensor | None = None,
    judged: int | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """WaveFit generator loss, averaged over every intermediate output (all T run as one batch).

    ``features`` ``(batch, frames, dim)``, ``mask`` ``(batch, frames)``, ``target`` ``(batch,
    samples)`` (cropped or zero-padded to ``frames * hop`` and zeroed past the mask). Pass
    ``outputs`` (``vocoder(..., return_all=True)``) to share one forward pass with the
    discriminator step; ``discriminators=None`` trains on the STFT terms alone (warm-up).
    ``band_hz`` ``(batch,)``: the STFT terms ignore bins above it (the target's real band).
    ``judged``: the adversarial and feature-matching terms see only the last ``judged``
    outputs (default all; 1 on a CPU budget: the discriminators cost more than the generator).
    """
    w = weights or LossWeights()
    if outputs is None:
        outputs = vocoder(features, mask, return_all=True, generator=generator)
    target = _match(target.float(), outputs[-1].shape[-1]) * vocoder.sample_mask(mask, outputs[-1])
    fake, steps = torch.cat(outputs).float(), len(outputs)  # (steps * batch, samples)
    cutoff = None if band_hz is None else band_hz.repeat(steps)
    sc, log_mag = multi_resolution_stft_loss(fake, target.repeat(steps, 1), cutoff_hz=cutoff,
                                             sample_rate=vocoder.sample_rate)  # fmt: skip
    adv = fm = target.new_zeros(())
    if discriminators is not None:
        with torch.no_grad():
            _, real_maps = _judge(discriminators, target)
        judged = steps if judged is None else max(1, min(judged, steps))
        logits, maps = _judge(discriminators, torch.cat(outputs[steps - judged :]).float())
        real_maps = [[r.repeat(judged, *[1] * (r.dim() - 1)) for r in rs] for rs in real_maps]
        adv, fm = adversarial_generator_loss(logits), feature_matching_loss(real_maps, maps)
    total = (
        w.spectral_convergence * sc
        + w.log_magnitude * log_mag
        + w.adversarial * adv
        + w.feature_matching * fm
    )
    logs = {"sc": sc, "log_mag": log_mag, "adv": adv, "fm": fm, "g_total": total}
    return total, {k: float(v.detach()) for k, v in logs.items()}


def discriminator_loss(
    discriminators: nn.Module | Sequence[nn.Module],
    fake_list: Sequence[torch.Tensor],
    target: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Least-squares discriminator loss, averaged over the intermediate outputs ``fake_list``
    (each ``(batch, samples)``, detached here); ``target`` is matched to their length. Real and
    fake clips go through the discriminators as one batch."""
    target = _match(target.float(), fake_list[-1].shape[-1])
    batch = target.shape[0]
    logits, _ = _judge(
        discriminators, torch.cat([target, *[f.detach().float() for f in fake_list]])
    )
    real, fake = [x[:batch] for x in logits], [x[batch:] for x in logits]
    total = adversarial_discriminator_loss(real, fake)
    return total, {"d_total": float(total.detach())}
