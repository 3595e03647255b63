"""Band-limiting, clipping, packet loss and gain, plus the sampling helpers shared by all kinds.

Every function takes a mono wave of shape ``(n,)`` (float, nominally in [-1, 1]) and returns a
float64 wave of the same shape; the chain casts the final result to float32.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soxr
from scipy import signal


def rms(wave: np.ndarray) -> float:
    """Root mean square of a wave of shape (n,); 0.0 for an empty wave."""
    return float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) if wave.size else 0.0


def draw(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    """Uniform draw from the closed range ``bounds = (low, high)``; ``low == high`` is allowed."""
    low, high = (float(b) for b in bounds)
    if low > high:
        raise ValueError(f"range {tuple(bounds)} is reversed")
    return float(rng.uniform(low, high)) if high > low else low


def weighted_choice(
    rng: np.random.Generator, weights: Mapping[str, float], allowed: Collection[str] | None = None
) -> str:
    """Pick one key of ``weights`` with probability proportional to its (positive) weight.

    Keys with weight <= 0 or not in ``allowed`` (when given) are never picked.
    """
    names = [k for k, w in weights.items() if w > 0 and (allowed is None or k in allowed)]
    if not names:
        raise ValueError(f"no candidate with positive weight among {sorted(weights)}")
    p = np.array([weights[k] for k in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def complete_weights(owner: object, attribute: str, names: Sequence[str]) -> None:
    """Give the weight dict ``owner.<attribute>`` every key of ``names`` (missing ones at 0.0).

    Used by the frozen config dataclasses in ``__post_init__``, so that a config written out with
    ``to_dict`` lists every candidate; unknown keys raise ValueError.
    """
    weights = getattr(owner, attribute)
    unknown = set(weights) - set(names)
    if unknown:
        raise ValueError(f"unknown {attribute} {sorted(unknown)}; known: {list(names)}")
    object.__setattr__(owner, attribute, {k: float(weights.get(k, 0.0)) for k in names})


def lowpass(wave: np.ndarray, sr: int, cutoff_hz: float, stop_db: float = 60.0) -> np.ndarray:
    """Zero-phase Chebyshev-II low-pass: >= ``stop_db`` attenuation from ``cutoff_hz`` upwards.

    The passband ends at 0.9 * cutoff (1 dB ripple); ``sosfiltfilt`` doubles the attenuation.
    """
    nyquist = sr / 2.0
    if not 0.0 < cutoff_hz < nyquist:
        raise ValueError(f"cutoff {cutoff_hz} Hz must lie in (0, {nyquist}) Hz")
    if wave.size == 0:
        return np.zeros(0)
    order, wn = signal.cheb2ord(0.9 * cutoff_hz / nyquist, cutoff_hz / nyquist, 1.0, stop_db)
    sos = signal.cheby2(order, stop_db, wn, btype="low", output="sos")
    padlen = min(3 * (2 * len(sos) + 1), max(wave.size - 1, 0))
    return signal.sosfiltfilt(sos, np.asarray(wave, dtype=np.float64), padlen=padlen)


def fit_length(wave: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad ``wave`` at the end to exactly ``n`` samples."""
    return wave[:n] if wave.size >= n else np.pad(wave, (0, n - wave.size))


def resample_through(wave: np.ndarray, sr: int, low_sr: int) -> np.ndarray:
    """Resample down to ``low_sr`` and back with soxr (band limit at ``low_sr / 2``)."""
    x = np.asarray(wave, dtype=np.float64)
    down = soxr.resample(x, sr, low_sr)
    return fit_length(soxr.resample(down, low_sr, sr), x.size)


def clip_at_quantile(wave: np.ndarray, quantile: float) -> tuple[np.ndarray, float]:
    """Hard-clip at the ``quantile`` (0..1) of ``|wave|``; returns (clipped wave, threshold).

    The threshold is an actual sample magnitude (``method="lower"``), so the output peak is
    bounded by it exactly, whatever the dtype.
    """
    x = np.asarray(wave, dtype=np.float64)
    threshold = float(np.quantile(np.abs(x), quantile, method="lower")) if x.size else 0.0
    return np.clip(x, -threshold, threshold), threshold


def packet_loss_mask(
    n_packets: int, rng: np.random.Generator, loss_rate: float, max_burst: int, mean_burst: float
) -> np.ndarray:
    """Boolean mask (n_packets,) with round(loss_rate * n_packets) lost packets in bursts.

    Burst lengths follow a geometric law of mean ``mean_burst`` truncated to ``max_burst``;
    bursts are placed at random and separated by at least one received packet, so no run of
    lost packets is longer than ``max_burst``. ``loss_rate`` must lie in [0, 0.5].
    """
    if not 0.0 <= loss_rate <= 0.5:
        raise ValueError(f"loss rate {loss_rate} outside [0, 0.5]")
    n_lost = int(round(loss_rate * n_packets))
    lengths: list[int] = []
    while sum(lengths) < n_lost:
        burst = min(int(rng.geometric(1.0 / max(mean_burst, 1.0))), max_burst)
        lengths.append(min(burst, n_lost - sum(lengths)))
    slots = np.sort(rng.choice(n_packets - n_lost + 1, size=len(lengths), replace=False))
    mask = np.zeros(n_packets, dtype=bool)
    lost_before = 0
    for slot, length in zip(slots, lengths):
        mask[slot + lost_before : slot + lost_before + length] = True
        lost_before += length
    return mask


def drop_packets(wave: np.ndarray, sr: int, mask: np.ndarray, packet_ms: float) -> np.ndarray:
    """Zero the samples of every packet flagged in ``mask`` (packets of ``packet_ms`` ms)."""
    x = np.array(wave, dtype=np.float64)
    size = max(int(round(sr * packet_ms / 1000.0)), 1)
    for index in np.flatnonzero(mask):
        x[index * size : (index + 1) * size] = 0.0
    return x


def apply_gain_db(wave: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale by ``gain_db`` decibels and hard-clip at full scale (+-1.0) like a recorder."""
    return np.clip(np.asarray(wave, dtype=np.float64) * 10.0 ** (gain_db / 20.0), -1.0, 1.0)


@dataclass(frozen=True)
class BandLimitConfig:
    """Band-limiting. ``methods``: weights of "lowpass" (Chebyshev-II, >= 60 dB stopband) and
    "resample" (soxr through a lower rate). ``cutoff_hz``: low-pass cutoff range, default
    2000..7000 Hz (FIELD_NOTES: 2..7 kHz), capped at 0.45 * sr. ``resample_rates``: candidate
    intermediate rates; only those below the input rate are used, else "lowpass" is used."""

    methods: dict[str, float] = field(default_factory=lambda: {"lowpass": 1.0, "resample": 1.0})
    cutoff_hz: tuple[float, float] = (2000.0, 7000.0)
    resample_rates: tuple[int, ...] = (8000, 11025, 16000, 22050)

    def __post_init__(self) -> None:
        complete_weights(self, "methods", ("lowpass", "resample"))


@dataclass(frozen=True)
class PacketLossConfig:
    """Packet loss: ``loss_rate`` 0.05..0.25 of ``packet_ms`` = 20 ms packets, bursts of mean
    length drawn from ``mean_burst`` (packets) and at most ``max_burst`` = 10 packets."""

    loss_rate: tuple[float, float] = (0.05, 0.25)
    mean_burst: tuple[float, float] = (1.0, 3.0)
    max_burst: int = 10
    packet_ms: float = 20.0


@dataclass(frozen=True)
class ClippingConfig:
    """Clipping at a threshold equal to the ``quantile`` of |x|, default 0.85..0.99 (1..15% of
    samples clipped; FIELD_NOTES: quantile 0.9..1 or 0.01..0.25 of peak, the quantile form is
    used because it adapts to the level of each recording)."""

    quantile: tuple[float, float] = (0.85, 0.99)


@dataclass(frozen=True)
class GainConfig:
    """Level change of ``gain_db`` -30..+6 dB; what exceeds full scale is hard-clipped."""

    gain_db: tuple[float, float] = (-30.0, 6.0)


def apply_band_limit(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: BandLimitConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Band-limit with a method drawn from ``cfg``; returns (wave, params)."""
    rates = [int(r) for r in cfg.resample_rates if r < sr]
    allowed = {"lowpass"} | ({"resample"} if rates else set())
    try:
        method = weighted_choice(rng, cfg.methods, allowed)
    except ValueError:
        method = "lowpass"
    if method == "resample":
        rate = rates[int(rng.integers(len(rates)))]
        out = resample_through(wave, sr, rate)
        return out, {"method": method, "rate": rate, "cutoff_hz": rate / 2.0}
    high = min(float(cfg.cutoff_hz[1]), 0.45 * sr)
    cutoff = draw(rng, (min(float(cfg.cutoff_hz[0]), high), high))
    return lowpass(wave, sr, cutoff), {"method": method, "cutoff_hz": cutoff}


def apply_packet_loss(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: PacketLossConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Zero bursts of packets; params hold the loss rates and the bursts [first packet, length]."""
    loss_rate, mean_burst = draw(rng, cfg.loss_rate), draw(rng, cfg.mean_burst)
    size = max(int(round(sr * cfg.packet_ms / 1000.0)), 1)
    n_packets = -(-wave.size // size)
    mask = packet_loss_mask(n_packets, rng, loss_rate, int(cfg.max_burst), mean_burst)
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    params = {
        "loss_rate": loss_rate,
        "realised_rate": float(mask.mean()) if n_packets else 0.0,
        "mean_burst": mean_burst,
        "max_burst": int(cfg.max_burst),
        "packet_ms": float(cfg.packet_ms),
        "bursts": [[int(a), int(b - a)] for a, b in zip(starts, ends)],
    }
    return drop_packets(wave, sr, mask, cfg.packet_ms), params


def apply_clipping(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: ClippingConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Clip at a drawn quantile of |x|; params hold the quantile and the threshold."""
    quantile = draw(rng, cfg.quantile)
    out, threshold = clip_at_quantile(wave, quantile)
    return out, {"quantile": quantile, "threshold": threshold}


def apply_gain(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: GainConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply a drawn gain; params hold ``gain_db`` and the share of samples clipped."""
    gain_db = draw(rng, cfg.gain_db)
    out = apply_gain_db(wave, gain_db)
    clipped = float(np.mean(np.abs(out) >= 1.0)) if out.size else 0.0
    return out, {"gain_db": gain_db, "clipped_share": clipped}
