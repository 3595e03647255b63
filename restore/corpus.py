"""Restore utterances of a corpus: one output row for every input row, none lost.

Both ways a corpus is restored go through :func:`restore_utterances`: ``fleursr restore CORPUS
OUT`` (:func:`fleursr.restore.apply.restore_path`, the audio written as files under
``OUT/audio/``) and the restore stage of the dask batch job (``fleursr.jobs.batch.stages``, the
audio embedded in the shard as FLAC bytes).

An input row that is already an error is copied through. Unreadable audio (any
:class:`~fleursr.corpus.audio.AudioError`) becomes a row with ``status="error"`` whose ``error``
names the kind and the file; a model failure on one utterance becomes a ``RestoreError`` row
while the rest of its batch is restored.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from fleursr.corpus.audio import AudioError, encode_flac, write_audio
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance
from fleursr.restore.base import SpeechRestorer

AUDIO_DIR = "audio"  # where restored audio goes when it is written as files
#: shorter audio is an error row (a file), not a restorer's failure: the batch job's default
#: (``fleursr.jobs.batch.pipeline.restore_params``) and ``fleursr restore``'s, on every input
MIN_RESTORE_SECONDS = 0.1

T = TypeVar("T")
R = TypeVar("R")


def isolate(run: Callable[[list[T]], list[R]], items: list[T]) -> list[R | Exception]:
    """``run`` on the whole batch; if that fails, on each item alone so one bad item fails
    alone. A failed item's result is its exception."""
    try:
        return list(run(items))
    except Exception:
        out: list[R | Exception] = []
        for item in items:
            try:
                out.append(run([item])[0])
            except Exception as err:  # a failure on this item
                out.append(err)
        return out


def original_ref(src: Corpus, utt: Utterance, out_root: str | os.PathLike) -> str:
    """Where the original audio of ``utt`` is, for scoring it beside the restored one: a path
    relative to ``out_root``, or ``corpus_dir#id`` when the source embeds its audio (what
    :meth:`Corpus.load_reference` reads)."""
    if utt.audio is not None:
        return f"{src.root.resolve()}#{utt.id}"
    # abspath, not resolve(): a link loop or a dangling link is the reader's error to report
    return os.path.relpath(os.path.abspath(src.resolve(utt.path)), os.path.abspath(out_root))


def _twin(src: Corpus, utt: Utterance, out_root: Path, embed: bool) -> Utterance:
    """The output row of ``utt`` before its audio is restored (the input's length and rate)."""
    name = f"{utt.language}/{utt.split}/{utt.id}.flac"
    extra = {**utt.extra, "original_path": original_ref(src, utt, out_root),
             "original_num_samples": utt.num_samples,
             "original_sampling_rate": utt.sampling_rate}  # fmt: skip
    path = name if embed else f"{AUDIO_DIR}/{name}"
    return dataclasses.replace(utt, path=path, audio=None, extra=extra)


def restore_utterances(
    restorer: SpeechRestorer, src: Corpus, utts: Sequence[Utterance],
    out_root: str | os.PathLike,
    *, embed: bool = False, batch_size: int = 8, min_seconds: float = MIN_RESTORE_SECONDS,
) -> tuple[list[Utterance], float]:  # fmt: skip
    """Restore ``utts`` (rows of ``src``) for the corpus at ``out_root``; returns the output rows,
    one per input row in input order, and the seconds of input audio restored.

    Utterances are restored in batches of ``batch_size`` of similar length (by the manifest's
    duration, so little padding). Restored audio is embedded as FLAC bytes (``embed``) or
    written to ``out_root/audio/LANG/SPLIT/ID.flac``; ``path`` names it either way (without
    ``audio/`` when embedded). Audio shorter than ``min_seconds`` is an error row.
    """
    out_root = Path(out_root)
    rows = [_twin(src, utt, out_root, embed) for utt in utts]
    todo = sorted((i for i, u in enumerate(utts) if u.ok), key=lambda i: utts[i].duration)
    seconds = 0.0
    for b in range(0, len(todo), batch_size):
        ready: list[tuple[int, np.ndarray, int]] = []
        for i in todo[b : b + batch_size]:
            try:
                wave, sr = src.load_audio(utts[i], min_duration=min_seconds)
            except AudioError as err:
                rows[i] = rows[i].with_error(err)
                continue
            rows[i].extra["original_num_samples"] = len(wave)
            rows[i].extra["original_sampling_rate"] = sr
            ready.append((i, wave, sr))

        def run(items: list[tuple[int, np.ndarray, int]]) -> list[np.ndarray]:
            return restorer.restore_batch([w for _, w, _ in items], [s for *_, s in items],
                                          batch_size)  # fmt: skip

        for (i, wave, sr), restored in zip(ready, isolate(run, ready)):
            if isinstance(restored, Exception):
                rows[i] = rows[i].with_error(f"RestoreError: {type(restored).__name__}: {restored}")
                continue
            _put(rows[i], restored, restorer.sample_rate, out_root, embed)
            seconds += len(wave) / sr
    return rows, seconds


def _put(utt: Utterance, wave: np.ndarray, sr: int, out_root: Path, embed: bool) -> None:
    if embed:
        utt.audio = {"bytes": encode_flac(wave, sr), "path": Path(utt.path).name}
    else:
        write_audio(out_root / utt.path, wave, sr)
    utt.num_samples, utt.sampling_rate = len(wave), sr


__all__ = ["AUDIO_DIR", "MIN_RESTORE_SECONDS", "isolate", "original_ref", "restore_utterances"]
