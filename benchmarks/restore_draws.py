"""The restorer's own randomness against a change: CER and DNSMOS over several noise draws.

fleursr's restorer draws random phases where the cleaned features carry energy the input lacks
(a band it never had, a masked stretch), seeded by ``seed`` in its config. One draw of the 24
recorded test prompts cannot resolve CER differences below ~0.01, and Whisper base (greedy, no
temperature fallback) sometimes loops on a long prompt, adding hundreds of edits to one row.
This script restores every recorded test prompt with ``--draws`` seeds for each system spec
(``restore_quality.load_system``: ``embedded``, ``embedded@final_mask=0``, a directory) and
reports, per system, CER and DNSMOS OVRL for each draw, their mean, and the number of
utterance-draws with more than 50 edits and more than half the prompt's characters (a loop:
Whisper repeating a token until its length limit; short prompts, a few words, are left out).

    python benchmarks/restore_quality.py --real runs/real_speech/asterisk ...  # once: the inputs
    python benchmarks/restore_draws.py --systems embedded,embedded@final_mask=0

Prints a table and writes JSON (``benchmarks/results/restore_draws.json``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from restore_quality import RATE, load_system, score, test_rows
from results_io import write_result

from fleursr.corpus.audio import resample
from fleursr.corpus.manifest import Corpus
from fleursr.quality.asr import load_asr
from fleursr.quality.mos import build_mos


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", default="runs/restore_quality/asterisk_degraded_16k",
                    help="the degraded recorded corpus restore_quality.py writes")  # fmt: skip
    ap.add_argument("--systems", default="embedded,embedded@final_mask=0")
    ap.add_argument("--draws", type=int, default=3, help="seeds of the restorer's noise")
    ap.add_argument("--per-language", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/restore_draws.json")
    args = ap.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    corpus = Corpus(args.real)
    utts = test_rows(Path(args.real), args.per_language)
    if not utts:
        raise SystemExit(f"{args.real}: no test utterances (run restore_quality.py first)")
    inputs = [corpus.load_audio(u) for u in utts]
    texts = [u.transcription or u.raw_transcription for u in utts]
    langs = [u.language for u in utts]
    asr, mos = load_asr("auto", "cpu"), build_mos("dnsmos", num_threads=args.threads)
    rows = []
    for spec in args.systems.split(","):
        system = load_system(spec)
        for seed in range(args.draws):
            system.cfg.seed = seed
            waves = [resample(*system.restore(w, sr), RATE) for w, sr in inputs]
            ovrl, edits = score(waves, texts, langs, asr, mos)
            chars = sum(c for _, c in edits)
            rows.append({
                "system": spec, "seed": seed, "dnsmos": float(np.mean(ovrl)),
                "cer": sum(e for e, _ in edits) / chars,
                "loops": sum(e > max(50, c / 2) for e, c in edits),
                "edits": [e for e, _ in edits], "ids": [u.id for u in utts],
            })  # fmt: skip
            r = rows[-1]
            print(f"{spec:32s} seed {seed}: CER {r['cer']:.3f}  DNSMOS {r['dnsmos']:.3f}  "
                  f"loops {r['loops']}", flush=True)  # fmt: skip
    summary = []
    print(f"\n| system | CER per draw | mean CER | DNSMOS mean | loops | ({len(utts)} prompts)")
    print("|---|---|---|---|---|")
    for spec in args.systems.split(","):
        mine = [r for r in rows if r["system"] == spec]
        summary.append({
            "system": spec, "cer": float(np.mean([r["cer"] for r in mine])),
            "cer_draws": [r["cer"] for r in mine],
            "dnsmos": float(np.mean([r["dnsmos"] for r in mine])),
            "loops": sum(r["loops"] for r in mine),
        })  # fmt: skip
        s = summary[-1]
        draws = ", ".join(f"{c:.3f}" for c in s["cer_draws"])
        print(f"| {spec} | {draws} | {s['cer']:.3f} | {s['dnsmos']:.3f} | {s['loops']} |")
    write_result(Path(args.out), "restore_draws", summary, draws=rows, prompts=len(utts),
                 wall_seconds=round(time.perf_counter() - started, 1))  # fmt: skip
    print(f"whole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
