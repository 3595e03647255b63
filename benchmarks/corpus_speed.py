"""Throughput of the corpus layer: each degradation kind, each chain preset, espeak-ng synthesis.

Degradations run on the fly while restoration models train, so they must stay far faster than
real time on one CPU core. Prints a table and writes JSON (x real time = seconds of audio
processed per second of wall time, single process).

    .venv/bin/python benchmarks/corpus_speed.py [--utterances 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from results_io import write_result

from fleursr.corpus.testing import speech_like
from fleursr.degrade import KIND_ORDER, PRESETS, ChainConfig, degrade
from fleursr.synth.espeak import espeak_available

SR = 16000


def time_chain(config: ChainConfig, waves: list[np.ndarray], pool: list[np.ndarray]) -> float:
    """Seconds of audio per second of wall time."""
    start = time.perf_counter()
    for i, wave in enumerate(waves):
        degrade(wave, SR, i, config=config, babble_pool=pool)
    wall = time.perf_counter() - start
    return sum(len(w) for w in waves) / SR / wall


def time_synth(n: int) -> float:
    import tempfile

    from fleursr.corpus.manifest import Corpus
    from fleursr.synth.corpus import synth_corpus

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        synth_corpus(
            tmp, languages=["en_us", "hi_in"], per_language=n // 2, workers=1, progress=False
        )
        wall = time.perf_counter() - start
        return Corpus(tmp).summary()["hours"] * 3600 / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default="benchmarks/results/corpus_speed.json")
    args = parser.parse_args()

    waves = [speech_like(args.seconds, SR, 100 + 7 * i, seed=i) for i in range(args.utterances)]
    pool = [speech_like(3.0, SR, 150.0, seed=1000 + i) for i in range(8)]
    rows = []
    for kind in KIND_ORDER:
        config = ChainConfig.from_dict(
            {
                "weights": {k: float(k == kind) for k in KIND_ORDER},
                "clean_share": 0.0,
                "count_probs": [1.0],
            }
        )
        rows.append({"what": f"degrade: {kind}", "x_real_time": time_chain(config, waves, pool)})
    for name, config in PRESETS.items():
        rows.append(
            {"what": f"chain preset: {name}", "x_real_time": time_chain(config, waves, pool)}
        )
    if espeak_available():
        rows.append(
            {"what": "espeak-ng synthesis (1 worker)", "x_real_time": time_synth(args.utterances)}
        )

    print(f"{'what':<34}{'x real time':>12}")
    for row in rows:
        print(f"{row['what']:<34}{row['x_real_time']:>12.1f}")
    write_result(
        args.out,
        "corpus_speed",
        rows,
        utterances=args.utterances,
        seconds_each=args.seconds,
        sample_rate=SR,
    )


if __name__ == "__main__":
    main()
