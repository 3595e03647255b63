"""The Restorer at tiny size: any input, batches, windows, checkpoints, errors."""

import json

import numpy as np
import pytest
import torch

from fleursr.corpus.testing import speech_like
from fleursr.nn import MelSpectrogram
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer


def tiny(**overrides) -> Restorer:
    """A random tiny restorer whose WaveFit predicts noise as a trained one does (a fresh
    WaveFit's output layer is zero: it returns its seeded initial noise unchanged)."""
    torch.manual_seed(0)
    model = Restorer(restorer_config({"size": "tiny", **overrides}).to_dict()).eval()
    model.vocoder.generator.out.reset_parameters()
    return model


def test_component_shapes():
    model = tiny()
    wave = torch.randn(2, 24000) * 0.1
    lengths = torch.tensor([24000, 15000])
    feats, frames = model.features(wave, lengths)
    assert feats.shape == (2, 24000 // 256 + 1, 40) and frames.tolist() == [94, 59]
    mask = torch.arange(feats.shape[1])[None] < frames[:, None]
    cleaned = model.cleaner(feats, mask)
    assert cleaned.shape == feats.shape and cleaned[1, 59:].abs().max() == 0
    audio = model.vocoder(cleaned, mask)
    assert audio.shape == (2, 94 * 256)
    out, out_lengths = model(wave, lengths)
    assert out.shape == (2, 24000) and out_lengths.tolist() == [24000, 15000]
    assert out[1, 15000:].abs().max() == 0


@pytest.mark.parametrize(
    "wave, sr",
    [
        (speech_like(1.0, 16000), 16000),
        (speech_like(1.0, 44100), 44100),
        ((speech_like(1.0, 8000) * 32767).astype(np.int16), 8000),
        (np.stack([speech_like(1.0, 22050)] * 2, axis=1), 22050),  # (samples, channels)
        (np.stack([speech_like(1.0, 48000)] * 2, axis=0), 48000),  # (channels, samples)
        (speech_like(1.0, 24000).astype(np.float64), 24000),
    ],
)
def test_any_input_comes_out_at_24k(wave, sr):
    out, out_sr = tiny().restore(wave, sr)
    assert out_sr == 24000 and out.dtype == np.float32 and out.ndim == 1
    assert abs(len(out) - 24000) <= 2 and np.isfinite(out).all()


def test_restore_is_deterministic():
    model = tiny()
    wave = speech_like(1.0, 16000)
    np.testing.assert_array_equal(model.restore(wave, 16000)[0], model.restore(wave, 16000)[0])


@pytest.mark.parametrize(
    "wave, sr, message",
    [
        (np.zeros(0, np.float32), 16000, "empty"),
        (np.array(["a", "b"]), 16000, "numeric"),
        (np.array([0.1, np.nan] * 800, np.float32), 16000, "NaN"),
        (speech_like(0.5), 100, "sample rate 100"),
        (np.zeros((2, 3, 4), np.float32), 16000, "1-D or 2-D"),
    ],
)
def test_bad_input_is_refused_clearly(wave, sr, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny().restore(wave, sr)


def test_batch_matches_single_and_keeps_order():
    model = tiny()
    waves = [speech_like(d, 16000, seed=i) for i, d in enumerate((0.9, 0.4, 1.3, 0.7))]
    batch = model.restore_batch(waves, 16000, batch_size=3)
    assert [len(b) for b in batch] == [int(len(w) * 1.5) for w in waves]
    # Padding only changes the last frames' reflection padding (see MelFeatures) and the
    # per-utterance gain, so each row stays close to its single run.
    for wave, got in zip(waves, batch):
        alone = model.restore(wave, 16000)[0]
        assert np.corrcoef(alone, got)[0, 1] > 0.9


def _log_mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    mel = MelSpectrogram()
    n = min(len(a), len(b))
    ma, mb = (mel(torch.from_numpy(x[:n])[None]) for x in (a, b))
    return float((ma - mb).abs().mean())


def test_windowed_restoration_agrees_with_unwindowed():
    """Windows see less context, start WaveFit from other noise and set WaveFit's gain per
    window, so samples differ. What must hold: windowing does not make restoration worse (the
    log-mel distance to the input stays within 10 %), and it moves the output by much less
    than restoration itself moves it (under a quarter of the distance to the input). An
    untrained model is the hard case: a trained one follows the input's envelope, so the
    per-window gain agrees with the whole-input gain."""
    wave = speech_like(3.0, 24000, seed=4)
    whole = tiny(window_seconds=10.0).restore(wave, 24000)[0]
    windowed = tiny(window_seconds=1.0, overlap_seconds=0.25).restore(wave, 24000)[0]
    assert len(whole) == len(windowed) == len(wave)
    d_whole, d_windowed = _log_mel_distance(whole, wave), _log_mel_distance(windowed, wave)
    assert d_windowed <= 1.1 * d_whole
    assert _log_mel_distance(whole, windowed) < 0.25 * d_whole


def test_window_seams_are_continuous():
    model = tiny(window_seconds=1.0, overlap_seconds=0.25)
    wave = speech_like(4.0, 24000, seed=2)
    out = model.restore(wave, 24000)[0]
    _, overlap, starts = model._window_plan(len(wave))
    jumps = np.abs(np.diff(out))
    typical = np.percentile(jumps, 99.9)
    for s in starts[1:]:
        for edge in (s, s + overlap):  # where a window's fade starts and where it ends
            assert jumps[edge - 3 : edge + 3].max() <= 2 * typical


def test_checkpoint_round_trip(tmp_path):
    model = tiny()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))  # not the init: the weights must really load
    model.save_pretrained(tmp_path / "ckpt")
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert "config.json" in files and "model.safetensors" in files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["format"] == "fleursr-restorer" and config["version"] == 1
    assert config["model"]["size"] == "tiny" and config["model"]["cleaner"]["depth"] == 1
    loaded = Restorer.from_pretrained(tmp_path / "ckpt")
    wave = speech_like(0.8, 16000)
    np.testing.assert_array_equal(model.restore(wave, 16000)[0], loaded.restore(wave, 16000)[0])


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        Restorer.from_pretrained(tmp_path)
    tiny().save_pretrained(tmp_path / "a")
    other = tiny(cleaner={"depth": 2})
    other.save_pretrained(tmp_path / "b")
    (tmp_path / "a" / "model.safetensors").replace(tmp_path / "c.safetensors")
    (tmp_path / "b" / "model.safetensors").replace(tmp_path / "a" / "model.safetensors")
    with pytest.raises(ValueError, match="weights do not match the config"):
        Restorer.from_pretrained(tmp_path / "a")
    other_kind = json.loads((tmp_path / "a" / "config.json").read_text()) | {"format": "x"}
    (tmp_path / "a" / "config.json").write_text(json.dumps(other_kind))
    with pytest.raises(ValueError, match="format 'x' is not 'fleursr-restorer'"):
        Restorer.from_pretrained(tmp_path / "a")


def test_memory_stays_flat_with_duration():
    """Peak memory of a 10-minute input exceeds a 1-minute one's by the input and output arrays
    alone (float32, 24 kHz): the model's working memory does not grow with duration. (Run
    whole, a 10-minute input would need several GB of activations at the sample rate.)"""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "scripts" / "peak_memory.py"
    peaks = {}
    for seconds in (60, 600):
        out = subprocess.run([sys.executable, str(script), str(seconds)], capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
        peaks[seconds] = float(out[2])
    io_mb = 2 * (600 - 60) * 24000 * 4 / 2**20
    assert peaks[600] - peaks[60] < io_mb + 64, peaks


def test_ssl_restorer_from_a_local_hub_directory(tmp_path):
    """A w2v-BERT-shaped encoder saved as a local "hub" repo: 50 Hz features, hop 480 at 24 kHz,
    peak gain; its weights stay out of the checkpoint and are reloaded from the repo."""
    import transformers as tf

    torch.manual_seed(0)
    config = tf.Wav2Vec2BertConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                                   intermediate_size=64, output_hidden_size=32,
                                   conv_depthwise_kernel_size=5)  # fmt: skip
    hub = tmp_path / "tiny-w2v-bert"
    tf.Wav2Vec2BertModel(config).save_pretrained(hub)
    tf.SeamlessM4TFeatureExtractor().save_pretrained(hub)
    model = tiny(features={"kind": "ssl", "model": str(hub), "layer": 2})
    assert model.input_sample_rate == 16000 and model.vocoder.hop_length == 480
    assert model.vocoder.config.gain == "peak"
    out, sr = model.restore(speech_like(1.0, 16000), 16000)
    assert sr == 24000 and len(out) == 24000 and 0.5 < np.abs(out).max() <= 0.91
    model.save_pretrained(tmp_path / "ckpt")
    from safetensors.torch import load_file

    saved = set(load_file(tmp_path / "ckpt" / "model.safetensors"))
    assert saved and not any(k.startswith("features.") for k in saved)
    again = Restorer.from_pretrained(tmp_path / "ckpt")
    np.testing.assert_array_equal(again.restore(speech_like(1.0, 16000), 16000)[0], out)
