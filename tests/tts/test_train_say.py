"""End to end on CPU: `fleursr tts train` -> `fleursr tts say` with a WaveFit vocoder from a
restoration checkpoint (random tiny weights) and with Griffin-Lim; resume; mismatch errors."""

import csv

import numpy as np
import pytest
import soundfile as sf
import torch

from fleursr.jobs.cli.main import main
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer
from fleursr.tts.train import TTSTrainConfig, train_tts
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
