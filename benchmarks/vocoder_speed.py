"""Inference speed of the WaveFit vocoder sizes, and of WaveFit against Vocos and HiFi-GAN V1.

Sizes: each WaveFit size (tiny, embedded, full) runs with 24 kHz log-mel conditioning (hop 256,
mel gain) and with SSL-like conditioning (1024-d features at 50 Hz, hop 480, peak gain), at 5
and 3 iterations.

Peers (``--peers``, the default): on the same input, the project's 24 kHz log-mel (100 bins,
n_fft 1024, hop 256: ``fleursr.nn.spectral.MelConfig``, read from the WaveFit built here):

- ``wavefit engine``: the vocoder of the shipped engine restorer, as ``recipes/engine.yaml``
  builds it (embedded size, STFT-domain network, 3 steps, starting from the input recording:
  a random 24 kHz "recording" is passed as that reference);
- ``wavefit full``: the full restorer's WaveFit settings (``restorer_config("full")``: full
  size, 5 steps, waveform network), here on the log-mel instead of the full restorer's SSL
  features so that every vocoder gets the same input (the SSL-conditioned full size is in the
  sizes table);
- ``vocos``: Vocos (Siuzdak, 2023) as published for 24 kHz mel input (``vocos-mel-24khz``):
  a ConvNeXt backbone (embedding Conv1d k=7 from 100 mel channels, dim 512, intermediate 1536,
  8 blocks with layer scale 1/8) and an ISTFT head (n_fft 1024, hop 256, "same" padding), about
  13.5M parameters. Its published mel is this project's mel, so nothing is changed. The PyPI
  package ``vocos`` 0.1.0 is not used: its ``__init__`` and ``vocos.heads`` import torchaudio
  (and ``encodec``), which do not load with this project's torch, so :class:`Vocos` below is
  written here from the published configuration;
- ``hifigan v1``: HiFi-GAN V1 (Kong et al., 2020), written here from the published V1
  configuration (upsample rates 8, 8, 2, 2 and kernels 16, 16, 4, 4 from 512 channels; "1"
  residual blocks with kernels 3, 7, 11 and dilations 1, 3, 5; leaky ReLU 0.1; tanh). Its
  upsampling, 256, is the mel hop, so the rates are unchanged; the input layer takes 100 mel
  bins instead of the published 80 (+71,680 parameters over the published 13.92M; the 80-bin
  count is printed as a check) and it runs at 24 kHz instead of 22.05 kHz (same network).

Peers have random weights (speed does not depend on them). x real time = seconds of audio out
per second of wall time, from the fastest timed run after one warm-up run (as timeit advises:
on a shared machine the slower runs measure the neighbours), on batches of 1 and 8 clips of 2 s.
CPU always (torch's default thread count, or ``--threads``); CUDA too when present, under bf16
autocast. Prints tables and writes JSON: size rows have ``kind: "size"``, peer rows
``kind: "peer"`` and a ``vocoder`` name.

    .venv/bin/python benchmarks/vocoder_speed.py [--seconds 2] [--repeats 5] [--sizes tiny ...]
        [--no-peers]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from results_io import write_result
from timing import best_wall
from torch import nn

from fleursr.restore.base import OUTPUT_SAMPLE_RATE
from fleursr.restore.config import restorer_config
from fleursr.restore.features import MelFeatures
from fleursr.restore.model import build_vocoder
from fleursr.restore.wavefit import WaveFit, WaveFitConfig

CONDITIONING = {
    "mel": {},
    "ssl": {"cond_dim": 1024, "hop_length": 480, "gain": "peak"},
}
ENGINE_RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "engine.yaml"
HIFIGAN_V1_PUBLISHED_PARAMS = 13.92e6  # Kong et al. (2020), table 1


def x_real_time(
    run: Callable[[], object], audio_seconds: float, device: str, repeats: int
) -> float:
    """``audio_seconds`` over the fastest of ``repeats`` timed calls of ``run`` after one
    warm-up call, under inference mode and, on CUDA, bf16 autocast."""
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    with torch.inference_mode(), autocast:
        return audio_seconds / best_wall(run, repeats, device == "cuda")


def log_mel_input(batch: int, frames: int, dim: int, device: str) -> torch.Tensor:
    """Random ``(batch, frames, dim)`` features in a plausible log-mel range."""
    return torch.randn(batch, frames, dim, device=device) - 4.0


def time_vocoder(
    vocoder: WaveFit, batch: int, seconds: float, steps: int, device: str, repeats: int
) -> float:
    """x real time of ``vocoder`` on ``batch`` clips of ``seconds`` at ``steps`` iterations; a
    vocoder that starts from the input recording gets a random one as ``reference``."""
    c = vocoder.config
    frames = int(seconds * c.sample_rate) // c.hop_length
    features = log_mel_input(batch, frames, c.cond_dim, device)
    if c.gain != "mel":
        features = features + 4.0  # SSL-like features: zero mean
    reference = None
    if vocoder.uses_reference:
        reference = 0.1 * torch.randn(batch, frames * c.hop_length, device=device)
    generator = torch.Generator(device=device).manual_seed(0)

    def run() -> torch.Tensor:
        return vocoder(features, steps=steps, generator=generator, reference=reference)

    return x_real_time(run, batch * frames * c.hop_length / c.sample_rate, device, repeats)


# ----------------------------------------------------------------------------------- peers
class _ConvNeXtBlock(nn.Module):
    """Vocos' block: depthwise conv k=7, LayerNorm, MLP (GELU), layer scale, residual;
    ``(batch, dim, frames)`` in and out."""

    def __init__(self, dim: int, intermediate: int, layer_scale: float) -> None:
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.up, self.down = nn.Linear(dim, intermediate), nn.Linear(intermediate, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down(F.gelu(self.up(self.norm(self.dw(x).transpose(1, 2)))))
        return x + (self.gamma * h).transpose(1, 2)


class Vocos(nn.Module):
    """Vocos generator (see the module docstring): log-mel ``(batch, frames, n_mels)`` ->
    wave ``(batch, frames * hop_length)``. The head predicts log-magnitude and phase per bin;
    the inverse STFT is an overlap-add of windowed inverse FFTs trimmed by ``(n_fft - hop) / 2``
    at each end ("same" padding, as Vocos does: ``torch.istft`` allows only centered frames)."""

    def __init__(
        self,
        n_mels: int = 100,
        dim: int = 512,
        intermediate: int = 1536,
        layers: int = 8,
        n_fft: int = 1024,
        hop_length: int = 256,
    ) -> None:
        super().__init__()
        if (n_fft - hop_length) % 2:
            raise ValueError(f"n_fft - hop_length must be even, got {n_fft} - {hop_length}")
        self.n_mels, self.n_fft, self.hop_length = n_mels, n_fft, hop_length
        self.embed = nn.Conv1d(n_mels, dim, 7, padding=3)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.Sequential(
            *(_ConvNeXtBlock(dim, intermediate, 1.0 / layers) for _ in range(layers))
        )
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, n_fft + 2)  # log-magnitude and phase of n_fft / 2 + 1 bins
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.embed(mel.transpose(1, 2)).transpose(1, 2)).transpose(1, 2)
        x = self.head(self.final_norm(self.blocks(x).transpose(1, 2)))  # (batch, frames, n_fft+2)
        with torch.autocast(mel.device.type, enabled=False):
            log_mag, phase = x.float().transpose(1, 2).chunk(2, dim=1)
            return self.istft(torch.polar(log_mag.exp().clamp(max=1e2), phase))

    def istft(self, spec: torch.Tensor) -> torch.Tensor:
        """``(batch, n_fft / 2 + 1, frames)`` complex -> ``(batch, frames * hop_length)``."""
        frames, hop, n_fft = spec.shape[-1], self.hop_length, self.n_fft
        size, pad = (frames - 1) * hop + n_fft, (n_fft - hop) // 2

        def overlap_add(x: torch.Tensor) -> torch.Tensor:
            out = F.fold(x, (1, size), kernel_size=(1, n_fft), stride=(1, hop))
            return out[:, 0, 0, pad:-pad]

        wave = torch.fft.irfft(spec, n_fft, dim=1) * self.window[:, None]
        envelope = overlap_add(self.window.square()[None, :, None].expand(1, -1, frames))
        return overlap_add(wave) / envelope


class _HiFiResBlock1(nn.Module):
    """HiFi-GAN's residual block "1": per dilation, leaky ReLU, dilated conv, leaky ReLU, conv."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        pad = kernel - 1
        self.dilated = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * pad // 2)
            for d in dilations
        )
        self.plain = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=pad // 2) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.dilated, self.plain):
            x = x + plain(F.leaky_relu(dilated(F.leaky_relu(x, 0.1)), 0.1))
        return x


class HiFiGANV1(nn.Module):
    """HiFi-GAN V1 generator (see the module docstring): log-mel ``(batch, frames, n_mels)`` ->
    wave ``(batch, frames * prod(upsample_rates))``. Weight normalization, a training-time
    reparametrization removed for inference, is left out."""

    def __init__(
        self,
        n_mels: int = 100,
        channels: int = 512,
        upsample_rates: tuple[int, ...] = (8, 8, 2, 2),
        upsample_kernels: tuple[int, ...] = (16, 16, 4, 4),
        resblock_kernels: tuple[int, ...] = (3, 7, 11),
        resblock_dilations: tuple[int, ...] = (1, 3, 5),
    ) -> None:
        super().__init__()
        self.n_mels, self.hop_length = n_mels, math.prod(upsample_rates)
        widths = [channels // 2**i for i in range(len(upsample_rates) + 1)]
        self.conv_pre = nn.Conv1d(n_mels, channels, 7, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(widths[i], widths[i + 1], k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernels))
        )
        self.resblocks = nn.ModuleList(
            nn.ModuleList(_HiFiResBlock1(w, k, resblock_dilations) for k in resblock_kernels)
            for w in widths[1:]
        )
        self.conv_post = nn.Conv1d(widths[-1], 1, 7, padding=3)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel.transpose(1, 2))
        for up, blocks in zip(self.ups, self.resblocks):
            x = up(F.leaky_relu(x, 0.1))
            x = sum(block(x) for block in blocks) / len(blocks)
        # the published generator's last activation has torch's default slope, 0.01
        return torch.tanh(self.conv_post(F.leaky_relu(x))).squeeze(1)


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def restorer_wavefit(config_name: str | Path, tiny: bool = False) -> WaveFit:
    """The WaveFit a :class:`~fleursr.restore.model.Restorer` builds from ``config_name`` (a
    size or a recipe file), on the project's 24 kHz log-mel; ``tiny``: at the tiny size."""
    config = restorer_config(str(config_name))
    if tiny:
        config.vocoder = {**config.vocoder, "size": "tiny"}
    return build_vocoder(MelFeatures(), config, OUTPUT_SAMPLE_RATE)


def peer_vocoders(tiny: bool = False) -> dict[str, tuple[nn.Module, str]]:
    """``name -> (vocoder, the configuration it is built from)`` for the peers table, random
    weights, all taking the project's log-mel; ``tiny``: the same code at toy widths (tests)."""
    torch.manual_seed(0)
    engine = restorer_wavefit(ENGINE_RECIPE, tiny)
    full = restorer_wavefit("full", tiny)
    mel = engine.config.mel
    if mel is None:
        raise ValueError("the engine's vocoder is not conditioned on a log-mel")
    if mel.hop_length != 256:
        raise ValueError(f"HiFi-GAN V1's upsampling (256) does not match hop {mel.hop_length}")
    vocos = dict(dim=32, intermediate=96, layers=2) if tiny else {}
    published = "tiny" if tiny else "published"
    return {
        "wavefit engine": (engine, "recipes/engine.yaml" + (", tiny" if tiny else "")),
        "wavefit full": (full, "full" + (", tiny" if tiny else "")),
        "vocos": (Vocos(mel.n_mels, n_fft=mel.n_fft, hop_length=mel.hop_length, **vocos),
                  published),
        "hifigan v1": (HiFiGANV1(mel.n_mels, channels=16 if tiny else 512), published),
    }  # fmt: skip


def time_peer(vocoder: nn.Module, batch: int, seconds: float, device: str, repeats: int) -> float:
    """x real time of one peer on ``batch`` log-mel clips of ``seconds`` (WaveFit: at its
    configured step count)."""
    if isinstance(vocoder, WaveFit):
        return time_vocoder(vocoder, batch, seconds, vocoder.config.steps, device, repeats)
    frames = int(seconds * OUTPUT_SAMPLE_RATE) // vocoder.hop_length
    mel = log_mel_input(batch, frames, vocoder.n_mels, device)
    audio = batch * frames * vocoder.hop_length / OUTPUT_SAMPLE_RATE
    return x_real_time(lambda: vocoder(mel), audio, device, repeats)


def peer_rows(
    devices: list[str],
    seconds: float,
    batches: list[int],
    repeats: int,
    slow_repeats: int,
    tiny: bool = False,
) -> list[dict]:
    """Time every peer on every device and batch; print and return the rows. On CPU the slow
    peers (full WaveFit, HiFi-GAN) take ``slow_repeats`` timed runs instead of ``repeats``.
    HiFi-GAN rows also carry the parameter count at the published 80 mel bins, a check of the
    architecture against the paper's 13.92M."""
    hifigan_80 = num_params(HiFiGANV1(n_mels=80))
    print(f"HiFi-GAN V1 as published (80 mel bins): {hifigan_80 / 1e6:.2f}M parameters "
          f"(paper: {HIFIGAN_V1_PUBLISHED_PARAMS / 1e6:.2f}M)")  # fmt: skip
    print(f"{'device':<8}{'vocoder':<16}{'params':>12}{'steps':>6}{'batch':>6}"
          f"{'x real time':>13}{'RTF':>10}")  # fmt: skip
    rows = []
    for device in devices:
        for name, (vocoder, config) in peer_vocoders(tiny).items():
            vocoder = vocoder.to(device).eval()
            params = num_params(vocoder)
            steps = vocoder.config.steps if isinstance(vocoder, WaveFit) else None
            slow = device == "cpu" and name in ("wavefit full", "hifigan v1")
            for batch in batches:
                speed = time_peer(vocoder, batch, seconds, device,
                                  slow_repeats if slow else repeats)  # fmt: skip
                row = {"device": device, "kind": "peer", "vocoder": name, "config": config,
                       "conditioning": "mel", "hop_length": vocoder.hop_length,
                       "params": params, "steps": steps, "batch": batch,
                       "x_real_time": speed, "rtf": 1.0 / speed}  # fmt: skip
                if name == "hifigan v1":
                    row["params_at_80_mels"] = hifigan_80
                rows.append(row)
                print(f"{device:<8}{name:<16}{params:>12,}{steps or '-':>6}{batch:>6}"
                      f"{speed:>13.1f}{1.0 / speed:>10.4f}", flush=True)  # fmt: skip
            del vocoder
    return rows


def size_rows(
    devices: list[str],
    sizes: list[str],
    seconds: float,
    batches: list[int],
    steps_list: list[int],
    repeats: int,
    full_repeats: int,
) -> list[dict]:
    """Time every WaveFit size x conditioning x steps x batch; print and return the rows."""
    header = f"{'device':<8}{'size':<10}{'cond':<6}{'params':>12}{'steps':>6}{'batch':>6}"
    print(f"{header}{'x real time':>13}{'RTF':>10}")
    rows = []
    for device in devices:
        for size in sizes:
            for cond, overrides in CONDITIONING.items():
                torch.manual_seed(0)
                vocoder = WaveFit(getattr(WaveFitConfig, size)(**overrides)).to(device).eval()
                params = num_params(vocoder)
                reps = full_repeats if size == "full" and device == "cpu" else repeats
                for steps in steps_list:
                    for batch in batches:
                        speed = time_vocoder(vocoder, batch, seconds, steps, device, reps)
                        row = {
                            "device": device,
                            "kind": "size",
                            "size": size,
                            "conditioning": cond,
                            "hop_length": vocoder.hop_length,
                            "fold": vocoder.config.fold,
                            "params": params,
                            "steps": steps,
                            "batch": batch,
                            "x_real_time": speed,
                            "rtf": 1.0 / speed,
                        }
                        rows.append(row)
                        print(
                            f"{device:<8}{size:<10}{cond:<6}{params:>12,}{steps:>6}{batch:>6}"
                            f"{speed:>13.1f}{1.0 / speed:>10.4f}",
                            flush=True,
                        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--full-repeats", type=int, default=2, help="timed runs of full WaveFit, HiFi-GAN on CPU"
    )
    parser.add_argument(
        "--sizes", nargs="*", default=["tiny", "embedded", "full"],
        help="WaveFit sizes to time; none: skip the sizes table",
    )  # fmt: skip
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--steps", nargs="+", type=int, default=[5, 3])
    parser.add_argument(
        "--peers", action=argparse.BooleanOptionalAction, default=True,
        help="also WaveFit (engine, full) against Vocos and HiFi-GAN V1",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--out", default="benchmarks/results/vocoder_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = size_rows(devices, args.sizes, args.seconds, args.batches, args.steps, args.repeats,
                     args.full_repeats)  # fmt: skip
    if args.peers:
        rows += peer_rows(devices, args.seconds, args.batches, args.repeats, args.full_repeats)
    write_result(
        args.out,
        "vocoder_speed",
        rows,
        seconds_each=args.seconds,
        repeats=args.repeats,
        full_repeats_cpu=args.full_repeats,
    )


if __name__ == "__main__":
    main()
