"""What one task does to one shard: restore it, or score it. Runs on a dask worker (or in
this process); models come from :func:`fleursr.jobs.batch.models.worker_models`.

Every input row comes out exactly once. Unreadable audio (any ``fleursr.corpus.audio.AudioError``),
text that is not UTF-8 and a model failure on one utterance each turn that utterance into a
row with ``status="error"`` and an ``error`` naming the kind; the shard still completes.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from fleursr.corpus.audio import AudioError
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance
from fleursr.jobs.batch.inputs import read_rows
from fleursr.jobs.batch.models import ModelSpec, worker_models
from fleursr.jobs.batch.runs import write_shard
from fleursr.quality.score import SCORE_RATE, score_batch
from fleursr.restore.corpus import MIN_RESTORE_SECONDS, isolate, restore_utterances


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


def restore_shard(task: ShardTask) -> dict[str, Any]:
    """Restore input rows ``[start, stop)`` into ``out_file`` (24 kHz FLAC embedded)."""
    rows, seconds = restore_utterances(
        worker_models(task.spec).restorer, _input(task),
        read_rows(task.input_root, task.start, task.stop), task.run_root, embed=True,
        batch_size=task.batch_size,
        min_seconds=float(task.options.get("min_seconds", MIN_RESTORE_SECONDS)),
    )  # fmt: skip
    checksum, count = write_shard(Path(task.out_file), rows)
    return _result(task, checksum, count, rows, seconds)


def _input(task: ShardTask) -> Corpus:
    """The input corpus, reading audio outside its directory only where the run allows it."""
    return Corpus(task.input_root, external_paths=bool(task.options.get("external_paths")))


def _result(task: ShardTask, checksum: str, rows: int, out: list[Utterance],
            seconds: float) -> dict[str, Any]:  # fmt: skip
    return {"file": os.path.relpath(task.out_file, task.run_root), "sha256": checksum,
            "rows": rows, "audio_seconds": seconds, "source": task.options.get("source_sha"),
            "errors": sum(not u.ok for u in out)}  # fmt: skip


def _wave_16k(utt: Utterance, column: str, run: Corpus, src: Corpus,
              originals: dict[str, Utterance]) -> np.ndarray:  # fmt: skip
    """The 16 kHz audio that ``column`` names for ``utt`` in the run; ``original_path`` is read
    straight from the input row, which this shard holds already."""
    if column == "original_path" and utt.id in originals:
        return src.load_audio(originals[utt.id], target_sr=SCORE_RATE)[0]
    return run.load_column(utt, column, SCORE_RATE)[0]


def score_shard(task: ShardTask) -> dict[str, Any]:
    """Score a restored shard under each ``(label, column)`` of ``options["labels"]`` with the
    same ASR and MOS predictor. ASR skips utterances longer than ``max_asr_seconds``."""
    models = worker_models(task.spec)
    labels: list[list[str]] = task.options["labels"]
    max_asr = float(task.options.get("max_asr_seconds", 60.0))
    run, src = Corpus(task.run_root), _input(task)
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
                _score_group(batch, group, label, column, asr, models.mos, task, run, src,
                             originals)  # fmt: skip
        out += batch
    checksum, rows = write_shard(Path(task.out_file), out)
    seconds = sum(u.extra.get("original_num_samples", 0) / (u.extra.get("original_sampling_rate")
                  or 1) for u in out if u.ok)  # fmt: skip
    return _result(task, checksum, rows, out, seconds)


def _score_group(batch: list[Utterance], group: list[tuple[int, Utterance]], label: str,
                 column: str, asr: Any, mos: Any, task: ShardTask, run: Corpus, src: Corpus,
                 originals: dict[str, Utterance]) -> None:  # fmt: skip
    if not group or (asr is None and mos is None):
        return
    ready: list[tuple[int, Utterance, np.ndarray]] = []
    for k, utt in group:
        try:
            ready.append((k, utt, _wave_16k(utt, column, run, src, originals)))
        except AudioError as err:
            batch[k] = utt.with_error(err)

    def score(items: list[tuple[int, Utterance, np.ndarray]]) -> list[dict[str, Any]]:
        copies = [dataclasses.replace(u, scores=dict(u.scores), extra=dict(u.extra))
                  for _, u, _ in items]  # fmt: skip
        score_batch(copies, [w for *_, w in items], label, asr, mos, task.batch_size)
        return [{"scores": c.scores, "extra": c.extra} for c in copies]

    for (k, utt, _), result in zip(ready, isolate(score, ready)):
        if isinstance(result, Exception):
            batch[k] = utt.with_error(f"ScoreError: {type(result).__name__}: {result}")
        else:
            utt.scores, utt.extra = result["scores"], result["extra"]
