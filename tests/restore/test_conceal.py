"""Dropout concealment (restore/conceal.py): lost packets are found where they are and filled
with what the voice around them was saying; nothing else is touched."""

import numpy as np
import pytest

from fleursr.corpus.audio import resample
from fleursr.degrade.filters import drop_packets
from fleursr.restore.conceal import conceal, find_gaps, pitch_period
from fleursr.synth.espeak import espeak_available

RATE = 24000


def voiced(seconds: float, f0: float, sr: int = RATE, seed: int = 0) -> np.ndarray:
    """A vowel-like signal: 12 harmonics of a slowly gliding ``f0`` under a syllable envelope,
    plus a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 13))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    noise = np.random.default_rng(seed).normal(0, 0.003, t.size)
    return (0.3 * wave * envelope + noise).astype(np.float32)


def test_pitch_period_finds_the_voice():
    for f0 in (90.0, 140.0, 220.0):
        t = np.arange(2400) / RATE
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
        assert abs(pitch_period(wave, RATE) - RATE / f0) <= 1


def test_dropouts_through_16khz_are_found_and_filled_close_to_what_was_lost():
    clean16 = voiced(2.0, 130.0, sr=16000)
    lost = np.zeros(100, dtype=bool)  # 20 ms packets
    lost[[10, 25, 26, 50, 51, 52, 80]] = True
    degraded = resample(drop_packets(clean16, 16000, lost, 20.0).astype(np.float32), 16000, RATE)
    clean = resample(clean16, 16000, RATE)

    gaps = find_gaps(degraded, RATE)
    assert len(gaps) == 4  # 1, 2, 3 and 1 packets
    for (a, b), (first, end) in zip(gaps, ((10, 11), (25, 27), (50, 53), (80, 81))):
        assert abs(a - first * 480) <= 96 and abs(b - end * 480) <= 96  # within 4 ms

    restored = conceal(degraded, RATE)
    inside = np.zeros(degraded.size, dtype=bool)
    for a, b in gaps:
        inside[a:b] = True
    error = np.sqrt(np.mean((restored[inside] - clean[inside]) ** 2))
    lost_error = np.sqrt(np.mean((degraded[inside] - clean[inside]) ** 2))
    assert error < 0.3 * lost_error  # the zeros miss all of it; the fill follows the voice
    np.testing.assert_array_equal(restored[~inside], degraded[~inside])


def test_silence_at_the_ends_and_speech_without_gaps_are_left_alone():
    speech = voiced(1.0, 180.0)
    padded = np.concatenate([np.zeros(RATE // 2), speech, np.zeros(RATE // 2)]).astype(np.float32)
    assert find_gaps(padded, RATE) == []  # silence before and after is not a lost packet
    np.testing.assert_array_equal(conceal(padded, RATE), padded)
    long_pause = np.concatenate([speech, np.zeros(RATE), speech]).astype(np.float32)
    assert find_gaps(long_pause, RATE) == []  # one second: a pause, not a burst of packets
    assert find_gaps(np.zeros(RATE, dtype=np.float32), RATE) == []


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_shipped_restorer_with_concealment_restores_lost_packets_of_unheard_speech(tmp_path):
    """espeak-ng speech it never heard, over a -60 dB noise floor (a recording has one; espeak-ng's
    own pauses are digital silence, which the detector cannot tell from a lost packet), 15 % of
    its 20 ms packets lost at 16 kHz: with ``conceal`` the shipped restorer's output is nearer
    the clean speech than without it; on the same speech with nothing lost it changes nothing.
    (On recorded speech the gain is larger: docs/engine.md, "Lost packets".)"""
    from fleursr.corpus.manifest import Corpus
    from fleursr.degrade.filters import PacketLossConfig, apply_packet_loss
    from fleursr.jobs.experiments.evaluate import _MEL, RATE, log_mel_distance
    from fleursr.nn import MelSpectrogram
    from fleursr.restore.apply import load_restorer
    from fleursr.synth.corpus import synth_corpus

    synth_corpus(tmp_path / "clean", languages=["en_us", "sw_ke"], per_language=3, seed=4242)
    corpus, mel = Corpus(tmp_path / "clean"), MelSpectrogram(_MEL)
    restorer = load_restorer("embedded", "cpu")
    cfg = PacketLossConfig(loss_rate=(0.15, 0.15), mean_burst=(2.0, 2.0))
    distance = {False: [], True: []}
    for i, utt in enumerate(corpus):
        wave, sr = corpus.load_audio(utt)
        rng = np.random.default_rng(i)
        clean = resample(wave, sr, RATE)
        floor = rng.normal(0, 1e-3 * np.abs(clean).max(), clean.size).astype(np.float32)
        lost = apply_packet_loss(clean + floor, RATE, rng, cfg)[0].astype(np.float32)
        for on in (False, True):
            restorer.cfg.conceal = on
            out, out_sr = restorer.restore(lost, RATE)
            distance[on].append(log_mel_distance(resample(out, out_sr, RATE), clean, mel))
        kept = restorer.restore(clean + floor, RATE)[0]
        restorer.cfg.conceal = False
        np.testing.assert_array_equal(restorer.restore(clean + floor, RATE)[0], kept)
    # measured: log-mel distance 0.90 with concealment, 1.10 without
    assert np.mean(distance[True]) < 0.9 * np.mean(distance[False]), distance
