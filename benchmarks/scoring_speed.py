"""Scoring at the speed of its models: DNSMOS and Whisper base called alone, against the same
models inside fleursr, on the same recorded clips in one run.

For each model, three ways of scoring the same utterances (the test split of a corpus, by default
the recorded Asterisk prompts of ``bash recipes/real_speech.sh``):

- **alone**: the model's own package, one call per clip, as its documentation shows:
  ``speechmos.dnsmos.run(wave, 16000)``, and ``faster_whisper.WhisperModel.transcribe`` (greedy,
  the language given, no voice activity detection, no timestamps) on the offline Whisper base;
- **in process**: fleursr's backend on the loaded waves (``DNSMOS.predict``,
  ``FasterWhisperASR.transcribe``), batched;
- **fleursr score**: the command a user runs on a corpus, in a fresh process: start-up, model
  loading, reading and resampling the audio and rewriting the manifest all count.

Every row uses the same thread budget (``--threads``, default: the cores this process may use):
onnxruntime's intra-op threads for DNSMOS (``speechmos`` builds its sessions with onnxruntime's
default, one thread per core) and CTranslate2's ``cpu_threads`` for Whisper. x real time =
seconds of audio scored per second of wall time; ``ratio`` = a row's x real time over its model
alone. DNSMOS scores the reference windowing in every row (a clip under 9.01 s is looped, so a
4 s clip costs 7 windows of the network): its cost per clip follows from the window count, which
the table also prints. Prints a table and writes JSON.

    .venv/bin/python benchmarks/scoring_speed.py [--corpus runs/real_speech/asterisk]
        [--utterances 40] [--threads 2] [--models dnsmos whisper]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from results_io import write_result
from timing import timed

from fleursr.corpus.combine import add_utterances
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.jobs.batch.cluster import default_workers
from fleursr.quality.mos.dnsmos import window_starts

FLEURSR = Path(sys.executable).with_name("fleursr")


def pick(corpus: Corpus, split: str, count: int) -> list:
    """The first ``count`` usable utterances of ``split``, alternating languages."""
    by_language: dict[str, list] = {}
    for utt in corpus:
        if utt.ok and utt.split == split and utt.transcription:
            by_language.setdefault(utt.language, []).append(utt)
    if not by_language:
        sys.exit(f"{corpus.root}: no transcribed utterances in split {split!r}")
    picked, queues = [], [list(q) for q in by_language.values()]
    while len(picked) < count and any(queues):
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    return picked


def cli_score(corpus: Path, asr: str, mos: str, threads: int) -> float:
    """Wall time of ``fleursr score CORPUS`` in a fresh process with ``threads`` threads."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [str(FLEURSR), "score", str(corpus), "--label", "bench", "--asr", asr, "--mos", mos]
    proc, wall = timed(lambda: subprocess.run(cmd, env=env, capture_output=True, text=True))
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall


def dnsmos_rows(waves: list[np.ndarray], corpus: Path, threads: int) -> list[dict]:
    from speechmos import dnsmos as speechmos_dnsmos

    from fleursr.quality.mos import DNSMOS

    speechmos_dnsmos.run(waves[0], 16000)  # load its sessions (a module global) before timing
    ours = DNSMOS(num_threads=threads)
    ours.predict(waves[:1], 16000)
    return [
        {"way": "alone (speechmos.dnsmos.run per clip)",
         "wall": timed(lambda: [speechmos_dnsmos.run(w, 16000) for w in waves])[1]},
        {"way": "in process (DNSMOS.predict, batch 16)",
         "wall": timed(lambda: ours.predict(waves, 16000, 16))[1]},
        {"way": "fleursr score --asr none --mos dnsmos",
         "wall": cli_score(corpus, "none", "dnsmos", threads)},
    ]  # fmt: skip


def whisper_rows(waves: list[np.ndarray], languages: list[str], corpus: Path,
                 threads: int) -> list[dict]:  # fmt: skip
    from faster_whisper import WhisperModel

    from fleursr.quality.asr.faster_whisper import FasterWhisperASR
    from fleursr.quality.asr.languages import whisper_language
    from fleursr.quality.asr.whisper_base import whisper_base_dir

    alone = WhisperModel(str(whisper_base_dir()), device="cpu", compute_type="int8",
                         cpu_threads=threads)  # fmt: skip

    def transcribe_alone() -> None:
        for wave, code in zip(waves, languages):
            segments, _ = alone.transcribe(wave, language=whisper_language(code), beam_size=1,
                                           vad_filter=False, without_timestamps=True,
                                           condition_on_previous_text=False)  # fmt: skip
            " ".join(s.text for s in segments)

    ours = FasterWhisperASR(device="cpu", cpu_threads=threads)
    transcribe_alone()  # warm both up on the whole set once: CTranslate2 grows its buffers
    ours.transcribe(waves, languages, 16000, 16)
    return [
        {"way": "alone (WhisperModel.transcribe per clip)", "wall": timed(transcribe_alone)[1]},
        {"way": "in process (FasterWhisperASR.transcribe, batch 16)",
         "wall": timed(lambda: ours.transcribe(waves, languages, 16000, 16))[1]},
        {"way": "fleursr score --asr faster-whisper --mos none",
         "wall": cli_score(corpus, "faster-whisper", "none", threads)},
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default="runs/real_speech/asterisk")
    ap.add_argument("--split", default="test")
    ap.add_argument("--utterances", type=int, default=40)
    ap.add_argument("--threads", type=int, default=default_workers())
    ap.add_argument("--models", nargs="+", choices=("dnsmos", "whisper"),
                    default=["dnsmos", "whisper"])  # fmt: skip
    ap.add_argument("--out", default="benchmarks/results/scoring_speed.json")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    source = Corpus(args.corpus)
    utts = pick(source, args.split, args.utterances)
    waves = [source.load_audio(u, target_sr=16000)[0] for u in utts]
    languages = [u.language for u in utts]
    seconds = sum(len(w) for w in waves) / 16000
    windows = sum(len(window_starts(len(w))[1]) for w in waves)
    print(f"{len(utts)} utterances, {seconds:.0f} s of audio ({seconds / len(utts):.1f} s each), "
          f"{windows} DNSMOS windows, {args.threads} threads")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleursr-scoring-speed-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_manifest(corpus, [])
        add_utterances(corpus, source, utts, folder="picked")
        for model in args.models:
            if model == "dnsmos":
                found = dnsmos_rows(waves, corpus, args.threads)
            else:
                found = whisper_rows(waves, languages, corpus, args.threads)
            alone = seconds / found[0]["wall"]
            for row in found:
                speed = seconds / row["wall"]
                rows.append({"model": model, **row, "x_real_time": round(speed, 2),
                             "ratio": round(speed / alone, 3)})  # fmt: skip
                print(f"{model:<8}{row['way']:<54}{row['wall']:>8.1f} s{speed:>8.2f}x"
                      f"{speed / alone:>7.2f}", flush=True)  # fmt: skip
    write_result(args.out, "scoring_speed", rows, corpus=args.corpus, split=args.split,
                 utterances=len(utts), audio_seconds=round(seconds, 1), dnsmos_windows=windows,
                 threads=args.threads)  # fmt: skip


if __name__ == "__main__":
    main()
