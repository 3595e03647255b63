"""The main job on the embedded defaults: ``make demo`` / ``fleursr demo``.

Today it synthesizes the embedded multilingual corpus and writes its degraded twin; later
stages (restore, score, filter, publish, report) join it as they land.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from corpus.espeak import espeak_available
from corpus.synth import synth_corpus
from corpus.twin import degrade_corpus
from jobs.summary import print_summary


def run_demo(
    out: str | os.PathLike = "demo_out",
    languages: Sequence[str] | None = None,
    per_language: int = 10,
    seed: int = 0,
    workers: int | None = None,
    preset: str = "default",
) -> dict[str, Path]:
    """Synthesize the embedded corpus into ``out/clean`` and its degraded twin into
    ``out/degraded``; print what was made and where. Returns the output folders."""
    if not espeak_available():
        raise RuntimeError(
            "the demo speaks its corpus with espeak-ng, which is not installed: "
            "sudo apt-get install -y espeak-ng"
        )
    out = Path(out)
    paths = {"clean": out / "clean", "degraded": out / "degraded"}
    t0 = time.perf_counter()
    synth_corpus(
        paths["clean"], languages=languages, per_language=per_language, seed=seed, workers=workers
    )
    t1 = time.perf_counter()
    degrade_corpus(paths["clean"], paths["degraded"], preset=preset, seed=seed, workers=workers)
    t2 = time.perf_counter()
    print()
    print_summary(paths["clean"], title=f"clean embedded corpus ({t1 - t0:.0f} s)")
    print_summary(paths["degraded"], title=f"degraded twin, preset '{preset}' ({t2 - t1:.0f} s)")
    print()
    for name, path in paths.items():
        print(f"{name:>9}: {path.resolve()}")
    return paths
