"""Audio read, resampled and written block by block, for recordings too long to hold whole.

:func:`open_blocks` validates as :func:`~fleursr.corpus.audio.read_audio` does, with the same
error classes and messages: the header (sample rate, zero samples, too short) when it opens,
each block's samples (NaN or infinite) as it is read, so a NaN late in a long file still fails
it. Containers libsndfile cannot read fall back to ``read_audio``'s whole-file decode (PyAV),
handed on as one block. :class:`StreamResampler` gives, piece by piece, exactly what
:func:`~fleursr.corpus.audio.resample` gives on the whole signal. :class:`AudioWriter` writes as
:func:`~fleursr.corpus.audio.write_audio` does (temporary name, renamed when complete), a block
at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from fleursr.corpus.audio import (
    CorruptAudioError,
    EmptyAudioError,
    NonFiniteAudioError,
    check_rate,
    read_audio,
    sound_format,
)

BLOCK_FRAMES = 1 << 16  # frames read at a time (4 s at 16 kHz)


@dataclass
class AudioBlocks:
    """An opened recording: its rate, its length by the header, and its mono float32 blocks
    (iterate once). Mono is the mean of the channels, as ``read_audio(mono=True)`` makes it."""

    label: str
    sample_rate: int
    frames: int
    _blocks: Callable[[], Iterator[np.ndarray]]

    def __iter__(self) -> Iterator[np.ndarray]:
        return self._blocks()


def _whole(path: Path, min_duration: float) -> AudioBlocks:
    wave, sr = read_audio(path, min_duration=min_duration)
    return AudioBlocks(str(path), sr, len(wave), lambda: iter([wave]))


def open_blocks(
    path: str | os.PathLike, *, min_duration: float = 0.0, block_frames: int = BLOCK_FRAMES
) -> AudioBlocks:
    """Open ``path`` for reading by blocks of ``block_frames``. Raises what ``read_audio``
    raises: on opening for the file and its header, while iterating for bad samples (after
    reading to the end, to count them) or a decoding failure. A file too short for
    ``min_duration`` (or empty by its header) is read whole, so its errors come in
    ``read_audio``'s order."""
    path = Path(path)
    label = str(path)
    if not path.is_file() or path.stat().st_size == 0:  # read_audio names what is wrong
        return _whole(path, min_duration)
    try:
        info = sf.info(str(path))
    except Exception:  # a container libsndfile does not know: PyAV, whole
        return _whole(path, min_duration)
    sr, frames = int(info.samplerate), int(info.frames)
    check_rate(label, sr)
    if frames <= 0 or frames < min_duration * sr:
        return _whole(path, min_duration)
    return AudioBlocks(label, sr, frames, lambda: _read_blocks(path, label, block_frames))


def _read_blocks(path: Path, label: str, block_frames: int) -> Iterator[np.ndarray]:
    bad = frames = 0
    with sf.SoundFile(str(path)) as f:
        while True:  # not f.blocks(): its last block is not cut to the frames actually read
            try:
                block = f.read(block_frames, dtype="float32", always_2d=True)
            except RuntimeError as err:  # libsndfile fails part way through
                raise CorruptAudioError(label, f"cannot decode audio ({err})") from err
            if not len(block):
                break
            finite = np.isfinite(block)
            if bad or not finite.all():  # count to the end, as read_audio reports them all
                bad += int(finite.size - np.count_nonzero(finite))
                continue
            frames += len(block)
            yield block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
    if bad:
        raise NonFiniteAudioError(label, f"{bad} samples are NaN or infinite")
    if not frames:
        raise EmptyAudioError(label, "decodes to zero samples")


class StreamResampler:
    """soxr's streaming resampler at ``resample``'s quality: feed consecutive pieces of one
    signal, then ``last=True``; the pieces out, concatenated, equal ``resample`` of the whole."""

    _empty = np.zeros(0, np.float32)

    def __init__(self, orig_sr: int, target_sr: int) -> None:
        self._stream = None  # the same rate: the pieces pass through, as in ``resample``
        if orig_sr != target_sr:
            self._stream = soxr.ResampleStream(orig_sr, target_sr, 1, dtype="float32",
                                               quality="HQ")  # fmt: skip

    def __call__(self, x: np.ndarray | None = None, last: bool = False) -> np.ndarray:
        x = self._empty if x is None else np.ascontiguousarray(x, dtype=np.float32)
        return x if self._stream is None else self._stream.resample_chunk(x, last=last)


def resample_blocks(blocks: Iterable[np.ndarray], orig_sr: int, target_sr: int
                    ) -> Iterator[np.ndarray]:  # fmt: skip
    """Consecutive mono float32 blocks at ``orig_sr`` -> consecutive blocks at ``target_sr``
    (pass-through when the rates match)."""
    if orig_sr == target_sr:
        yield from blocks
        return
    stream = StreamResampler(orig_sr, target_sr)
    for block in blocks:
        out = stream(block)
        if len(out):
            yield out
    yield stream(last=True)


class AudioWriter:
    """Mono float audio written block by block to ``path`` (format from the suffix, FLAC and
    WAV as 16-bit PCM, as ``write_audio``), under a temporary name until :meth:`commit`;
    :meth:`discard` (a no-op after commit) removes it, so a failure never leaves part of a
    file."""

    def __init__(self, path: str | os.PathLike, sr: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        fmt, subtype = sound_format(self.path)
        self._file: sf.SoundFile | None = sf.SoundFile(
            str(self.tmp), "w", samplerate=sr, channels=1, format=fmt, subtype=subtype
        )

    def write(self, wave: np.ndarray) -> None:
        assert self._file is not None, "already committed or discarded"
        self._file.write(np.clip(wave, -1.0, 1.0))

    def commit(self) -> None:
        assert self._file is not None, "already committed or discarded"
        self._file.close()
        self._file = None
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self._file is None:
            return
        try:
            self._file.close()
        except Exception:  # noqa: S110 - the file is removed either way
            pass
        self._file = None
        self.tmp.unlink(missing_ok=True)


__all__ = ["AudioBlocks", "AudioWriter", "StreamResampler", "open_blocks", "resample_blocks"]
