"""File -> file restoration streamed (``fleursr restore FILE OUT``): the samples of
``Restorer.restore`` on the whole recording, bad input found late still fails the file, and no
partial output is left."""

import numpy as np
import pytest
import soundfile as sf
import torch

from fleursr.corpus.audio import NonFiniteAudioError, read_audio, write_audio
from fleursr.corpus.testing import speech_like
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer
from fleursr.restore.stream import restore_file

MASKED = {"size": "tiny", "steps": 2, "start": "masked", "network": "stft", "stft_dim": 32,
          "stft_blocks": 2, "stft_mult": 2}  # fmt: skip


def tiny(**overrides) -> Restorer:
    torch.manual_seed(0)
    return Restorer(restorer_config({"size": "tiny", **overrides}).to_dict()).eval()


@pytest.fixture(scope="module")
def long_stereo(tmp_path_factory):
    """25 s of two-channel 44.1 kHz speech-like audio: tiny windows are 2 s, 15 of them."""
    path = tmp_path_factory.mktemp("in") / "long.wav"
    wave = np.stack([speech_like(25.0, 44100, seed=1), speech_like(25.0, 44100, seed=2)], 1)
    sf.write(path, wave, 44100, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "model",
    [{}, {"vocoder": MASKED, "input_band_rate": 16000, "window_seconds": 1.5, "window_batch": 3}],
    ids=["tiny", "reference-start-band-limited"],
)
def test_streamed_file_is_restore_on_the_whole(long_stereo, tmp_path, model):
    restorer = tiny(**model)
    wave, sr = read_audio(long_stereo, mono=False)
    whole = restorer.restore(wave, sr)[0]
    assert len(restorer._window_plan(len(restorer.prepare(wave, sr)))[2]) >= 12
    blocks = (wave[i : i + 5000] for i in range(0, len(wave), 5000))
    streamed = np.concatenate(list(restorer.restore_stream((b.mean(axis=1) for b in blocks), sr)))
    assert len(streamed) == len(whole) == 25 * 24000
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-6)
    # through the file: read by odd-sized blocks, written as it comes (16-bit FLAC)
    seconds = restore_file(restorer, long_stereo, tmp_path / "out.flac", block_frames=7777)
    assert seconds == pytest.approx(25.0)
    write_audio(tmp_path / "whole.flac", whole, 24000)
    out, out_sr = sf.read(tmp_path / "out.flac", dtype="float32")
    assert out_sr == 24000 and np.abs(out - whole).max() <= 1e-4
    np.testing.assert_array_equal(out, sf.read(tmp_path / "whole.flac", dtype="float32")[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.flac", "whole.flac"]


def test_a_nan_late_in_the_stream_fails_the_file_and_leaves_nothing(tmp_path):
    wave = speech_like(8.0, 16000)
    wave[-100] = np.nan
    wave[-5:] = np.inf
    sf.write(tmp_path / "in.wav", wave, 16000, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError) as whole:
        read_audio(tmp_path / "in.wav")
    with pytest.raises(NonFiniteAudioError) as streamed:
        restore_file(tiny(), tmp_path / "in.wav", tmp_path / "out.flac", block_frames=4000)
    assert str(streamed.value) == str(whole.value)
    assert str(whole.value) == f"{tmp_path / 'in.wav'}: 6 samples are NaN or infinite"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]  # not out.flac, nor its .tmp


def test_containers_libsndfile_cannot_read_are_restored_whole(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "in.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(speech_like(1.0, 16000)[None], format="flt",
                                           layout="mono")  # fmt: skip
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    restorer = tiny()
    wave, sr = read_audio(path)
    assert restore_file(restorer, path, tmp_path / "out.wav") == pytest.approx(len(wave) / sr)
    out = sf.read(tmp_path / "out.wav", dtype="float32")[0]
    assert np.abs(out - restorer.restore(wave, sr)[0]).max() <= 1e-4
