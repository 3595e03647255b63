"""Batch-job scaling: `fleursr build` (restore -> score -> filter) on dask against the same job
run in this process on one core (``--workers 0``, one thread: the same shards, the same code,
no cluster), 1 vs 2 worker processes, and the peak memory of the restore job (client +
workers) for a corpus and one ten times larger (memory must not grow with it).

The restorer is the engine configuration (``recipes/engine.yaml``) with random weights (the
compute of the shipped model; no trained weights are needed to time it); scoring is
``--mos dnsmos-fast --asr none`` by default (``--mos``, ``--asr``: e.g. ``--mos dnsmos --asr
faster-whisper`` for the demo's models). Each measurement runs in a fresh subprocess; peak memory
is the largest sum of resident memory over that process and its children, sampled every 50 ms.
x real time = seconds of input audio per second of wall time, start-up (cluster, model
loading) included. Run it on idle cores: scaling cannot show where another job holds one.

    .venv/bin/python benchmarks/jobs_scale.py [--utterances 96] [--seconds 3]
        [--mos dnsmos-fast] [--asr none] [--out benchmarks/results/jobs_scale.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch
from results_io import write_result

RESULTS = Path(__file__).parent / "results" / "jobs_scale.json"
ENGINE = str(Path(__file__).parent.parent / "recipes" / "engine.yaml")
SHARD_SIZE = 16  # the demo's


def make_inputs(root: Path, utterances: int, seconds: float) -> tuple[Path, Path]:
    from fleursr.corpus.testing import make_corpus
    from fleursr.restore.config import restorer_config
    from fleursr.restore.model import Restorer

    corpus = root / f"corpus-{utterances}"
    if not (corpus / "manifest.parquet").exists():
        make_corpus(corpus, languages=("en_us", "fr_fr"), per_language=utterances // 2,
                    duration=seconds)  # fmt: skip
    model = root / "model-engine"
    if not (model / "model.safetensors").exists():
        torch.manual_seed(0)
        Restorer(restorer_config(ENGINE).to_dict()).save_pretrained(model)
    return corpus, model


def child(mode: str, corpus: str, model: str, workers: int, out: str, asr: str,
          mos: str) -> dict:  # fmt: skip
    """One measurement, in this (fresh) process: the whole ``build``, or ``restore`` alone."""
    from fleursr.jobs.batch.build import build
    from fleursr.jobs.batch.cluster import ClusterOptions
    from fleursr.jobs.batch.pipeline import JobOptions, restore_corpus

    if workers == 0:  # in process on one core, as each worker has one
        torch.set_num_threads(1)
    start = time.perf_counter()
    options = JobOptions(cluster=ClusterOptions(workers=workers, verbose=False,
                                                dashboard=False), progress=False)  # fmt: skip
    if mode == "build":
        result = build(corpus, out, model, asr=asr, mos=mos, shard_size=SHARD_SIZE,
                       options=options, report=False)  # fmt: skip
        seconds = result.stages[0].done_seconds
        stages = {r.stage: r.wall_seconds for r in result.stages}
    else:
        seconds = restore_corpus(corpus, out, model, SHARD_SIZE, options).done_seconds
        stages = {}
    wall = time.perf_counter() - start
    return {"audio_seconds": seconds, "wall_seconds": wall, "x_real_time": seconds / wall,
            "stage_seconds": stages}  # fmt: skip


def measure(mode: str, corpus: Path, model: Path, workers: int, tmp: Path,
            args: argparse.Namespace) -> dict:  # fmt: skip
    out = tmp / f"run-{mode}-{workers}-{corpus.name}-{time.monotonic_ns()}"
    cmd = [sys.executable, __file__, "--child", mode, str(corpus), str(model), str(workers),
           str(out), args.asr, args.mos]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, root = 0, psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed with {proc.returncode}:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"mode": mode, "workers": workers, "utterances": int(corpus.name.split("-")[1]),
            **result, "peak_rss_mb": peak / 2**20}  # fmt: skip


def where(workers: int) -> str:
    return "in process, 1 core" if workers == 0 else f"dask, {workers} worker{'s' * (workers > 1)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=96)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--asr", default="none", help="the build's --asr (default: none)")
    parser.add_argument("--mos", default="dnsmos-fast", help="the build's --mos")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, corpus, model, workers, out, asr, mos = args.child
        print(json.dumps(child(mode, corpus, model, int(workers), out, asr, mos)))
        return
    with tempfile.TemporaryDirectory(prefix="fleursr-jobs-scale-") as tmp_name:
        tmp = Path(tmp_name)
        small, model = make_inputs(tmp, args.utterances, args.seconds)
        large, _ = make_inputs(tmp, 10 * args.utterances, args.seconds)
        plan = [("build", small, 0), ("build", small, 1), ("build", small, 2),
                ("restore", small, 2), ("restore", large, 2)]  # fmt: skip
        rows = []
        print(f"{'job':<9}{'where':<20}{'utts':>6}{'audio s':>9}{'wall s':>8}{'x RT':>7}"
              f"{'peak MB':>9}  stages (s)")  # fmt: skip
        for mode, corpus, workers in plan:
            r = measure(mode, corpus, model, workers, tmp, args)
            rows.append(r)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_seconds"].items())
            print(f"{mode:<9}{where(workers):<20}{r['utterances']:>6}{r['audio_seconds']:>9.0f}"
                  f"{r['wall_seconds']:>8.1f}{r['x_real_time']:>7.1f}{r['peak_rss_mb']:>9.0f}"
                  f"  {stages}", flush=True)  # fmt: skip
    by = {(r["mode"], r["workers"], r["utterances"]): r for r in rows}
    n, big = args.utterances, 10 * args.utterances

    def ratio(a: tuple, b: tuple, key: str = "x_real_time") -> float:
        return by[a][key] / by[b][key]

    summary = {
        "dask_overhead_1_worker": ratio(("build", 0, n), ("build", 1, n)) - 1,
        "scaling_2_vs_1_workers": ratio(("build", 2, n), ("build", 1, n)),
        "peak_memory_ratio_10x_corpus": ratio(("restore", 2, big), ("restore", 2, n),
                                              "peak_rss_mb"),
    }  # fmt: skip
    for k, v in summary.items():
        print(f"{k}: {v:.2f}")
    write_result(args.out, "jobs_scale", rows, command=" ".join(["benchmarks/jobs_scale.py",
                 *sys.argv[1:]]), engine=ENGINE, seconds_per_utterance=args.seconds,
                 shard_size=SHARD_SIZE, asr=args.asr, mos=args.mos, summary=summary)  # fmt: skip


if __name__ == "__main__":
    main()
