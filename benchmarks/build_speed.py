"""`fleursr build` end to end against the bound its models set, on the same corpus in one run.

The bound: each model of the build, called alone in this process on one thread over the same
audio as the build gives it (the restorer on every input utterance, then DNSMOS and the ASR on
the input and on the restored audio, both at 16 kHz), adds up to the core-seconds the build
cannot do without; spread perfectly over the build's workers (one core each) that gives the
fastest x real time any scheduling could reach. The build is then run as a user runs it (a
fresh process, ``--no-report``, one worker per core), once per ``--mos``, and its x real time
(start-up, model loading, the filter and every file written included) is compared with the
bound. The input is the demo's degraded corpus by default (``make demo`` writes it).

    .venv/bin/python benchmarks/build_speed.py [--input demo_out/degraded] [--model embedded]
        [--asr faster-whisper] [--mos dnsmos dnsmos-fast] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from results_io import write_result
from timing import timed

from fleursr.corpus.audio import resample
from fleursr.corpus.manifest import Corpus
from fleursr.jobs.batch.cluster import default_workers
from fleursr.quality.score import SCORE_RATE

FLEURSR = Path(sys.executable).with_name("fleursr")


def model_costs(corpus: Corpus, model: str, asr_spec: str, mos_names: list[str]) -> dict:
    """Core-seconds of each model of the build on ``corpus``, one thread, in this process."""
    import torch

    from fleursr.quality.asr import load_asr
    from fleursr.quality.mos import build_mos
    from fleursr.restore.apply import load_restorer

    torch.set_num_threads(1)  # every backend takes torch's thread count (DNSMOS, Whisper)
    utts = [u for u in corpus if u.ok]
    loaded = [corpus.load_audio(u) for u in utts]
    languages = [u.language for u in utts]
    restorer = load_restorer(model, "cpu")
    restored, costs = timed(lambda: restorer.restore_batch([w for w, _ in loaded],
                                                           [sr for _, sr in loaded]))  # fmt: skip
    costs = {"restore": costs}
    labels = {
        "original": [resample(w, sr, SCORE_RATE) for w, sr in loaded],
        "restored": [resample(w, restorer.sample_rate, SCORE_RATE) for w in restored],
    }
    asr = load_asr(asr_spec, "cpu")
    for name in mos_names:
        mos = build_mos(name)
        costs[name] = sum(timed(lambda w=w, m=mos: m.predict(w, SCORE_RATE, 16))[1]
                          for w in labels.values())  # fmt: skip
    if asr is not None:
        costs["asr"] = sum(timed(lambda w=w: asr.transcribe(w, languages, SCORE_RATE, 16))[1]
                           for w in labels.values())  # fmt: skip
    return costs


def run_build(input_root: str, run: Path, args: argparse.Namespace, mos: str) -> float:
    cmd = [str(FLEURSR), "build", input_root, str(run), "--model", args.model, "--asr",
           args.asr, "--mos", mos, "--no-report", "--workers", str(args.workers)]  # fmt: skip
    proc, wall = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    print(proc.stdout.strip())
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--input", default="demo_out/degraded")
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--asr", default="faster-whisper")
    ap.add_argument("--mos", nargs="+", default=["dnsmos", "dnsmos-fast"])
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--out", default="benchmarks/results/build_speed.json")
    args = ap.parse_args()
    if not (Path(args.input) / "manifest.parquet").exists():
        sys.exit(f"{args.input}: no corpus there; `make demo` writes demo_out/degraded")
    corpus = Corpus(args.input)
    seconds = sum(u.duration for u in corpus if u.ok)
    costs = model_costs(corpus, args.model, args.asr, args.mos)
    print(f"{len(corpus)} utterances, {seconds:.0f} s of audio; core-seconds alone: "
          + ", ".join(f"{k} {v:.1f}" for k, v in costs.items()))  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleursr-build-speed-") as tmp:
        for mos in args.mos:
            core_seconds = costs["restore"] + costs[mos] + costs.get("asr", 0.0)
            bound = args.workers * seconds / core_seconds
            wall = run_build(args.input, Path(tmp) / f"run-{mos}", args, mos)
            speed = seconds / wall
            rows.append({"mos": mos, "asr": args.asr, "model": args.model,
                         "workers": args.workers, "audio_seconds": round(seconds, 1),
                         "model_core_seconds": round(core_seconds, 1),
                         "bound_x_real_time": round(bound, 2), "wall_seconds": round(wall, 1),
                         "x_real_time": round(speed, 2),
                         "share_of_bound": round(speed / bound, 3)})  # fmt: skip
            print(f"--mos {mos}: bound {bound:.2f}x, build {wall:.1f} s = {speed:.2f}x real "
                  f"time ({speed / bound:.0%} of the bound)", flush=True)  # fmt: skip
    write_result(args.out, "build_speed", rows, input=args.input, costs=costs,
                 threads_for_costs=1, command=" ".join(["benchmarks/build_speed.py",
                                                        *sys.argv[1:]]))  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
