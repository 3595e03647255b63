"""Batch-job scaling: the dask restore job against a plain in-process loop over the same
utterances (overhead ratio), 1 vs 2 workers (scaling), and peak memory of the whole job
(client + workers) for a corpus and one ten times larger (memory must not grow with it).

The restorer is the ``embedded`` size with random weights (the compute of the shipped model;
no trained weights are needed to time it). Each measurement runs in a fresh subprocess; peak
memory is the largest sum of resident memory over that process and its children, sampled
every 50 ms. x real time = seconds of input audio restored per second of wall time, start-up
(cluster, model loading) included.

    .venv/bin/python benchmarks/jobs_scale.py [--utterances 24] [--seconds 2] [--size embedded]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

RESULTS = Path(__file__).parent / "results" / "jobs_scale.json"


def make_inputs(root: Path, utterances: int, seconds: float, size: str) -> tuple[Path, Path]:
    from fleursr.corpus.testing import make_corpus
    from fleursr.restore.config import restorer_config
    from fleursr.restore.model import Restorer

    corpus = root / f"corpus-{utterances}"
    if not (corpus / "manifest.parquet").exists():
        make_corpus(corpus, languages=("en_us", "fr_fr"), per_language=utterances // 2,
                    duration=seconds)  # fmt: skip
    model = root / f"model-{size}"
    if not (model / "model.safetensors").exists():
        Restorer(restorer_config(size).to_dict()).save_pretrained(model)
    return corpus, model


def child(mode: str, corpus: str, model: str, workers: int, out: str) -> dict:
    """One measurement, in this (fresh) process: ``loop`` or ``dask``."""
    start = time.perf_counter()
    if mode == "loop":
        import torch

        from fleursr.corpus.audio import encode_flac
        from fleursr.corpus.manifest import Corpus
        from fleursr.restore.apply import load_restorer

        torch.set_num_threads(workers)
        restorer, src, seconds = load_restorer(model), Corpus(corpus), 0.0
        for utt in src:
            wave, sr = src.load_audio(utt)
            encode_flac(restorer.restore(wave, sr)[0], restorer.sample_rate)
            seconds += len(wave) / sr
    else:
        from fleursr.jobs.batch.cluster import ClusterOptions
        from fleursr.jobs.batch.pipeline import JobOptions, restore_corpus

        options = JobOptions(cluster=ClusterOptions(workers=workers, verbose=False,
                                                    dashboard=False), progress=False)  # fmt: skip
        seconds = restore_corpus(corpus, out, model, shard_size=8, options=options).audio_seconds
    wall = time.perf_counter() - start
    return {"audio_seconds": seconds, "wall_seconds": wall, "x_real_time": seconds / wall}


def measure(mode: str, corpus: Path, model: Path, workers: int, tmp: Path) -> dict:
    out = tmp / f"run-{mode}-{workers}-{corpus.name}-{time.monotonic_ns()}"
    cmd = [sys.executable, __file__, "--child", mode, str(corpus), str(model), str(workers),
           str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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
    stdout, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed with {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"mode": mode, "workers": workers, "utterances": corpus.name.split("-")[1],
            **result, "peak_rss_mb": peak / 2**20}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", default="embedded")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, corpus, model, workers, out = args.child
        print(json.dumps(child(mode, corpus, model, int(workers), out)))
        return
    with tempfile.TemporaryDirectory(prefix="fleursr-jobs-scale-") as tmp_name:
        tmp = Path(tmp_name)
        small, model = make_inputs(tmp, args.utterances, args.seconds, args.size)
        large, _ = make_inputs(tmp, 10 * args.utterances, args.seconds, args.size)
        # The loop gets one torch thread: on a busy machine more threads in one process
        # oversubscribe the cores and slow it down many times (seen here: 10x).
        plan = [("loop", small, 1), ("dask", small, 1), ("dask", small, 2),
                ("loop", large, 1), ("dask", large, 1), ("dask", large, 2)]  # fmt: skip
        rows = [measure(mode, corpus, model, w, tmp) for mode, corpus, w in plan]
    by = {(r["mode"], r["workers"], r["utterances"]): r for r in rows}
    n, big = str(args.utterances), str(10 * args.utterances)

    def ratio(a: tuple, b: tuple, key: str = "x_real_time") -> float:
        return by[a][key] / by[b][key]

    summary = {
        "overhead_ratio_small_1_worker": ratio(("loop", 1, n), ("dask", 1, n)),
        "overhead_ratio_large_1_worker": ratio(("loop", 1, big), ("dask", 1, big)),
        "scaling_2_vs_1_workers_small": ratio(("dask", 2, n), ("dask", 1, n)),
        "scaling_2_vs_1_workers_large": ratio(("dask", 2, big), ("dask", 1, big)),
        "peak_memory_ratio_10x_corpus": ratio(("dask", 2, big), ("dask", 2, n), "peak_rss_mb"),
    }
    print(f"{'mode':<6}{'workers':>8}{'utts':>6}{'audio s':>9}{'wall s':>8}{'x RT':>7}"
          f"{'peak MB':>9}")  # fmt: skip
    for r in rows:
        print(
            f"{r['mode']:<6}{r['workers']:>8}{r['utterances']:>6}{r['audio_seconds']:>9.0f}"
            f"{r['wall_seconds']:>8.1f}{r['x_real_time']:>7.1f}{r['peak_rss_mb']:>9.0f}"
        )
    for k, v in summary.items():
        print(f"{k}: {v:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {"command": " ".join(["benchmarks/jobs_scale.py", *sys.argv[1:]]),
            "machine": f"{platform.processor() or platform.machine()}, "
                       f"{psutil.cpu_count()} cores (shared)", "size": args.size,
            "seconds_per_utterance": args.seconds}  # fmt: skip
    RESULTS.write_text(json.dumps({**meta, "rows": rows, "summary": summary}, indent=1) + "\n")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
