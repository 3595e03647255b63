"""The last window of a long input: batched and padded to a full window, or run at its own length.

The restorer runs input longer than its window (20 s) in overlapping windows, ``window_batch``
at a time. It used to pad the short last window to a full one inside the batch; it now runs it
alone at its own length (``Restorer._run_windows``), which halves the work of a 21 s prompt.
That changes two things for the last window: it is no longer padded, and its random start
(WaveFit's phase where the cleaned features exceed the input) is drawn on its own. This script
asks whether either moves the words, against how much the noise draw alone moves them: every
recorded test prompt longer than the window, restored with ``--draws`` seeds each way, read by
Whisper base:

- ``padded``: the previous behaviour (every window of a batch in one padded call);
- ``own-length``: the shipped one;
- ``zero-padded``: the last window alone, padded with zeros to a full window (padding without
  the batch's noise draw).

    python benchmarks/tail_window.py --real runs/restore_quality/asterisk_degraded_16k

Prints edits per prompt and way (one column per seed) and the totals; writes JSON
(``benchmarks/results/tail_window.json``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from results_io import write_result

from fleursr.corpus.audio import resample
from fleursr.corpus.manifest import Corpus
from fleursr.quality.asr import load_asr
from fleursr.quality.cer import char_counts
from fleursr.restore.apply import load_restorer

WAYS = ("padded", "own-length", "zero-padded")


def set_way(restorer, way: str) -> None:
    """Make ``restorer`` run its windows the ``way`` named (see the module docstring)."""
    run = type(restorer)._run.__get__(restorer)
    if way == "own-length":
        restorer.__dict__.pop("_run_windows", None)
        return
    if way == "padded":
        restorer._run_windows = lambda w, first, refs: run(w, offset=first, references=refs)
        return

    def zero_padded(windows, first, refs):
        if len(windows) < 2 or len(windows[-1]) == len(windows[0]):
            return run(windows, offset=first, references=refs)
        head = run(windows[:-1], offset=first, references=refs and refs[:-1])
        n, k = len(windows[-1]), len(windows) - 1
        x = np.pad(windows[-1], (0, len(windows[0]) - n))
        ref = None if refs is None else [np.pad(refs[-1], (0, len(refs[0]) - len(refs[-1])))]
        tail = run([x], offset=first + k, references=ref)[0][: restorer.output_length(n)]
        return head + [tail]

    restorer._run_windows = zero_padded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", default="runs/restore_quality/asterisk_degraded_16k",
                    help="the degraded recorded corpus restore_quality.py writes")  # fmt: skip
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--draws", type=int, default=3, help="seeds of the restorer's noise per way")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results/tail_window.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    corpus = Corpus(args.real)
    restorer = load_restorer(args.model, "cpu")
    window = restorer.cfg.window_seconds
    utts = [u for u in corpus if u.split == "test" and u.ok and u.duration > window]
    if not utts:
        raise SystemExit(f"{args.real}: no test utterance longer than the {window} s window")
    asr = load_asr("auto", "cpu")
    rows = []
    for utt in utts:
        wave, sr = corpus.load_audio(utt)
        for way in WAYS:
            set_way(restorer, way)
            edits = []
            for seed in range(args.draws):
                restorer.cfg.seed = seed
                out, rate = restorer.restore(wave, sr)
                hyp = asr.transcribe([resample(out, rate, 16000)], [utt.language], 16000)[0]
                counts = char_counts(utt.transcription, hyp, language=utt.language)
                edits.append(counts.edits)
            rows.append({"id": utt.id, "seconds": utt.duration, "way": way, "edits": edits,
                         "characters": counts.ref_chars})  # fmt: skip
            print(f"{utt.id:40s} {utt.duration:5.1f} s  {way:12s} edits {edits} "
                  f"of {counts.ref_chars}", flush=True)  # fmt: skip
    print("\ntotal edits over every prompt and draw (CER):")
    totals = {}
    for way in WAYS:
        mine = [r for r in rows if r["way"] == way]
        edits, chars = sum(sum(r["edits"]) for r in mine), sum(r["characters"] for r in mine)
        totals[way] = {"edits": edits, "cer": edits / (chars * args.draws)}
        print(f"  {way:12s} {edits:5d}  ({totals[way]['cer']:.4f})")
    write_result(Path(args.out), "tail_window", rows, model=args.model, draws=args.draws,
                 totals=totals, window_seconds=window)  # fmt: skip


if __name__ == "__main__":
    main()
