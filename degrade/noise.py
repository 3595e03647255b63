"""Additive noise: generators for six noise kinds and mixing at an exact SNR.

Generators return float64 noise of shape ``(n,)`` normalised to unit RMS; ``add_noise`` scales
it so that ``10 * log10(mean(wave**2) / mean(noise**2))`` equals the requested SNR exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fleursr.degrade.filters import complete_weights, draw, rms, weighted_choice

NOISE_KINDS = ("white", "pink", "brown", "babble", "hum", "music")


def _unit_rms(x: np.ndarray) -> np.ndarray:
    level = rms(x)
    return x / level if level > 0 else x


def white_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise of shape (n,), unit RMS (``sr`` unused, kept for a uniform API)."""
    return _unit_rms(rng.standard_normal(n))


def colored_noise(
    n: int, sr: int, rng: np.random.Generator, exponent: float, low_hz: float = 20.0
) -> np.ndarray:
    """Noise with power density ~ 1/f**exponent above ``low_hz`` (nothing below), unit RMS."""
    if n == 0:
        return np.zeros(0)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    shape = np.zeros_like(freqs)
    audible = freqs >= low_hz
    shape[audible] = freqs[audible] ** (-exponent / 2.0)
    return _unit_rms(np.fft.irfft(spectrum * shape, n))


def pink_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f, -3 dB per octave) noise of shape (n,), unit RMS."""
    return colored_noise(n, sr, rng, 1.0)


def brown_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Brown (1/f**2, -6 dB per octave) noise of shape (n,), unit RMS."""
    return colored_noise(n, sr, rng, 2.0)


def babble_noise(
    n: int, rng: np.random.Generator, pool: Sequence[np.ndarray], n_talkers: int
) -> np.ndarray:
    """Sum of ``n_talkers`` utterances from ``pool`` (same sample rate as the target).

    Each talker is a randomly chosen pool utterance, started at a random offset, looped to
    ``n`` samples, set to unit RMS and weighted by a random +-3 dB. The caller keeps the target
    utterance out of the pool. Returns shape (n,), unit RMS.
    """
    talkers = [np.asarray(u, dtype=np.float64).ravel() for u in pool]
    usable = [u for u in talkers if u.size and rms(u) > 0]
    if not usable:
        raise ValueError("babble pool holds no non-silent utterance")
    out = np.zeros(n)
    for _ in range(n_talkers):
        talker = usable[int(rng.integers(len(usable)))]
        index = (np.arange(n) + int(rng.integers(talker.size))) % talker.size
        out += _unit_rms(talker[index]) * 10.0 ** (rng.uniform(-3.0, 3.0) / 20.0)
    return _unit_rms(out)


def hum_noise(
    n: int, sr: int, rng: np.random.Generator, mains_hz: float, n_harmonics: int, decay: float
) -> np.ndarray:
    """Mains hum: ``mains_hz`` (50/60) and harmonics k=2..n_harmonics of amplitude decay**(k-1),
    random phases, harmonics at or above Nyquist dropped. Shape (n,), unit RMS."""
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k in range(1, n_harmonics + 1):
        if k * mains_hz < sr / 2:
            phase = rng.uniform(0.0, 2 * np.pi)
            out += decay ** (k - 1) * np.sin(2 * np.pi * k * mains_hz * t + phase)
    return _unit_rms(out)


def _note(n: int, sr: int, rng: np.random.Generator, midi: int) -> np.ndarray:
    """One note of ``n`` samples plus release: 3 harmonics under an ADSR envelope."""
    attack, decay = rng.uniform(0.005, 0.05), rng.uniform(0.03, 0.1)
    sustain, release = rng.uniform(0.4, 0.8), rng.uniform(0.05, 0.2)
    hold = max(n / sr, attack + decay)
    t = np.arange(int((hold + release) * sr)) / sr
    knots = [0.0, attack, attack + decay, hold, hold + release]
    envelope = np.interp(t, knots, [0.0, 1.0, sustain, sustain, 0.0])
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12.0)
    partials = [k for k in (1, 2, 3) if k * f0 < sr / 2]
    tone = sum(0.5 ** (k - 1) * np.sin(2 * np.pi * k * f0 * t) for k in partials)
    return envelope * tone


def music_noise(n: int, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Music-like tones: a random sequence of notes (MIDI 48..80, 0.12..0.6 s) or major/minor
    triads, each note with 3 harmonics and an ADSR envelope. Returns (noise (n,), n_events)."""
    out = np.zeros(n + sr)
    start, events = 0, 0
    while start < n:
        length = int(rng.uniform(0.12, 0.6) * sr)
        root = int(rng.integers(48, 81))
        chord = [root] if rng.random() < 0.6 else [root, root + int(rng.choice([3, 4])), root + 7]
        for midi in chord:
            tone = _note(length, sr, rng, midi)[: out.size - start]
            out[start : start + tone.size] += tone
        start, events = start + length, events + 1
    return _unit_rms(out[:n]), events


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Return ``wave + g * noise`` with g chosen so the SNR over the whole wave is ``snr_db``.

    Both arrays have shape (n,). A silent wave or silent noise is returned unchanged.
    """
    x, v = np.asarray(wave, dtype=np.float64), np.asarray(noise, dtype=np.float64)
    if x.shape != v.shape:
        raise ValueError(f"noise shape {v.shape} differs from wave shape {x.shape}")
    p_signal, p_noise = np.mean(x * x) if x.size else 0.0, np.mean(v * v) if v.size else 0.0
    if p_signal <= 0 or p_noise <= 0:
        return x.copy()
    return x + np.sqrt(p_signal / (p_noise * 10.0 ** (snr_db / 10.0))) * v


@dataclass(frozen=True)
class NoiseConfig:
    """Additive noise. ``kinds``: weights of the NOISE_KINDS ("babble" needs a pool).
    ``snr_db``: 5..30 dB (FIELD_NOTES: -5..30 seen, 5..30 common). ``babble_talkers``: 3..7.
    ``hum_harmonics``: 3..10 harmonics of 50 or 60 Hz, amplitude ratio ``hum_decay`` 0.3..0.8."""

    kinds: dict[str, float] = field(
        default_factory=lambda: {
            "white": 1.0,
            "pink": 1.0,
            "brown": 0.5,
            "babble": 1.5,
            "hum": 0.5,
            "music": 1.0,
        }
    )
    snr_db: tuple[float, float] = (5.0, 30.0)
    babble_talkers: tuple[int, int] = (3, 7)
    hum_harmonics: tuple[int, int] = (3, 10)
    hum_decay: tuple[float, float] = (0.3, 0.8)

    def __post_init__(self) -> None:
        complete_weights(self, "kinds", NOISE_KINDS)


def available_noise_kinds(cfg: NoiseConfig, babble_pool: Sequence[np.ndarray] | None) -> list[str]:
    """Noise kinds of ``cfg`` with positive weight that can be generated (babble needs a pool)."""
    has_pool = babble_pool is not None and len(babble_pool) > 0
    return [
        k
        for k, w in cfg.kinds.items()
        if w > 0 and k in NOISE_KINDS and (k != "babble" or has_pool)
    ]


def make_noise(
    kind: str,
    n: int,
    sr: int,
    rng: np.random.Generator,
    cfg: NoiseConfig,
    babble_pool: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Generate noise of ``kind`` with parameters drawn from ``cfg``; returns (noise, params)."""
    stationary = {"white": white_noise, "pink": pink_noise, "brown": brown_noise}
    if kind in stationary:
        return stationary[kind](n, sr, rng), {}
    if kind == "babble":
        talkers = int(rng.integers(cfg.babble_talkers[0], cfg.babble_talkers[1] + 1))
        pool = [] if babble_pool is None else babble_pool
        return babble_noise(n, rng, pool, talkers), {"n_talkers": talkers}
    if kind == "hum":
        mains = float(rng.choice([50.0, 60.0]))
        harmonics = int(rng.integers(cfg.hum_harmonics[0], cfg.hum_harmonics[1] + 1))
        decay = draw(rng, cfg.hum_decay)
        params = {"mains_hz": mains, "n_harmonics": harmonics, "decay": decay}
        return hum_noise(n, sr, rng, mains, harmonics, decay), params
    if kind == "music":
        noise, events = music_noise(n, sr, rng)
        return noise, {"n_events": events}
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {NOISE_KINDS}")


def apply_noise(
    wave: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    cfg: NoiseConfig,
    babble_pool: Sequence[np.ndarray] | None = None,
    **ctx: Any,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Add noise of a drawn kind at a drawn SNR; params: kind, snr_db and the kind's own ones."""
    kind = weighted_choice(rng, cfg.kinds, available_noise_kinds(cfg, babble_pool))
    snr_db = draw(rng, cfg.snr_db)
    noise, extra = make_noise(kind, wave.size, sr, rng, cfg, babble_pool)
    return add_noise(wave, noise, snr_db), {"kind": kind, "snr_db": snr_db, **extra}
