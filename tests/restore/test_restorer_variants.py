"""The Restorer with WaveFit's opt-in variants (start="degraded", network="stft") at tiny size:
inference from the input recording, checkpoints, training pairs and training."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from fleursr.corpus.audio import resample
from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.nn import MelSpectrogram
from fleursr.restore.config import restorer_config
from fleursr.restore.data import DegradedPairs, collate_pairs
from fleursr.restore.model import SPELLED_OUT, Restorer
from fleursr.restore.train import TrainConfig, VocoderStage, train_vocoder

VARIANT = {"size": "tiny", "steps": 2, "start": "degraded", "network": "stft", "stft_dim": 32,
           "stft_blocks": 2, "stft_mult": 2}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("clean"), languages=("en_us", "hi_in"),
                       per_language=6, duration=1.2)  # fmt: skip


def variant(**overrides) -> Restorer:
    torch.manual_seed(0)
    config = {"size": "tiny", "vocoder": {**VARIANT, **overrides.pop("vocoder", {})}, **overrides}
    return Restorer(restorer_config(config).to_dict()).eval()


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute log-mel (24 kHz, 100 bands) difference of two 24 kHz waves."""
    mel = MelSpectrogram()
    n = min(len(a), len(b))
    x, y = (mel(torch.from_numpy(np.ascontiguousarray(w[:n]))[None]) for w in (a, b))
    return float((x - y).abs().mean())


def test_untrained_degraded_start_keeps_the_input():
    """Untrained, the cleaner is the identity and WaveFit's steps predict no noise: the output is
    the input recording (at 24 kHz), where the default start resynthesizes it from the mel."""
    wave = speech_like(1.0, 16000, seed=4)
    at_24k = resample(wave, 16000, 24000)
    out, sr = variant().restore(wave, 16000)
    assert sr == 24000 and out.dtype == np.float32 and len(out) == 24000
    torch.manual_seed(0)
    default = Restorer(restorer_config("tiny").to_dict()).eval()
    near, far = distance(out, at_24k), distance(default.restore(wave, 16000)[0], at_24k)
    assert near < 0.02 and near < 0.1 * far, (near, far)
    # a trained-like (random) mask changes it, so the network really is in the path
    model = variant()
    model.vocoder.generator.out.reset_parameters()
    assert distance(model.restore(wave, 16000)[0], out) > 0.05


def test_long_input_windows_get_their_own_stretch_of_the_reference():
    wave = speech_like(5.0, 16000, seed=5)  # tiny windows are 2 s: three of them
    model = variant()
    assert len(model._window_plan(len(model.prepare(wave, 16000)))[2]) > 1
    out, sr = model.restore(wave, 16000)
    assert sr == 24000 and len(out) == 5 * 24000
    assert distance(out, resample(wave, 16000, 24000)) < 0.02


def test_forward_resamples_the_reference_when_the_input_rate_differs():
    """Features at 16 kHz (hop 384 at 24 kHz, peak gain): ``forward`` resamples the input for the
    vocoder itself, as ``restore`` does."""
    features = {"kind": "mel", "n_mels": 40, "sample_rate": 16000}
    model = variant(features=features, vocoder={"network": "wave"})
    assert model.input_sample_rate == 16000 and model.vocoder.hop_length == 384
    wave = speech_like(1.0, 16000, seed=6)
    with torch.no_grad():
        out, lengths = model(torch.from_numpy(wave)[None], generator=model._generator())
    restored, _ = model.restore(wave, 16000)
    assert out.shape == (1, 24000) and lengths.tolist() == [24000]
    np.testing.assert_allclose(out[0].numpy(), restored, atol=1e-6)
    peaked = resample(wave, 16000, 24000)
    assert distance(restored, 0.9 * peaked / np.abs(peaked).max()) < 0.05


def test_checkpoint_with_new_options_round_trips_as_version_2(tmp_path):
    model = variant()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    model.save_pretrained(tmp_path / "new")
    config = json.loads((tmp_path / "new" / "config.json").read_text())
    assert config["version"] == 2
    vocoder = config["model"]["vocoder"]
    assert set(SPELLED_OUT) <= set(vocoder)  # spelled out: a later default cannot change it
    assert vocoder["start"] == "degraded" and vocoder["network"] == "stft"
    assert vocoder["stft_n_fft"] == 1024 and vocoder["start_fallback"] == "griffin-lim"
    loaded = Restorer.from_pretrained(tmp_path / "new")
    assert loaded.vocoder.config == model.vocoder.config
    wave = speech_like(0.8, 16000)
    np.testing.assert_array_equal(model.restore(wave, 16000)[0], loaded.restore(wave, 16000)[0])
    config["version"] = 3
    (tmp_path / "new" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="newer"):
        Restorer.from_pretrained(tmp_path / "new")


def test_old_style_checkpoint_loads_as_before(tmp_path):
    torch.manual_seed(0)
    model = Restorer(restorer_config("tiny").to_dict()).eval()
    model.save_pretrained(tmp_path / "old")
    config = json.loads((tmp_path / "old" / "config.json").read_text())
    assert config["version"] == 1 and config["model"]["vocoder"] == {"size": "tiny", "steps": 2}
    loaded = Restorer.from_pretrained(tmp_path / "old")
    assert (loaded.vocoder.config.start, loaded.vocoder.config.network) == ("griffin-lim", "wave")
    assert not loaded.vocoder.uses_reference and loaded.format_version == 1
    wave = speech_like(0.8, 16000)
    np.testing.assert_array_equal(model.restore(wave, 16000)[0], loaded.restore(wave, 16000)[0])


def test_pairs_carry_the_degraded_input_at_24k_and_the_source_band(corpus):
    data = DegradedPairs(corpus, input_sr=24000, segment_seconds=0.5, preset="noise", seed=1)
    item = data[0]
    assert item["band_hz"] == 8000  # make_corpus writes 16 kHz audio
    assert len(item["degraded_out"]) == len(item["clean_out"])
    batch = collate_pairs([data[i] for i in range(3)])
    assert batch.degraded_out.shape == batch.clean_out.shape
    assert batch.band_hz.tolist() == [8000.0] * 3
    assert not torch.equal(batch.degraded_out, batch.clean_out)
    # whatever the input rate, the vocoder's reference is the same degraded audio at 24 kHz
    low = DegradedPairs(corpus, input_sr=16000, segment_seconds=0.5, preset="noise", seed=1)[0]
    np.testing.assert_array_equal(low["degraded_out"], item["degraded_out"])


def test_vocoder_steps_with_new_options_lower_the_spectral_loss(corpus):
    data = DegradedPairs(corpus, input_sr=24000, segment_seconds=0.6, preset="noise", seed=3)
    batch = collate_pairs([data[i] for i in range(2)])
    cfg = TrainConfig(corpus="", out="/nonexistent", lr=2e-3, adversarial_from=0)
    stage = VocoderStage(variant().train(), cfg, torch.device("cpu"))
    parts = [stage.step(batch, i) for i in range(20)]
    first = parts[0]["sc"] + parts[0]["log_mag"]
    last = np.mean([p["sc"] + p["log_mag"] for p in parts[-3:]])
    assert last < 0.85 * first, [p["sc"] + p["log_mag"] for p in parts]
    assert all(p["d_total"] > 0 for p in parts)
    assert list(parts[0]) == list(parts[-1])  # the same log columns at every step


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_yaml_model_trains_and_resumes_with_the_same_log_columns(corpus, tmp_path):
    """The CLI path: ``fleursr train vocoder --model my.yaml``. An interrupted run resumes to the
    same steps and columns; up to the interruption its rows are those of an uninterrupted run
    (after it they differ: the trainer reshuffles the data from the resumed step)."""
    spec = tmp_path / "variant.yaml"
    spec.write_text("size: tiny\nvocoder: {size: tiny, steps: 2, start: degraded, network: stft,"
                    " stft_dim: 32, stft_blocks: 2, stft_mult: 2}\n")  # fmt: skip
    common = dict(corpus=str(corpus), model=str(spec), batch_size=2, segment_seconds=0.5,
                  log_every=1, val_every=100, val_items=1, lr=1e-3, save_every=2)  # fmt: skip
    whole, split = tmp_path / "whole", tmp_path / "split"
    train_vocoder(TrainConfig(out=str(whole), steps=4, **common), progress=False)
    train_vocoder(TrainConfig(out=str(split), steps=2, **common), progress=False)
    train_vocoder(TrainConfig(out=str(split), steps=4, **common), progress=False)
    a, b = _rows(whole / "train_log.csv"), _rows(split / "train_log.csv")
    assert [r["step"] for r in b] == ["1", "2", "3", "4"]
    assert all(list(r) == list(a[0]) for r in a + b)
    assert all(r[k] not in ("", None) for r in a + b for k in r)
    for x, y in zip(a[:2], b[:2]):
        assert {k: v for k, v in x.items() if k != "seconds"} == {
            k: v for k, v in y.items() if k != "seconds"
        }
    config = json.loads((split / "config.json").read_text())
    assert config["version"] == 2 and config["model"]["vocoder"]["network"] == "stft"
    restored, sr = Restorer.from_pretrained(split).restore(speech_like(0.5, 16000), 16000)
    assert sr == 24000 and len(restored) == 12000 and np.isfinite(restored).all()


def _share_above(wave: np.ndarray, sr: int, hz: float) -> float:
    spec = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    return float(spec[np.fft.rfftfreq(len(wave), 1 / sr) >= hz].sum() / spec.sum())


def test_degraded_rate_takes_the_band_above_8k_from_the_input_only(tmp_path):
    """A 24 kHz source: with degraded_rate=16000 the degraded crop loses what lies above 8 kHz
    (as a 16 kHz FLEURS recording has), the clean target keeps it."""
    root = make_corpus(tmp_path / "c24", ("en_us",), per_language=3, sr=24000, duration=1.0)
    plain, limited = (DegradedPairs(root, input_sr=24000, split=None, preset="light", seed=3,
                                    degraded_rate=rate)[0] for rate in (None, 16000))  # fmt: skip
    clean = _share_above(plain["clean_out"], 24000, 8500)
    assert clean > 1e-5  # speech-like harmonics reach 10.8 kHz, weakly
    assert _share_above(plain["degraded_out"], 24000, 8500) > 0.1 * clean  # off: band kept
    assert _share_above(limited["degraded_out"], 24000, 8500) < 0.01 * clean
    assert _share_above(limited["degraded"], 24000, 8500) < 0.01 * clean
    np.testing.assert_array_equal(plain["clean_out"], limited["clean_out"])
    assert len(limited["degraded"]) == len(plain["degraded"])


def test_input_band_rate_restores_wide_band_input_as_its_16k_version():
    wide = speech_like(0.6, sr=22050)
    plain, banded = variant(), variant(input_band_rate=16000)
    at16 = resample(wide, 22050, 16000)
    np.testing.assert_array_equal(banded.restore(wide, 22050)[0], banded.restore(at16, 16000)[0])
    assert not np.array_equal(plain.restore(wide, 22050)[0], plain.restore(at16, 16000)[0])
    narrow = speech_like(0.6, sr=8000)  # a lower rate is left alone
    np.testing.assert_array_equal(banded.restore(narrow, 8000)[0], plain.restore(narrow, 8000)[0])
