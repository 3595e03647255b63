"""What one task does to one shard: restore it, or score it. Runs on a dask worker (or in
this process); models come from :func:`jobs.models.worker_models`.

Every input row comes out exactly once. Unreadable audio (any ``corpus.audio.AudioError``),
text that is not UTF-8 and a model failure on one utterance each turn that utterance into a
row with ``status="error"`` and an ``error`` naming the kind; the shard still completes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from corpus.audio import AudioError, encode_flac, read_audio
from corpus.manifest import Corpus
from corpus.record import Utterance
from jobs.inputs import read_rows
from jobs.models import ModelSpec, worker_models
from jobs.runs import write_shard
from quality.score import SCORE_RATE, score_batch


@dataclass
class ShardTask:
    """Everything a worker needs for one shard (small; travels to the worker)."""

    stage: str  # "restore" | "score"
    index: int
    input_root: str
    run_root: str
    start: int
    stop: int
    out_file: str
    spec: ModelSpec
    source_file: str | None = None  # score: the restored shard it reads
    batch_size: int = 8
    options: dict[str, Any] = field(default_factory=dict)


def _chunks(items: list[Utterance], size: int) -> Iterator[list[Utterance]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _isolate(run: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """``run`` on the whole batch; if that fails, on each item alone so one bad utterance
    fails alone. A failed item's result is the exception."""
    try:
        return run(items)
    except Exception:
        out: list[Any] = []
        for item in items:
            try:
                out.append(run([item])[0])
            except Exception as err:  # a model failure on this utterance
                out.append(err)
        return out


def _original_ref(src: Corpus, utt: Utterance, run_root: Path) -> str:
    if utt.audio is not None:
        return f"{src.root.resolve()}#{utt.id}"
    return os.path.relpath(src.resolve(utt.path).resolve(), run_root.resolve())


def restore_shard(task: ShardTask) -> dict[str, Any]:
    """Restore input rows ``[start, stop)`` into ``out_file`` (24 kHz FLAC embedded)."""
    restorer = worker_models(task.spec).restorer
    src = Corpus(task.input_root)
    min_seconds = float(task.options.get("min_seconds", 0.1))
    out: list[Utterance] = []
    seconds = 0.0
    for batch in _chunks(read_rows(task.input_root, task.start, task.stop), task.batch_size):
        ready: list[tuple[int, np.ndarray, int]] = []
        for utt in batch:
            twin = dataclasses.replace(utt, path=f"{utt.language}/{utt.split}/{utt.id}.flac",
                                       audio=None)  # fmt: skip
            ref = _original_ref(src, utt, Path(task.run_root))
            twin.extra = {**utt.extra, "original_path": ref,
                          "original_num_samples": utt.num_samples,
                          "original_sampling_rate": utt.sampling_rate}  # fmt: skip
            out.append(twin)
            if not utt.ok:
                continue
            try:
                wave, sr = src.load_audio(utt, min_duration=min_seconds)
            except AudioError as err:
                out[-1] = twin.with_error(err)
                continue
            twin.extra["original_num_samples"], twin.extra["original_sampling_rate"] = len(wave), sr
            ready.append((len(out) - 1, wave, sr))
        results = _isolate(
            lambda items: restorer.restore_batch(
                [w for _, w, _ in items], [s for *_, s in items], task.batch_size
            ),  # fmt: skip
            ready,
        )
        for (i, wave, sr), restored in zip(ready, results):
            utt = out[i]
            if isinstance(restored, Exception):
                out[i] = utt.with_error(f"RestoreError: {type(restored).__name__}: {restored}")
                continue
            utt.audio = {"bytes": encode_flac(restored, restorer.sample_rate),
                         "path": Path(utt.path).name}  # fmt: skip
            utt.num_samples, utt.sampling_rate = len(restored), restorer.sample_rate
            seconds += len(wave) / sr
    checksum, rows = write_shard(Path(task.out_file), out)
    return _result(task, checksum, rows, out, seconds)


def _result(task: ShardTask, checksum: str, rows: int, out: list[Utterance],
            seconds: float) -> dict[str, Any]:  # fmt: skip
    return {"file": os.path.relpath(task.out_file, task.run_root), "sha256": checksum,
            "rows": rows, "audio_seconds": seconds, "source": task.options.get("source_sha"),
            "errors": sum(not u.ok for u in out)}  # fmt: skip


def _wave_16k(utt: Utterance, column: str, run_root: Path, originals: dict[str, Utterance],
              src: Corpus) -> np.ndarray:  # fmt: skip
    """The 16 kHz audio that ``column`` names for ``utt``: ``path`` (its own audio) or
    ``original_path`` (the input row), or any reference column (a path in the run)."""
    if column == "path":
        if utt.audio is not None:
            return read_audio(utt.audio["bytes"], name=f"{utt.id}:{utt.path}",
                              target_sr=SCORE_RATE)[0]  # fmt: skip
        return read_audio(run_root / utt.path, target_sr=SCORE_RATE)[0]
    if column == "original_path" and utt.id in originals:
        return src.load_audio(originals[utt.id], target_sr=SCORE_RATE)[0]
    reference = utt.extra.get(column)
    if not reference:
        raise AudioError(f"{utt.id}", f"no {column!r} to score")
    return Corpus(run_root).load_reference(reference, target_sr=SCORE_RATE)[0]


def score_shard(task: ShardTask) -> dict[str, Any]:
    """Score a restored shard under each ``(label, column)`` of ``options["labels"]`` with the
    same ASR and MOS predictor. ASR skips utterances longer than ``max_asr_seconds``."""
    models = worker_models(task.spec)
    labels: list[list[str]] = task.options["labels"]
    max_asr = float(task.options.get("max_asr_seconds", 60.0))
    run_root, src = Path(task.run_root), Corpus(task.input_root)
    originals = {u.id: u for u in read_rows(task.input_root, task.start, task.stop)}
    out: list[Utterance] = []
    pf = pq.ParquetFile(task.source_file)
    for record_batch in pf.iter_batches(batch_size=task.batch_size):
        batch = [Utterance.from_row(r) for r in record_batch.to_pylist()]
        for label, column in labels:
            for utt in batch:
                if models.asr is not None:
                    utt.extra.setdefault(f"asr_{label}", None)
            for long in (False, True):
                group = [(k, u) for k, u in enumerate(batch)
                         if u.ok and (u.duration > max_asr) == long]  # fmt: skip
                asr = None if long else models.asr
                _score_group(batch, group, label, column, asr, models.mos, task, run_root,
                             originals, src)  # fmt: skip
        out += batch
    checksum, rows = write_shard(Path(task.out_file), out)
    seconds = sum(u.extra.get("original_num_samples", 0) / (u.extra.get("original_sampling_rate")
                  or 1) for u in out if u.ok)  # fmt: skip
    return _result(task, checksum, rows, out, seconds)


def _score_group(batch: list[Utterance], group: list[tuple[int, Utterance]], label: str,
                 column: str, asr: Any, mos: Any, task: ShardTask, run_root: Path,
                 originals: dict[str, Utterance], src: Corpus) -> None:  # fmt: skip
    if not group or (asr is None and mos is None):
        return
    ready: list[tuple[int, Utterance, np.ndarray]] = []
    for k, utt in group:
        try:
            ready.append((k, utt, _wave_16k(utt, column, run_root, originals, src)))
        except AudioError as err:
            batch[k] = utt.with_error(err)

    def run(items: list[tuple[int, Utterance, np.ndarray]]) -> list[dict[str, Any]]:
        copies = [dataclasses.replace(u, scores=dict(u.scores), extra=dict(u.extra))
                  for _, u, _ in items]  # fmt: skip
        score_batch(copies, [w for *_, w in items], label, asr, mos, task.batch_size)
        return [{"scores": c.scores, "extra": c.extra} for c in copies]

    for (k, utt, _), result in zip(ready, _isolate(run, ready)):
        if isinstance(result, Exception):
            batch[k] = utt.with_error(f"ScoreError: {type(result).__name__}: {result}")
        else:
            utt.scores, utt.extra = result["scores"], result["extra"]
