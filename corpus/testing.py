"""Small generated corpora for tests, examples and benchmarks (no espeak-ng, no downloads).

``speech_like`` makes a voiced, speech-shaped signal: a glottal-like harmonic source with a
moving pitch contour, shaped by three moving formant resonances, with syllable-rate amplitude
modulation and pauses. It is not speech, but it has speech's spectral and temporal structure,
which is what signal-processing tests need.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import signal

from fleursr.corpus.audio import write_audio
from fleursr.corpus.manifest import write_manifest
from fleursr.corpus.record import Utterance


def speech_like(
    duration: float = 2.0, sr: int = 16000, f0: float = 120.0, seed: int = 0
) -> np.ndarray:
    """``(samples,)`` float32 speech-shaped audio with peak about 0.5."""
    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    t = np.arange(n) / sr
    contour = f0 * (1.0 + 0.15 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(contour) / sr
    harmonics = np.arange(1, int(0.45 * sr / (f0 * 1.2)))
    source = np.zeros(n)
    for h in harmonics:
        source += np.sin(h * phase) / h
    source += 0.02 * rng.standard_normal(n)
    out = np.zeros(n)
    for lo, hi in ((300, 900), (900, 2400), (2400, 3400)):
        centre = rng.uniform(lo, hi)
        b, a = signal.iirpeak(min(centre, 0.45 * sr), Q=4.0, fs=sr)
        out += signal.lfilter(b, a, source)
    syllables = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t))
    gate = (np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6)) > -0.8).astype(float)
    envelope = signal.lfilter([0.01], [1, -0.99], syllables * gate)
    out *= envelope
    out /= np.max(np.abs(out)) + 1e-9
    return (0.5 * out).astype(np.float32)


def make_corpus(
    root: str | os.PathLike,
    languages: tuple[str, ...] = ("en_us", "fr_fr"),
    per_language: int = 3,
    sr: int = 16000,
    duration: float = 1.5,
    embed: bool = False,
) -> Path:
    """Write a tiny corpus (FLAC files, or embedded bytes) with a manifest; returns the root."""
    from fleursr.corpus.audio import encode_flac

    root = Path(root)
    rows = []
    splits = ("train", "dev", "test")
    for li, lang in enumerate(languages):
        for k in range(per_language):
            gender = "female" if k % 2 else "male"
            wave = speech_like(duration, sr, 210.0 if k % 2 else 110.0, seed=100 * li + k)
            uid = f"{lang}_{k:05d}"
            rel = f"audio/{lang}/{uid}.flac"
            utt = Utterance(
                id=uid,
                path=rel,
                language=lang,
                num_samples=len(wave),
                sampling_rate=sr,
                raw_transcription=f"Sentence number {k}.",
                transcription=f"sentence number {k}",
                gender=gender,
                split=splits[k % 3],
                speaker_id=f"{lang}_s{k % 2}",
                sentence_id=k,
            )
            if embed:
                utt.audio = {"bytes": encode_flac(wave, sr), "path": f"{uid}.flac"}
            else:
                write_audio(root / rel, wave, sr)
            rows.append(utt)
    write_manifest(root, rows)
    return root
