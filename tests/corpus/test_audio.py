import io

import numpy as np
import pytest
import soundfile as sf

from fleursr.corpus.audio import (
    AudioError,
    CorruptAudioError,
    EmptyAudioError,
    MissingAudioError,
    NonFiniteAudioError,
    SampleRateError,
    TooShortAudioError,
    as_float32,
    encode_flac,
    probe_audio,
    read_audio,
    to_mono,
    write_audio,
)
from fleursr.corpus.testing import speech_like


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(MissingAudioError, match="nope.wav: file does not exist"):
        read_audio(path)
    with pytest.raises(MissingAudioError, match="nope.wav"):
        probe_audio(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    with pytest.raises(CorruptAudioError, match="garbage.wav: cannot decode"):
        read_audio(path)


def test_empty_file_and_zero_frames(tmp_path):
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="empty.flac"):
        read_audio(empty)
    silent = tmp_path / "zero.wav"
    sf.write(silent, np.zeros(0, np.float32), 16000)
    with pytest.raises(EmptyAudioError, match="zero.wav: decodes to zero samples"):
        read_audio(silent)


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    wave = speech_like(0.5)
    wave[100:103] = np.nan
    wave[200] = np.inf
    sf.write(path, wave, 16000, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError, match="nan.wav: 4 samples are NaN or infinite"):
        read_audio(path)


def test_too_short(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, speech_like(0.2), 16000)
    with pytest.raises(TooShortAudioError, match="short.wav: 0.200 s is shorter"):
        read_audio(path, min_duration=0.5)
    assert read_audio(path, min_duration=0.1)[0].shape == (3200,)


@pytest.mark.parametrize("sr", [1000, 1_000_000])
def test_implausible_sample_rate(tmp_path, sr):
    path = tmp_path / f"rate{sr}.wav"
    sf.write(path, speech_like(0.5), sr)
    with pytest.raises(SampleRateError, match=f"rate{sr}.wav: implausible sample rate {sr}"):
        read_audio(path)


def test_errors_are_audio_errors_and_pickle():
    import pickle

    err = pickle.loads(pickle.dumps(TooShortAudioError("a.wav", "too short")))
    assert isinstance(err, AudioError) and err.path == "a.wav" and str(err) == "a.wav: too short"


def test_bytes_name_in_errors():
    with pytest.raises(CorruptAudioError, match=r"manifest\[u1\]"):
        read_audio(b"not audio at all", name="manifest[u1]")


def test_stereo_int_and_resample(tmp_path):
    left = speech_like(1.0, 44100, seed=1)
    stereo = np.stack([left, -left * 0.5], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, (stereo * 32767).astype(np.int16), 44100)
    wave, sr = read_audio(path, target_sr=16000)
    assert sr == 16000 and wave.shape == (16000,) and wave.dtype == np.float32
    both, sr2 = read_audio(path, mono=False)
    assert both.shape == (44100, 2) and sr2 == 44100
    assert np.allclose(to_mono(both), (both[:, 0] + both[:, 1]) / 2)
    assert np.allclose(to_mono(both.T), to_mono(both))


def test_as_float32_scales_integer_pcm():
    assert as_float32(np.array([-32768, 16384], np.int16)).tolist() == [-1.0, 0.5]
    assert as_float32(np.array([0, 128], np.uint8)).tolist() == [-1.0, 0.0]
    assert as_float32(np.array([0.25], np.float64)).dtype == np.float32


def test_pyav_fallback_reads_m4a(tmp_path):
    import av

    wave = speech_like(1.0, 16000)
    path = tmp_path / "clip.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(wave[None, :], format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    back, sr = read_audio(path)
    assert sr == 16000 and abs(len(back) - len(wave)) < 3000


def test_write_flac_is_atomic_and_round_trips(tmp_path):
    wave = speech_like(0.5)
    path = tmp_path / "sub" / "x.flac"
    write_audio(path, wave, 16000)
    assert not list(tmp_path.rglob("*.tmp"))
    back, _ = read_audio(path)
    assert np.max(np.abs(back - wave)) < 1e-4
    assert probe_audio(path) == (8000, 16000)
    assert sf.read(io.BytesIO(encode_flac(wave, 16000)))[0].shape == (8000,)
