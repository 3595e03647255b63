"""The shipped embedded models (``recipes/embedded.sh``): in the package, within the weight
budget, and each does its job on CPU on speech it never heard (a fresh seed: new sentences and
new voices; one language of the four held out of all training)."""

from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from corpus.espeak import espeak_available
from corpus.manifest import Corpus
from corpus.synth import synth_corpus
from corpus.twin import degrade_corpus

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {
    "restorer": ROOT / "restore" / "weights" / "embedded",
    "asr": ROOT / "quality" / "asr" / "weights" / "embedded",
    "tts": ROOT / "tts" / "weights" / "embedded",
}
BUDGET = 25 * 1024 * 1024
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def unheard(tmp_path_factory):
    """A clean corpus the models never trained on, and its degraded twin."""
    root = tmp_path_factory.mktemp("unheard")
    synth_corpus(root / "clean", languages=["en_us", "sw_ke"], per_language=4, seed=987)
    degrade_corpus(root / "clean", root / "degraded", seed=987)
    return root


def test_every_model_ships_in_float16_within_the_weight_budget():
    files = [f for d in ROOT.glob("*/**/weights") for f in d.rglob("*") if f.is_file()]
    assert sum(f.stat().st_size for f in files) < BUDGET
    for name, folder in SHIPPED.items():
        assert (folder / "config.json").is_file(), name
        with safe_open(str(folder / "model.safetensors"), "pt") as f:
            dtypes = {f.get_tensor(k).dtype for k in f.keys()}
        assert {str(d) for d in dtypes if d.is_floating_point} == {"torch.float16"}, name


@needs_espeak
def test_shipped_restorer_brings_unheard_degraded_speech_closer_to_clean(unheard):
    from jobs.evaluate import evaluate, summarize
    from restore.apply import load_restorer

    restorer = load_restorer("embedded", "cpu")
    assert restorer.sample_rate == 24000
    rows, speed = evaluate(unheard / "degraded", restorer, asr=None, mos=None, split="train",
                           progress=False)  # fmt: skip
    assert rows and all(r.error is None for r in rows) and speed > 1
    table = summarize(rows)
    assert table["all"]["mel_restored"] < table["all"]["mel_degraded"]
    assert table["all"]["restored_closer"] >= 0.5
    degraded = Corpus(unheard / "degraded")
    wave, sr = restorer.restore(*degraded.load_audio(next(iter(degraded))))
    assert sr == 24000 and np.isfinite(wave).all() and np.abs(wave).max() > 0.01


@needs_espeak
def test_shipped_asr_transcribes_unheard_clean_speech(unheard):
    from quality.asr import load_asr
    from quality.cer import char_counts

    asr = load_asr("embedded", device="cpu")
    corpus = Corpus(unheard / "clean")
    utts = [u for u in corpus if u.language == "en_us"]
    waves = [corpus.load_audio(u, target_sr=16000)[0] for u in utts]
    hyps = asr.transcribe(waves, "en_us", 16000)
    counts = [char_counts(u.transcription, h) for u, h in zip(utts, hyps)]
    cer = sum(c.edits for c in counts) / sum(c.ref_chars for c in counts)
    assert cer < 0.6, list(zip([u.transcription for u in utts], hyps))


def test_shipped_voice_speaks_through_the_shipped_wavefit(tmp_path):
    from corpus.audio import read_audio
    from jobs.cli import main
    from tts.synthesize import Synthesizer
    from tts.vocoder import WaveFitMelVocoder

    synth = Synthesizer.load("embedded", vocoder="auto")
    assert isinstance(synth.vocoder, WaveFitMelVocoder) and synth.sample_rate == 24000
    assert len(synth.voice.languages) >= 8
    out = tmp_path / "hello.wav"
    assert main(["tts", "say", "--text", "Hello world, this is a test.", "--language", "en_us",
                 "--out", str(out)]) == 0  # fmt: skip
    wave, sr = read_audio(out)
    assert sr == 24000 and 0.5 < len(wave) / sr < 10 and np.abs(wave).max() > 0.01
