"""Peak memory and wall time of `fleursr restore FILE OUT` against the input's duration.

Each length runs `fleursr restore` in a fresh process on generated speech-like input (16 kHz
FLAC, a 30 s clip tiled) with the given model; peak RSS is that process's own (``os.wait4``'s
``ru_maxrss``). ``--whole-minutes`` also measures, for those lengths, restoring the whole
recording in memory (``read_audio`` -> ``Restorer.restore`` -> ``write_audio``: the path before
streaming) for comparison. Ratios are to the 1-minute row of the same path (the shortest
length when 1 is not among them).

    .venv/bin/python benchmarks/long_input_memory.py [--minutes 1,10,60] [--model embedded]
        [--threads 1] [--whole-minutes 1,10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from results_io import write_result

from fleursr.corpus.testing import speech_like

SR = 16000
CLIP_SECONDS = 30

WHOLE = """
import sys
from fleursr.corpus.audio import read_audio, write_audio
from fleursr.restore.apply import load_restorer
restorer = load_restorer(sys.argv[3], "cpu")
wave, sr = read_audio(sys.argv[1], mono=False)
write_audio(sys.argv[2], *restorer.restore(wave, sr))
"""


def make_input(path: Path, minutes: float) -> None:
    """``minutes`` of speech-like audio, written a clip at a time (the clip's seed varies)."""
    total, clip = int(minutes * 60 * SR), CLIP_SECONDS * SR
    clips: dict[int, np.ndarray] = {}
    with sf.SoundFile(str(path), "w", samplerate=SR, channels=1, format="FLAC") as f:
        for k, start in enumerate(range(0, total, clip)):
            wave = clips.setdefault(k % 7, speech_like(CLIP_SECONDS, SR, seed=k % 7))
            f.write(wave[: total - start])


def measure(command: list[str], threads: int | None) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of ``command`` run as a child process."""
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{command} failed ({proc.returncode}):\n{output.decode()[-2000:]}")
    return usage.ru_maxrss / 1024, wall  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10,60", help="input lengths, comma-separated")
    parser.add_argument("--model", default="embedded", help="restorer, as for fleursr restore")
    parser.add_argument("--threads", type=int, default=None, help="torch/OpenMP threads")
    parser.add_argument("--whole-minutes", default="",
                        help="lengths also restored whole in memory, for comparison")  # fmt: skip
    parser.add_argument("--out", default="benchmarks/results/long_input_memory.json")
    args = parser.parse_args()
    lengths = [float(m) for m in args.minutes.split(",")]
    whole = [float(m) for m in args.whole_minutes.split(",") if m]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path_kind, minutes_list in (("stream", lengths), ("whole", whole)):
            for minutes in sorted(minutes_list):
                src, dst = Path(tmp) / f"in_{minutes:g}.flac", Path(tmp) / "out.flac"
                if not src.exists():
                    make_input(src, minutes)
                if path_kind == "stream":
                    command = [
                        sys.executable,
                        "-m",
                        "fleursr.jobs.cli.main",
                        "restore",
                        str(src),
                        str(dst),
                        "--model",
                        args.model,
                        "--device",
                        "cpu",
                    ]
                else:
                    command = [sys.executable, "-c", WHOLE, str(src), str(dst), args.model]
                rss, wall = measure(command, args.threads)
                frames = sf.info(str(dst)).frames
                assert frames == int(minutes * 60 * 24000), (frames, minutes)
                dst.unlink()
                rows.append({"path": path_kind, "minutes": minutes, "peak_rss_mb": round(rss, 1),
                             "wall_seconds": round(wall, 1),
                             "x_real_time": round(minutes * 60 / wall, 1)})  # fmt: skip
    for row in rows:
        base = min((r for r in rows if r["path"] == row["path"]), key=lambda r: r["minutes"])
        row["rss_ratio"] = round(row["peak_rss_mb"] / base["peak_rss_mb"], 3)
    print(f"{'path':<8}{'minutes':>8}{'peak RSS MB':>13}{'ratio':>7}{'wall s':>9}{'x real':>8}")
    for r in rows:
        print(f"{r['path']:<8}{r['minutes']:>8g}{r['peak_rss_mb']:>13.0f}{r['rss_ratio']:>7.2f}"
              f"{r['wall_seconds']:>9.1f}{r['x_real_time']:>8.1f}")  # fmt: skip
    write_result(args.out, "long_input_memory", rows, model=args.model, threads=args.threads,
                 input=f"speech_like {CLIP_SECONDS} s clips tiled, {SR} Hz FLAC",
                 command="fleursr restore IN.flac OUT.flac --model "
                 f"{args.model} --device cpu")  # fmt: skip


if __name__ == "__main__":
    main()
