"""The main job on the embedded defaults: ``make demo`` / ``fleursr demo``.

It synthesizes the embedded multilingual corpus (with real recorded speech beside it where
given) and writes its degraded twin; when a
restoration model is given (or shipped in the package), it goes on to build the restored
corpus from the degraded twin on dask (restore -> score -> filter -> report) and publishes
it as a dry run (the dataset folder, checked with ``datasets``; nothing is uploaded).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from fleursr.corpus.combine import add_utterances, pick_per_language
from fleursr.corpus.languages import DEMO_LANGUAGES
from fleursr.corpus.manifest import Corpus
from fleursr.degrade.twin import degrade_corpus
from fleursr.jobs.cli.summary import print_summary
from fleursr.synth.corpus import synth_corpus
from fleursr.synth.espeak import espeak_available


def run_demo(
    out: str | os.PathLike = "demo_out",
    languages: Sequence[str] | None = DEMO_LANGUAGES,
    per_language: int = 5,
    seed: int = 0,
    workers: int | None = None,
    preset: str = "default",
    model: str | None = None,
    asr: str | None = None,
    mos: str = "dnsmos",
    recorded: str | os.PathLike | None = None,
    recorded_per_language: int = 5,
) -> dict[str, Path]:
    """Synthesize the embedded corpus (``languages``: default eight the shipped models trained
    on and the four they never heard; ``None``: every embedded language) into ``out/clean``
    and its degraded twin into ``out/degraded``; with a restoration ``model`` (default: the
    shipped one, if any) build ``out/run`` from the degraded twin and dry-run publish it to
    ``out/run/publish/hub``.
    ``recorded``: a corpus of real recorded speech (``bash recipes/real_speech.sh`` writes
    ``runs/real_speech/asterisk``: studio English and Spanish prompts); its first
    ``recorded_per_language`` test utterances of each language join ``out/clean`` beside the
    espeak-ng rows (audio under ``out/clean/audio/recorded``), so every later stage sees both.
    ``asr`` defaults to ``auto``: the offline Whisper base (faster-whisper), or none where it is
    not installed. Prints what was made and where; returns the output folders."""
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
    if recorded is not None:
        source = Corpus(recorded)
        from fleursr.quality.filter import FilterRules

        # at least the filter's shortest kept duration, so the recorded rows can pass it
        shortest = FilterRules().min_duration or 0.0
        picked = pick_per_language(source, recorded_per_language, min_seconds=shortest)
        if not picked:
            raise ValueError(f"{source.root}: no usable test utterances to add to the demo")
        add_utterances(paths["clean"], source, picked, folder="recorded")
        languages_added = sorted({u.language for u in picked})
        print(f"added {len(picked)} recorded utterances ({', '.join(languages_added)}) "
              f"from {source.root}")  # fmt: skip
    t1 = time.perf_counter()
    degrade_corpus(paths["clean"], paths["degraded"], preset=preset, seed=seed, workers=workers)
    t2 = time.perf_counter()
    print()
    print_summary(paths["clean"], title=f"clean embedded corpus ({t1 - t0:.0f} s)")
    print_summary(paths["degraded"], title=f"degraded twin, preset '{preset}' ({t2 - t1:.0f} s)")
    model = model or _shipped()
    if model:
        paths.update(_build_and_publish(out, paths["degraded"], model, asr, mos, workers))
    else:
        print("no restoration model shipped yet: pass one (run_demo(model=DIR)) to go on to "
              "`fleursr build` and `fleursr publish --dry-run`")  # fmt: skip
    print()
    for name, path in paths.items():
        print(f"{name:>9}: {path.resolve()}")
    return paths


def _shipped() -> str | None:
    """``"embedded"`` when the package ships the embedded restorer, else ``None``."""
    from fleursr.restore.apply import shipped_restorer as shipped

    try:
        shipped()
    except FileNotFoundError:
        return None
    return "embedded"


def _build_and_publish(out: Path, degraded: Path, model: str, asr: str | None, mos: str,
                       workers: int | None) -> dict[str, Path]:  # fmt: skip
    from fleursr.jobs.batch.build import build, format_run_summary
    from fleursr.jobs.batch.cluster import ClusterOptions
    from fleursr.jobs.batch.pipeline import JobOptions
    from fleursr.jobs.publish.publish import format_published, publish

    options = JobOptions(cluster=ClusterOptions(workers=workers))
    result = build(degraded, out / "run", model, asr=asr or "auto", mos=mos,
                   options=options)  # fmt: skip
    print(format_run_summary(result.summary, result.stages))
    paths = {"run": out / "run", "report": result.report or out / "run"}
    try:
        published = publish(out / "run", "fleursr/demo", dry_run=True)
    except ValueError as err:  # nothing kept: show the dataset anyway, every row marked
        print(f"{err}: the demo's dataset holds every utterance instead, with its `status` and "
              "`filter_reasons` (`fleursr publish --include-dropped`)")  # fmt: skip
        published = publish(out / "run", "fleursr/demo", dry_run=True, include_dropped=True)
    print(format_published(published, "fleursr/demo"))
    return {**paths, "dataset": published.export.folder}
