"""Tests of the espeak-ng wrapper; most need espeak-ng installed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fleursr.corpus.languages import EMBEDDED_LANGUAGES, get_language
from fleursr.synth.espeak import (
    INSTALL_COMMAND,
    SPEAKER_VARIANTS,
    EspeakError,
    EspeakNotFoundError,
    espeak_available,
    list_voices,
    speak,
)
from fleursr.synth.sentences import make_sentence

_skip_without_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is absent")


def needs_espeak(test: Callable[..., None]) -> Callable[..., None]:
    """Mark a test as needing espeak-ng and skip it where espeak-ng is absent."""
    return pytest.mark.espeak(_skip_without_espeak(test))


SR = 16000
ENGLISH = "The quick brown fox jumps over the lazy dog near the quiet river bank."


def median_f0(audio: np.ndarray, sample_rate: int = SR) -> float:
    """Median F0 of the voiced 40 ms frames, by normalized autocorrelation (60..400 Hz)."""
    frame, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    min_lag, max_lag = sample_rate // 400, sample_rate // 60
    f0s = []
    for start in range(0, len(audio) - frame, hop):
        x = audio[start : start + frame] - audio[start : start + frame].mean()
        if np.sqrt(np.mean(x**2)) < 0.02:
            continue
        ac = np.correlate(x, x, "full")[frame - 1 :]
        lag = min_lag + int(np.argmax(ac[min_lag:max_lag]))
        if ac[0] > 0 and ac[lag] / ac[0] > 0.5:
            f0s.append(sample_rate / lag)
    assert len(f0s) > 20
    return float(np.median(f0s))


@needs_espeak
@pytest.mark.parametrize("code", ["en_us", "ru_ru", "hi_in", "ar_eg", "cmn_hans_cn", "ja_jp"])
def test_speak_returns_plausible_audio(code: str) -> None:
    raw, _ = make_sentence(code, 3, 0)
    audio = speak(raw, get_language(code).espeak_voice)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio))
    assert 1.0 < len(audio) / SR < 20.0
    assert 0.05 < np.max(np.abs(audio)) <= 1.0
    loud = np.flatnonzero(np.abs(audio) > 0.05 * np.max(np.abs(audio)))
    assert loud[0] < 0.25 * SR and len(audio) - loud[-1] < 0.25 * SR  # trimmed silence


@needs_espeak
def test_sample_rate_is_honoured() -> None:
    at_16k = speak(ENGLISH, "en-us")
    at_24k = speak(ENGLISH, "en-us", sample_rate=24000)
    assert abs(len(at_24k) / 24000 - len(at_16k) / SR) < 0.05


@needs_espeak
def test_female_variant_has_higher_f0_than_male() -> None:
    male = median_f0(speak(ENGLISH, "en-us", variant="m3"))
    female = median_f0(speak(ENGLISH, "en-us", variant="f3"))
    assert female > 1.4 * male


@needs_espeak
def test_speaker_presets_are_distinct_by_gender() -> None:
    f0 = {p.name: median_f0(speak(ENGLISH, "en-us", **p.speak_kwargs())) for p in SPEAKER_VARIANTS}
    male = [f0[p.name] for p in SPEAKER_VARIANTS if p.gender == "male"]
    female = [f0[p.name] for p in SPEAKER_VARIANTS if p.gender == "female"]
    assert min(female) > max(male)


def test_speaker_table() -> None:
    genders = [p.gender for p in SPEAKER_VARIANTS]
    assert genders.count("male") >= 3 and genders.count("female") >= 3
    assert len({p.name for p in SPEAKER_VARIANTS}) == len(SPEAKER_VARIANTS)
    assert len({(p.variant, p.pitch, p.rate) for p in SPEAKER_VARIANTS}) == len(SPEAKER_VARIANTS)
    assert all(0 <= p.pitch <= 99 and 80 <= p.rate <= 450 for p in SPEAKER_VARIANTS)


@needs_espeak
@pytest.mark.parametrize("code", EMBEDDED_LANGUAGES)
def test_every_embedded_language_is_spoken(code: str) -> None:
    voice = get_language(code).espeak_voice
    assert voice in list_voices()
    preset = SPEAKER_VARIANTS[len(code) % len(SPEAKER_VARIANTS)]
    audio = speak(make_sentence(code, 0, 0)[0], voice, **preset.speak_kwargs())
    assert len(audio) / SR > 1.0 and np.max(np.abs(audio)) > 0.05


@needs_espeak
def test_bad_voice_raises() -> None:
    with pytest.raises(EspeakError, match="unknown voice") as info:
        speak("hello", "no-such-voice")  # espeak-ng itself would fall back to Norwegian
    assert info.value.voice == "no-such-voice"
    with pytest.raises(EspeakError) as info:
        speak("hello", "no/such-voice")  # a voice file path is left to espeak-ng to check
    assert "does not exist" in info.value.stderr
    with pytest.raises(EspeakError, match="variant"):
        speak("hello", "en-us", variant="no-such-variant")
    with pytest.raises(EspeakError, match="empty audio"):
        speak("", "en-us")
    assert len(speak("hello", "EN-US")) > 0


def test_missing_espeak_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert not espeak_available()
    with pytest.raises(EspeakNotFoundError) as info:
        speak("hello", "en-us")
    assert INSTALL_COMMAND in str(info.value)
    assert "sudo apt-get install espeak-ng" in str(info.value)
