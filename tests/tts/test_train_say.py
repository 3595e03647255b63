"""End to end on CPU: `fleursr tts train` -> `fleursr tts say` with a WaveFit vocoder from a
restoration checkpoint (random tiny weights) and with Griffin-Lim; resume; mismatch errors."""

import csv
import shutil
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch

from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.testing import make_corpus
from fleursr.jobs.cli.main import main
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer
from fleursr.tts.data import read_rows, speaker_keys, utterance_text
from fleursr.tts.pretrained import TTS
from fleursr.tts.train import TTSTrainConfig, calibrate_durations, train_tts
from fleursr.tts.vocoder import VocoderMismatchError


def test_train_then_say_produces_audio(tiny_corpus, tiny_vocoder, tmp_path, capsys):
    voice = tmp_path / "voice"
    code = main(["tts", "train", "--data", str(tiny_corpus), "--out", str(voice), "--config",
                 "tiny", "--steps", "6", "--batch-size", "4", "--device", "cpu",
                 "--log-every", "2", "--save-every", "3"])  # fmt: skip
    assert code == 0 and "voice trained" in capsys.readouterr().out
    rows = list(csv.DictReader(open(voice / "train_log.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert all(np.isfinite(float(r["loss"])) for r in rows)

    out = tmp_path / "hello.wav"
    code = main(["tts", "say", "--model", str(voice), "--vocoder", str(tiny_vocoder), "--language",
                 "fr_fr", "--text", "Sentence number 3.", "--out", str(out)])  # fmt: skip
    assert code == 0
    wave, sr = sf.read(out)
    assert sr == 24000 and len(wave) >= 18 * 256  # at least one mel frame per character
    assert np.isfinite(wave).all() and np.abs(wave).max() > 0

    lines = tmp_path / "lines.txt"
    lines.write_text("Sentence number 1.\n\nSentence number 22, and more!\n", encoding="utf-8")
    batch = tmp_path / "batch"
    code = main(["tts", "say", "--model", str(voice), "--language", "en_us", "--speaker",
                 "en_us_s1", "--text-file", str(lines), "--out", str(batch)])  # fmt: skip
    assert code == 0
    written = sorted(p.name for p in (tmp_path / "batch").iterdir())
    assert written == ["0001.wav", "0003.wav"]  # one file per non-blank line, by line number
    short, long = (sf.read(tmp_path / "batch" / name)[0] for name in written)
    assert len(long) > len(short) > 0


def test_training_resumes_from_its_state(tiny_corpus, tmp_path):
    cfg = TTSTrainConfig(data=str(tiny_corpus), out=str(tmp_path / "v"), config="tiny", steps=3,
                         batch_size=4, log_every=1, save_every=3, device="cpu")  # fmt: skip
    train_tts(cfg, progress=False)
    cfg.steps = 5
    train_tts(cfg, progress=False)
    steps = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "v" / "train_log.csv"))]
    assert steps == [1, 2, 3, 4, 5]


def test_same_seed_same_voice(tiny_corpus, tmp_path):
    outs = []
    for name in ("a", "b"):
        cfg = TTSTrainConfig(data=str(tiny_corpus), out=str(tmp_path / name), config="tiny",
                             steps=3, batch_size=4, device="cpu")  # fmt: skip
        outs.append(train_tts(cfg, progress=False))
    from safetensors.torch import load_file

    a, b = (load_file(str(o / "model.safetensors")) for o in outs)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_sentence_sounds_the_same_whatever_is_said_with_it(trained_voice, tiny_vocoder):
    """The WaveFit start is drawn per sentence: batching cannot change what a listener hears."""
    from fleursr.jobs.vocoders import load_synthesizer

    synth = load_synthesizer(trained_voice, str(tiny_vocoder))
    texts = ["Sentence number 3.", "Sentence number 22, and more!", "Sentence number 1."]
    together = synth.say(texts, "en_us")
    alone = synth.say([texts[1]], "en_us")[0]
    assert len(alone) == len(together[1]) and np.abs(alone).max() > 0
    np.testing.assert_allclose(alone, together[1], atol=1e-4 * np.abs(alone).max())


def test_vocoder_with_another_mel_is_refused(trained_voice, tmp_path):
    from fleursr.jobs.vocoders import load_synthesizer

    other = restorer_config({"size": "tiny", "features": {"kind": "mel", "n_mels": 80}})
    Restorer(other.to_dict()).save_pretrained(tmp_path / "voc80")
    with pytest.raises(VocoderMismatchError, match="n_mels: voice 40 vs vocoder 80"):
        load_synthesizer(trained_voice, str(tmp_path / "voc80"))


def test_say_errors_are_clear(trained_voice, tmp_path):
    from fleursr.tts.synthesize import Synthesizer

    synth = Synthesizer.load(trained_voice)
    with pytest.raises(ValueError, match="nothing to say"):
        synth.say(["   "], "en_us")
    with pytest.raises(ValueError, match="not trained on"):
        synth.say(["Bonjour"], "de_de")
    wave = synth.say(["Ünknown ✓ characters"], "en_us")[0]  # unknown characters never crash
    assert len(wave) > 0 and synth.voice.tokenizer.unknown["✓"] == 1


def _spoken_vs_recorded(voice_dir, corpus_dir, language):
    """The voice's synthesized frames over the recordings' frames, summed over ``language``'s
    train sentences, each in its own speaker's voice."""
    voice = TTS.from_pretrained(voice_dir)
    rows = read_rows(Corpus(corpus_dir), "train")
    picked = [(u, k) for u, k in zip(rows, speaker_keys(rows)) if u.language == language]
    mels = voice.text_to_mel([utterance_text(u) for u, _ in picked], [language] * len(picked),
                             [k for _, k in picked])  # fmt: skip
    mc = voice.mel_config
    recorded = sum(int(u.duration * mc.sample_rate) // mc.hop_length + 1 for u, _ in picked)
    return sum(len(m) for m in mels) / recorded


def test_a_trained_voice_speaks_as_long_as_its_recordings(trained_voice, tiny_corpus, tmp_path,
                                                          capsys):  # fmt: skip
    voice = TTS.from_pretrained(trained_voice)
    assert set(voice.duration_scale) == {"en_us", "fr_fr"}
    for language in ("en_us", "fr_fr"):
        spoken = _spoken_vs_recorded(trained_voice, tiny_corpus, language)
        assert spoken == pytest.approx(1, abs=0.05)
    # without its calibration the same weights speak at another length; `tts calibrate` (for a
    # voice stopped before the end of its training) finds the same factors again
    voice.duration_scale = {}
    voice.save_pretrained(tmp_path / "raw")
    off = _spoken_vs_recorded(tmp_path / "raw", tiny_corpus, "en_us")
    assert abs(off - 1) > 0.1
    assert main(["tts", "calibrate", "--model", str(tmp_path / "raw"), "--data", str(tiny_corpus),
                 "--out", str(tmp_path / "again")]) == 0  # fmt: skip
    assert "en_us: durations x" in capsys.readouterr().out
    assert (
        TTS.from_pretrained(tmp_path / "again").duration_scale
        == TTS.from_pretrained(trained_voice).duration_scale
    )
    german = Corpus(make_corpus(tmp_path / "de", languages=("de_de",), per_language=4))
    with pytest.raises(ValueError, match="de: no 'train' utterance in a language and speaker"):
        calibrate_durations(voice, german)


@pytest.mark.parametrize("favoured", ["en_us_s0", "en_us_s1"])
def test_a_language_s_default_speaker_is_its_best_trained_one(trained_voice, tiny_corpus,
                                                              tmp_path, favoured):  # fmt: skip
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    more = [replace(u, split="train") if u.speaker_id == favoured else u for u in Corpus(corpus)]
    write_manifest(corpus, more)
    voice = TTS.from_pretrained(trained_voice)
    calibrate_durations(voice, Corpus(corpus))
    assert voice.default_speakers == {"en_us": favoured, "fr_fr": voice.default_speakers["fr_fr"]}
    assert voice.speaker_id(None, "en_us") == voice.speaker_id(favoured, "en_us")
    voice.save_pretrained(tmp_path / "v")
    assert TTS.from_pretrained(tmp_path / "v").default_speakers["en_us"] == favoured
