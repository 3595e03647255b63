"""Reverberation with simulated shoebox rooms (pyroomacoustics image source method).

Walls get the uniform energy absorption that Sabine's formula gives for the drawn RT60
(``pyroomacoustics.inverse_sabine``); the image-source order is capped (60 by default) so that
one call on 5 s of 16 kHz audio takes about 0.1-0.2 s. The cap shortens the late tail of small,
very live rooms; the order used and the order Sabine asks for are both reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyroomacoustics as pra
from scipy.signal import fftconvolve

from fleursr.degrade.filters import draw, rms


@dataclass(frozen=True)
class ReverbConfig:
    """Reverberation. ``rt60``: 0.2..0.8 s (FIELD_NOTES: 0.2..0.5 typical, up to 1.0).
    Room size in metres: ``length`` 3..10, ``width`` 3..8, ``height`` 2.4..4. Source and
    microphone are placed uniformly at least ``wall_margin`` = 0.5 m from every wall and
    ``min_distance`` = 0.5 m apart. ``max_order_cap`` = 60 bounds the image-source order."""

    rt60: tuple[float, float] = (0.2, 0.8)
    length: tuple[float, float] = (3.0, 10.0)
    width: tuple[float, float] = (3.0, 8.0)
    height: tuple[float, float] = (2.4, 4.0)
    wall_margin: float = 0.5
    min_distance: float = 0.5
    max_order_cap: int = 60


def room_impulse_response(
    sr: int,
    rt60: float,
    room_dim: Sequence[float],
    source: Sequence[float],
    mic: Sequence[float],
    max_order_cap: int = 60,
) -> tuple[np.ndarray, dict[str, Any]]:
    """RIR of shape (m,) from ``source`` to ``mic`` (metres) in a shoebox of ``room_dim``.

    Returns (rir, info) where info holds ``absorption``, ``max_order`` (used),
    ``max_order_sabine`` and ``direct_delay`` (index of the direct path in ``rir``, samples).
    Raises ValueError when no absorption <= 1 reaches ``rt60`` in that room.
    """
    absorption, order = pra.inverse_sabine(rt60, list(room_dim))
    used = int(min(order, max_order_cap))
    room = pra.ShoeBox(list(room_dim), fs=sr, materials=pra.Material(absorption), max_order=used)
    room.add_source(list(source))
    room.add_microphone(list(mic))
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    distance = float(np.linalg.norm(np.subtract(source, mic)))
    # pyroomacoustics centres each fractional-delay filter half its length after the arrival
    delay = distance / pra.constants.get("c") * sr + pra.constants.get("frac_delay_length") // 2
    info = {
        "absorption": float(absorption),
        "max_order": used,
        "max_order_sabine": int(order),
        "direct_delay": int(round(delay)),
    }
    return rir, info


def reverberate(wave: np.ndarray, rir: np.ndarray, direct_delay: int) -> np.ndarray:
    """Convolve ``wave`` (n,) with ``rir``, drop the first ``direct_delay`` samples so the direct
    path keeps the original timing, keep n samples and restore the dry RMS."""
    x = np.asarray(wave, dtype=np.float64)
    wet = fftconvolve(x, rir)[direct_delay : direct_delay + x.size]
    wet = np.pad(wet, (0, x.size - wet.size))
    level = rms(wet)
    return wet * (rms(x) / level) if level > 0 else wet


def _draw_room(rng: np.random.Generator, cfg: ReverbConfig, rt60: float) -> list[float]:
    """Room dimensions (metres) in which Sabine's formula can reach ``rt60``."""
    dims = [draw(rng, cfg.length), draw(rng, cfg.width), draw(rng, cfg.height)]
    for _ in range(50):
        try:
            pra.inverse_sabine(rt60, dims)
            return dims
        except ValueError:  # room too large to be that dry: shrink it
            dims = [max(d * 0.9, 2 * cfg.wall_margin + 0.1) for d in dims]
    raise ValueError(f"no room reaches RT60 {rt60} s")


def _draw_positions(
    rng: np.random.Generator, cfg: ReverbConfig, dims: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Source and microphone positions inside the room, ``min_distance`` apart when possible."""

    def point() -> list[float]:
        return [draw(rng, (cfg.wall_margin, d - cfg.wall_margin)) for d in dims]

    source, mic = point(), point()
    for _ in range(100):
        if np.linalg.norm(np.subtract(source, mic)) >= cfg.min_distance:
            break
        mic = point()
    return source, mic


def apply_reverb(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: ReverbConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Reverberate in a random room; params: rt60, room_dim, source, mic and the RIR info."""
    rt60 = draw(rng, cfg.rt60)
    dims = _draw_room(rng, cfg, rt60)
    source, mic = _draw_positions(rng, cfg, dims)
    rir, info = room_impulse_response(sr, rt60, dims, source, mic, cfg.max_order_cap)
    params = {"rt60": rt60, "room_dim": dims, "source": source, "mic": mic, **info}
    return reverberate(wave, rir, info["direct_delay"]), params
