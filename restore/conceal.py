"""Concealment of dropouts: the stretches a recording lost (packet loss), filled before the
restorer reads the recording (``RestorerConfig.conceal``; off in the shipped config).

A lost packet reaches the restorer as a run of zeros (after resampling, near zeros with a few
milliseconds of ringing at each edge). WaveFit starts from the recording itself and its steps
scale what the start has, so a run of zeros stays silent whatever the cleaned mel says was
spoken there; filling it with noise of the mel's magnitude is heard as noise (docs/engine.md,
"Fill only what was never there"). Restoration is offline, so both sides of a gap are known:
each gap is interpolated from a pitch-period continuation of the signal before it and a
backward one of the signal after it, cross-faded over the gap (the waveform-substitution
family of packet-loss concealment, G.711 Appendix I, here with the future known). The cleaner
then reads the filled recording, and WaveFit starts from it. A synthesizer's pause written as
digital silence looks the same as a lost packet and is filled too (docs/engine.md, "Lost
packets").
"""

from __future__ import annotations

import numpy as np

from fleursr.corpus.audio import resample

MIN_GAP_MS = 5.0  # shorter runs of near zeros are zero crossings, not lost packets
MAX_GAP_MS = 300.0  # longer ones are silence (a packet-loss burst is at most 200 ms)
EDGE_MS = 5.0  # taken into the gap on each side: the resampler's ringing above SILENT
PERIOD_MS = (2.5, 15.0)  # pitch periods searched (400 Hz down to 67 Hz)
SILENT = 1e-5  # a dropout sample's magnitude, relative to the recording's peak (-100 dB)


def find_gaps(wave: np.ndarray, sr: int) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the runs of ``wave`` ``(samples,)`` below ``SILENT`` times its peak
    that last ``MIN_GAP_MS`` to ``MAX_GAP_MS`` and have signal on both sides, each widened by
    ``EDGE_MS`` on either side."""
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak <= 0.0:
        return []
    quiet = np.abs(wave) < SILENT * peak
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    shortest, longest = sr * MIN_GAP_MS / 1000, sr * MAX_GAP_MS / 1000
    edge = int(round(sr * EDGE_MS / 1000))
    return [(max(int(a) - edge, 0), min(int(b) + edge, wave.size)) for a, b in zip(starts, ends)
            if shortest <= b - a <= longest and a > 0 and b < wave.size]  # fmt: skip


def pitch_period(segment: np.ndarray, sr: int) -> int:
    """The lag in ``PERIOD_MS`` that best repeats the end of ``segment`` (normalised
    autocorrelation over the last longest period; the shortest of the lags within 90 % of the
    best, so not a multiple of the period); the longest period where nothing repeats."""
    low, high = (int(round(sr * ms / 1000)) for ms in PERIOD_MS)
    tail = segment[-high:]
    if segment.size < 2 * high or not np.any(tail):
        return high
    lagged = np.stack([segment[-high - p : segment.size - p] for p in range(low, high + 1)])
    score = lagged @ tail / np.sqrt((lagged**2).sum(axis=1) * (tail**2).sum() + 1e-12)
    # the shortest lag nearly as good as the best: a multiple of the period repeats as well
    peaks = (score[1:-1] >= score[:-2]) & (score[1:-1] >= score[2:])
    good = np.flatnonzero(peaks & (score[1:-1] >= 0.9 * score.max())) + 1
    return low + int(good[0] if good.size else np.argmax(score))


def conceal(wave: np.ndarray, sr: int, band_rate: int | None = None) -> np.ndarray:
    """``wave`` ``(samples,)`` with every gap of :func:`find_gaps` filled: the period before it
    repeated forward, cross-faded into the period after it repeated backward (float32; a new
    array where a gap was filled). With
    ``band_rate`` below ``sr`` the fill passes through that rate (soxr), so it has no more band
    than the recording around it: the engine reads content above a 16 kHz input's 8 kHz as
    bandwidth the input has, and would then not rebuild that band."""
    out = np.asarray(wave, dtype=np.float32)
    filled = _fill(out, sr)
    if band_rate is None or band_rate >= sr or filled is out:
        return filled
    fill = resample(resample(filled - out, sr, band_rate), band_rate, sr)[: out.size]
    return out + np.pad(fill, (0, out.size - fill.size))


def _fill(out: np.ndarray, sr: int) -> np.ndarray:
    """``out`` with :func:`conceal`'s fill (a copy); ``out`` itself where no gap is found."""
    high, gaps = int(round(sr * PERIOD_MS[1] / 1000)), find_gaps(out, sr)
    if not gaps:
        return out
    out = out.copy()
    for a, b in gaps:
        n = b - a
        have_left, have_right = a >= 2 * high, out.size - b >= 2 * high
        if not (have_left or have_right):
            continue
        index = np.arange(n)
        if have_left:
            p = pitch_period(out[a - 2 * high : a], sr)
            left = out[a - p + index % p]
        if have_right:
            p = pitch_period(out[b : b + 2 * high][::-1].copy(), sr)
            right = out[b + (index - n) % p]
        if have_left and have_right:
            fade = 0.5 - 0.5 * np.cos(np.pi * (index + 0.5) / n)
            out[a:b] = (1 - fade) * left + fade * right
        else:
            out[a:b] = left if have_left else right
    return out
