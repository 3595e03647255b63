"""The batch job: restore -> score -> filter -> report over the shards of a run directory.

Each stage submits one task per shard that is not already complete and verified (see
:mod:`fleursr.jobs.batch.runs`), records every finished shard in ``run.json`` as it lands, then
merges the shards into the run's ``manifest.parquet``. Tasks are retried when their worker dies. An
interrupted job, rerun with the same arguments, does only the shards that were missing.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, as_completed
from tqdm import tqdm

from fleursr.jobs.batch.cluster import ClusterOptions, open_client
from fleursr.jobs.batch.lock import run_lock
from fleursr.jobs.batch.models import ModelPlugin, ModelSpec, check_spec, release_models
from fleursr.jobs.batch.runs import Run
from fleursr.jobs.batch.stages import ShardTask, restore_shard, score_shard
from fleursr.restore.corpus import MIN_RESTORE_SECONDS

STAGES: dict[str, Callable[[ShardTask], dict[str, Any]]] = {
    "restore": restore_shard,
    "score": score_shard,
}
BOTH_LABELS = (("original", "original_path"), ("restored", "path"))


@dataclass
class StageResult:
    stage: str
    shards: int
    skipped: int
    rows: int
    audio_seconds: float  # input audio of all shards
    wall_seconds: float
    done_seconds: float = 0.0  # input audio of the shards processed by this call

    @property
    def x_real_time(self) -> float:
        """Input audio processed by this call per second of its wall time."""
        return self.done_seconds / self.wall_seconds if self.wall_seconds else 0.0


@dataclass
class JobOptions:
    """How a job runs (not what it computes: changing these never redoes a shard)."""

    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    batch_size: int = 8
    progress: bool = True
    external_paths: bool = False  # read input audio outside its directory (recorded in the run)


def run_stage(client: Client | None, run: Run, stage: str, spec: ModelSpec, params: dict[str, Any],
              options: JobOptions, source_stage: str | None = None) -> StageResult:  # fmt: skip
    """Run ``stage`` on every shard of ``run`` not yet done with ``params`` (on ``client``'s
    cluster, or in this process when it is ``None``); merge the shards."""
    start_time = time.perf_counter()
    record = run.stage(stage)
    if record["params"] != params:  # other settings: every shard of this stage is redone
        record.update(params=params, shards={})
        run.save()
    todo: list[ShardTask] = []
    for k in range(run.num_shards):
        source = run.checksum(source_stage, k) if source_stage else None
        if source_stage and source is None:
            raise RuntimeError(f"{run.root}: shard {k} has no {source_stage} output yet; run "
                               f"that stage first")  # fmt: skip
        if run.done(stage, k, params, source):
            continue
        start, stop = run.rows_of(k)
        todo.append(ShardTask(
            stage=stage, index=k, input_root=run.input, run_root=str(run.root.resolve()),
            start=start, stop=stop, out_file=str(run.shard_file(stage, k).resolve()), spec=spec,
            source_file=str(run.shard_file(source_stage, k).resolve()) if source_stage else None,
            batch_size=options.batch_size,
            options={**params, "source_sha": source, "external_paths": run.external_paths},
        ))  # fmt: skip
    skipped = run.num_shards - len(todo)
    total = int(run.data["input_rows"])
    bar = tqdm(total=total, desc=stage, unit="utt", disable=not options.progress)
    redo = {str(t.index) for t in todo}
    bar.update(sum(int(e["rows"]) for k, e in record["shards"].items() if k not in redo))
    done_seconds = 0.0
    for task, result in _results(client, stage, spec, todo, options):
        run.record(stage, task.index, result)
        bar.update(result["rows"])
        done_seconds += float(result["audio_seconds"])
    bar.close()
    shards = run.stage(stage)["shards"].values()
    rows = sum(int(e["rows"]) for e in shards)
    if rows != total:  # every input row comes out exactly once, or the stage fails loudly
        raise RuntimeError(f"{run.root}: {stage} wrote {rows} rows for {total} input rows")
    run.merge(stage)
    wall = time.perf_counter() - start_time
    record = run.stage(stage)
    record["wall_seconds"] = wall
    run.save()
    return StageResult(stage, run.num_shards, skipped, rows,
                       sum(float(e["audio_seconds"]) for e in shards), wall,
                       done_seconds)  # fmt: skip


def _results(client: Client | None, stage: str, spec: ModelSpec, todo: list[ShardTask],
             options: JobOptions) -> Iterator[tuple[ShardTask, dict[str, Any]]]:  # fmt: skip
    """``(task, result)`` for every task as it finishes: on the dask cluster, or one after the
    other in this process where there is none (``--workers 0``). Either way the stage's models
    are freed when it ends (GPU memory for the next stage)."""
    if not todo:
        return
    if client is None:
        try:
            for task in todo:
                yield task, STAGES[stage](task)
        finally:
            release_models(spec)
        return
    client.register_plugin(ModelPlugin(spec))
    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(STAGES[stage], task, key=f"fleursr-{stage}-{task.index:05d}-{token}",
                      retries=options.cluster.retries, resources=options.cluster.resources): task
        for task in todo
    }  # fmt: skip
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(spec.key)


def restore_params(model: str, min_seconds: float = MIN_RESTORE_SECONDS) -> dict[str, Any]:
    return {"model": model, "min_seconds": min_seconds}


Labels = tuple[tuple[str, str], ...]  # (label, audio column) pairs


def score_params(asr: str | None, mos: str | None, labels: Labels = BOTH_LABELS,
                 max_asr_seconds: float = 60.0) -> dict[str, Any]:  # fmt: skip
    return {"asr": asr or "none", "mos": mos or "none", "labels": [list(x) for x in labels],
            "max_asr_seconds": max_asr_seconds}  # fmt: skip


def restore_corpus(input_root: str | os.PathLike, run_dir: Run | str | os.PathLike, model: str,
                   shard_size: int | None = None, options: JobOptions | None = None,
                   client: Client | None = None) -> StageResult:  # fmt: skip
    """Restore every utterance of ``input_root`` into the shards of ``run_dir`` (a directory,
    or a :class:`Run` already opened for that input)."""
    options = options or JobOptions()
    run = Run.of(run_dir, input_root, shard_size, options.external_paths)
    spec = ModelSpec(restorer=model, device=_device(options))
    check_spec(spec)
    with run_lock(run.root), _client(client, options) as c:
        return run_stage(c, run, "restore", spec, restore_params(model), options)


def score_run(run_dir: Run | str | os.PathLike, asr: str | None, mos: str | None,
              labels: Labels = BOTH_LABELS, options: JobOptions | None = None,
              client: Client | None = None) -> StageResult:  # fmt: skip
    """Score the restored shards of ``run_dir`` (a directory or an open :class:`Run`): every
    label with the same ASR and MOS. ``asr="auto"`` is resolved here, and the run records
    what it stood for (``faster-whisper:whisper-base`` or ``none``)."""
    from fleursr.quality.asr.load import resolve_asr_spec

    asr = resolve_asr_spec(asr)
    if (asr or "none") == "none" and (mos or "none") == "none":
        raise ValueError("nothing to score: give an ASR, a MOS predictor or both")
    options = options or JobOptions()
    run = Run.of(run_dir)
    spec = ModelSpec(asr=asr, mos=mos, device=_device(options))
    check_spec(spec)
    with run_lock(run.root), _client(client, options) as c:
        return run_stage(c, run, "score", spec, score_params(asr, mos, labels), options,
                         source_stage="restore")  # fmt: skip


def _device(options: JobOptions) -> str:
    return "cuda" if options.cluster.gpus_per_worker else "auto"


class _client:  # noqa: N801 - a context manager that reuses a client when given one
    """The client given, else a new one on ``options.cluster``; ``None`` where the job runs in
    this process (``ClusterOptions.in_process``)."""

    def __init__(self, client: Client | None, options: JobOptions) -> None:
        self.client, self.options, self._cm = client, options, None

    def __enter__(self) -> Client | None:
        if self.client is not None or self.options.cluster.in_process:
            return self.client
        self._cm = open_client(self.options.cluster)
        return self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
