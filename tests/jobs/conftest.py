"""Shared fixtures of the batch-job tests: tiny random models saved to disk and small
generated corpora (no espeak-ng, no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleursr.corpus.audio import write_audio
from fleursr.corpus.manifest import write_manifest
from fleursr.corpus.record import Utterance
from fleursr.corpus.testing import speech_like

RULES = "max_cer_restored: null\nmax_cer_increase: null\nmin_duration: 1.5\n"


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, str]:
    """A tiny randomly initialized Restorer and EmbeddedASR, saved as checkpoints."""
    from fleursr.quality.asr.embedded import EmbeddedASR, EmbeddedASRConfig, vocab_from_texts
    from fleursr.restore.config import restorer_config
    from fleursr.restore.model import Restorer

    root = tmp_path_factory.mktemp("models")
    Restorer(restorer_config("tiny").to_dict()).save_pretrained(root / "restorer")
    vocab = vocab_from_texts(["sentence number 0123456789 phrase numéro"])
    EmbeddedASR(EmbeddedASRConfig.tiny(), vocab, ["en_us", "fr_fr"]).save_pretrained(root / "asr")
    rules = root / "rules.yaml"
    rules.write_text(RULES)
    return {"restorer": str(root / "restorer"), "asr": str(root / "asr"), "rules": str(rules)}


def make_varied_corpus(root: Path, per_language: int = 6,
                       languages: tuple[str, ...] = ("en_us", "fr_fr")) -> Path:  # fmt: skip
    """Utterances of 1.0 s and 2.0 s in turn (so ``min_duration: 1.5`` drops half)."""
    rows = []
    for li, lang in enumerate(languages):
        for k in range(per_language):
            duration = 2.0 if k % 2 else 1.0
            wave = speech_like(duration, 16000, 110.0 + 40 * k, seed=10 * li + k)
            uid = f"{lang}_{k:04d}"
            write_audio(root / "audio" / f"{uid}.flac", wave, 16000)
            rows.append(Utterance(
                id=uid, path=f"audio/{uid}.flac", language=lang, num_samples=len(wave),
                sampling_rate=16000, transcription=f"sentence number {k}",
                raw_transcription=f"Sentence number {k}.", gender="female" if k % 2 else "male",
                split=("train", "dev", "test")[k % 3], speaker_id=f"{lang}_s{k % 2}",
                sentence_id=k,
            ))  # fmt: skip
    write_manifest(root, rows)
    return root


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return make_varied_corpus(tmp_path_factory.mktemp("corpus") / "in")


@pytest.fixture(scope="session")
def built_run(tmp_path_factory, corpus_dir, models) -> Path:
    """A run built in this process (thread workers), uninterrupted."""
    from fleursr.jobs.batch.build import build
    from fleursr.jobs.batch.cluster import ClusterOptions
    from fleursr.jobs.batch.pipeline import JobOptions

    run = tmp_path_factory.mktemp("runs") / "a" / "run"
    options = JobOptions(cluster=ClusterOptions(workers=2, processes=False, dashboard=False),
                         progress=False)  # fmt: skip
    build(corpus_dir, run, models["restorer"], asr=models["asr"], mos="none",
          rules=models["rules"], shard_size=2, options=options)  # fmt: skip
    return run
