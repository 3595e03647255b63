"""One audio file restored into another, streamed: flat memory whatever the duration.

The project's :class:`~fleursr.restore.model.Restorer` reads the input by blocks
(:func:`~fleursr.corpus.audio_stream.open_blocks`, validated as ``read_audio`` validates),
restores it window by window (:meth:`Restorer.restore_stream`, the windows of ``restore``) and
writes each finished stretch of output as it comes, to a temporary name renamed when whole: a
60-minute recording restores in the memory of a 1-minute one, to the same samples as
``Restorer.restore`` on the whole. Other restorers (:mod:`fleursr.restore.peers`) get the whole
recording.

What goes wrong is told apart for the caller: bad input raises its
:class:`~fleursr.corpus.audio.AudioError` (a NaN late in a stream too), an output that cannot be
written raises :class:`WriteError`, anything else came from the restorer. No partial output is
left either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np

from fleursr.corpus.audio import read_audio
from fleursr.corpus.audio_stream import BLOCK_FRAMES, AudioWriter, open_blocks
from fleursr.restore.base import SpeechRestorer
from fleursr.restore.corpus import MIN_RESTORE_SECONDS
from fleursr.restore.model import Restorer

T = TypeVar("T")


class WriteError(Exception):
    """The restored audio could not be written: ``path`` names the output, the message says
    why (the original exception's type and message)."""

    def __init__(self, path: str | os.PathLike, cause: BaseException) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {type(cause).__name__}: {cause}")


def _writing(path: Path, step: Callable[..., T], *args: object) -> T:
    try:
        return step(*args)
    except Exception as err:
        raise WriteError(path, err) from err


def restore_file(
    restorer: SpeechRestorer, src: str | os.PathLike, dst: str | os.PathLike, *,
    min_duration: float = MIN_RESTORE_SECONDS, block_frames: int = BLOCK_FRAMES,
) -> float:  # fmt: skip
    """Restore the audio file ``src`` into ``dst`` (format from its suffix); returns the
    seconds of input restored. Input shorter than ``min_duration`` is a
    :class:`~fleursr.corpus.audio.TooShortAudioError`."""
    src, dst = Path(src), Path(dst)
    if not isinstance(restorer, Restorer):
        wave, sr = read_audio(src, mono=False, min_duration=min_duration)
        out, out_sr = restorer.restore(wave, sr)
        _write(dst, out_sr, [out])
        return len(wave) / sr
    blocks = open_blocks(src, min_duration=min_duration, block_frames=block_frames)
    frames = 0

    def counted() -> Iterator[np.ndarray]:
        nonlocal frames
        for block in blocks:
            frames += len(block)
            yield block

    _write(dst, restorer.sample_rate, restorer.restore_stream(counted(), blocks.sample_rate))
    return frames / blocks.sample_rate


def _write(dst: Path, sr: int, pieces: Iterable[np.ndarray]) -> None:
    """Write ``pieces`` one after another as they come; nothing is left at ``dst`` (nor its
    temporary name) unless all of them were written. Non-finite restored samples are the
    restorer's failure (a ``ValueError``), not the writer's."""
    writer = _writing(dst, AudioWriter, dst, sr)
    try:
        for piece in pieces:
            if not np.isfinite(piece).all():
                raise ValueError("the restored audio has NaN or infinite samples")
            _writing(dst, writer.write, piece)
        _writing(dst, writer.commit)
    finally:
        writer.discard()


__all__ = ["WriteError", "restore_file"]
