"""``fleursr build``: restore -> score (original and restored) -> filter -> report, and the
summary a person reads at the end (utterances, hours, kept, dropped by rule, errors by kind,
throughput in x real time)."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.batch.lock import run_lock
from fleursr.jobs.batch.models import ModelSpec, check_spec
from fleursr.jobs.batch.pipeline import JobOptions, StageResult, _client, restore_corpus, score_run
from fleursr.jobs.batch.runs import Run


@dataclass
class BuildResult:
    run_dir: Path
    stages: list[StageResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None


def build(input_root: str | os.PathLike, run_dir: str | os.PathLike, model: str,
          asr: str | None = "auto", mos: str | None = "dnsmos", rules: str | None = None,
          shard_size: int | None = None, options: JobOptions | None = None,
          report: bool = True) -> BuildResult:  # fmt: skip
    """Run the whole job on one cluster; a rerun resumes where an earlier one stopped."""
    from fleursr.quality.asr.load import resolve_asr_spec
    from fleursr.quality.filter import FilterRules

    options = options or JobOptions()
    asr = resolve_asr_spec(asr)  # "auto": the offline Whisper base, or none where not installed
    filter_rules = FilterRules.load(rules)  # a bad rules file or model fails before any work
    check_spec(ModelSpec(restorer=model, asr=asr, mos=mos))
    result = BuildResult(Path(run_dir))
    with run_lock(run_dir):  # one job at a time in a run directory
        _build(result, input_root, model, asr, mos, filter_rules, shard_size, options, report)
    result.summary = run_summary(result.run_dir)
    return result


def _build(result: BuildResult, input_root: str | os.PathLike, model: str, asr: str | None,
           mos: str | None, filter_rules: Any, shard_size: int | None, options: JobOptions,
           report: bool) -> None:  # fmt: skip
    from fleursr.quality.filter import filter_corpus

    start = time.perf_counter()
    run = Run.open(result.run_dir, input_root, shard_size, options.external_paths)
    with _client(None, options) as client:
        result.stages.append(restore_corpus(input_root, run, model, shard_size, options,
                                            client))  # fmt: skip
        if (asr or "none") != "none" or (mos or "none") != "none":
            result.stages.append(score_run(run, asr, mos, options=options, client=client))
    filter_corpus(run.root, filter_rules)
    run.data["filter_rules"] = filter_rules.to_dict()
    run.data["build_wall_seconds"] = time.perf_counter() - start
    run.data["build_audio_seconds"] = result.stages[0].done_seconds  # restored by this call
    run.save()
    if report:
        from fleursr.quality.report import write_report

        result.report = write_report(run.root)


def error_kind(error: str | None) -> str:
    """``"CorruptAudioError: x.wav: cannot decode"`` -> ``"CorruptAudioError"``."""
    return (error or "unknown").split(":", 1)[0].strip() or "unknown"


def run_summary(run_dir: Run | str | os.PathLike) -> dict[str, Any]:
    """Counts of a run (a directory or an open :class:`Run`) from its manifest (no audio read)
    and its timings from ``run.json``."""
    run = Run.of(run_dir)
    corpus = Corpus(run.root)
    wanted = ["language", "status", "error", "filter_reasons", "original_num_samples",
              "original_sampling_rate", "num_samples", "sampling_rate"]  # fmt: skip
    seconds, status, kinds, rules, langs = 0.0, Counter(), Counter(), Counter(), set()
    pf = pq.ParquetFile(corpus.manifest)
    for batch in pf.iter_batches(columns=[c for c in wanted if c in corpus.columns]):
        for row in batch.to_pylist():
            n = row.get("original_num_samples", row["num_samples"])
            sr = row.get("original_sampling_rate", row["sampling_rate"]) or 1
            seconds += (n or 0) / sr
            status[row["status"]] += 1
            langs.add(row["language"])
            if row["status"] == "error":
                kinds[error_kind(row["error"])] += 1
            rules.update(json.loads(row.get("filter_reasons") or "[]"))
    wall = run.data.get("build_wall_seconds") or sum(
        s.get("wall_seconds", 0.0) for s in run.data["stages"].values()
    )
    audio = run.data.get("build_audio_seconds")
    if audio is None:
        audio = sum(float(e["audio_seconds"]) for e in run.stage("restore")["shards"].values())
    return {"utterances": sum(status.values()), "languages": len(langs),
            "hours": seconds / 3600, "status": dict(status), "dropped_by_rule": dict(rules),
            "errors_by_kind": dict(kinds), "wall_seconds": wall,
            "x_real_time": audio / wall if wall else 0.0}  # fmt: skip


def format_run_summary(summary: dict[str, Any], stages: list[StageResult] | None = None) -> str:
    s = summary
    st = s["status"]
    lines = [
        f"{s['utterances']} utterances, {s['languages']} languages, {s['hours']:.3f} h of "
        f"input audio",
        f"kept {st.get('kept', 0)}, dropped {st.get('dropped', 0)}, errors "
        f"{st.get('error', 0)}" + (f", not filtered {st['ok']}" if st.get("ok") else ""),
    ]
    if s["dropped_by_rule"]:
        lines.append(
            "dropped by rule: "
            + ", ".join(
                f"{k} {v}" for k, v in sorted(s["dropped_by_rule"].items(), key=lambda x: -x[1])
            )
        )
    if s["errors_by_kind"]:
        lines.append(
            "errors by kind: "
            + ", ".join(
                f"{k} {v}" for k, v in sorted(s["errors_by_kind"].items(), key=lambda x: -x[1])
            )
        )
    for r in stages or []:
        lines.append(
            f"{r.stage}: {r.shards} shards ({r.skipped} already done), "
            f"{r.wall_seconds:.1f} s, {r.x_real_time:.1f}x real time"
        )
    lines.append(
        f"throughput: {s['x_real_time']:.1f}x real time ({s['wall_seconds']:.1f} s; "
        "audio restored by this run over its wall time)"
    )
    return "\n".join(lines)  # fmt: skip
