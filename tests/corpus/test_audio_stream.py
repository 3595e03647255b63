"""Audio by blocks: the same samples and the same errors as reading, resampling and writing
the whole recording."""

import numpy as np
import pytest
import soundfile as sf

from fleursr.corpus.audio import (
    AudioError,
    SampleRateError,
    TooShortAudioError,
    read_audio,
    resample,
)
from fleursr.corpus.audio_stream import AudioWriter, open_blocks, resample_blocks
from fleursr.corpus.testing import speech_like


def test_blocks_are_read_audio_in_pieces(tmp_path):
    wave = np.stack([speech_like(3.0, 22050, seed=1), speech_like(3.0, 22050, seed=2)], 1)
    sf.write(tmp_path / "a.flac", wave, 22050)
    blocks = open_blocks(tmp_path / "a.flac", block_frames=1000)
    assert (blocks.sample_rate, blocks.frames) == (22050, 3 * 22050)
    pieces = list(blocks)
    assert len(pieces) == 67 and all(p.ndim == 1 for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), read_audio(tmp_path / "a.flac")[0])


@pytest.mark.parametrize("case", ["missing", "empty", "rate", "short", "corrupt"])
def test_errors_are_read_audios(tmp_path, case):
    path = tmp_path / "x.wav"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "rate":
        sf.write(path, speech_like(0.5, 2000), 2000)
    elif case == "short":
        sf.write(path, speech_like(0.05, 16000), 16000)
    elif case == "corrupt":
        path.write_bytes(b"RIFF not really")
    with pytest.raises(AudioError) as whole:
        read_audio(path, min_duration=0.1)
    with pytest.raises(AudioError) as streamed:
        list(open_blocks(path, min_duration=0.1))
    assert type(streamed.value) is type(whole.value)
    assert str(streamed.value) == str(whole.value) and str(path) in str(whole.value)
    if case in ("rate", "short"):
        assert isinstance(whole.value, (SampleRateError, TooShortAudioError))


def test_resampled_blocks_are_resample_of_the_whole():
    wave = speech_like(2.0, 44100)
    blocks = (wave[i : i + 3001] for i in range(0, len(wave), 3001))
    np.testing.assert_array_equal(np.concatenate(list(resample_blocks(blocks, 44100, 16000))),
                                  resample(wave, 44100, 16000))  # fmt: skip


def test_writer_leaves_nothing_until_committed(tmp_path):
    writer = AudioWriter(tmp_path / "sub" / "o.flac", 24000)
    writer.write(speech_like(0.5, 24000))
    assert not (tmp_path / "sub" / "o.flac").exists()
    writer.discard()
    assert list((tmp_path / "sub").iterdir()) == []
    writer = AudioWriter(tmp_path / "o.wav", 24000)
    for _ in range(3):
        writer.write(speech_like(0.5, 24000))
    writer.commit()
    writer.discard()  # a no-op once committed
    assert sf.info(tmp_path / "o.wav").frames == 36000
