"""Shared fixtures of the quality tests."""

import pytest

from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.testing import make_corpus


def _scored_run(root, shift=0.0):
    """A run of 2 languages x 3 utterances with crafted scores and transcripts."""
    make_corpus(root / "orig", languages=("en_us", "th_th"), per_language=3, duration=0.5)
    utts = list(Corpus(root / "orig"))
    for i, u in enumerate(utts):
        u.scores = {
            "dnsmos_ovrl_original": 2.0 + 0.1 * i,
            "dnsmos_ovrl_restored": 3.0 + 0.1 * i - (1.5 if i == 4 else 0) + shift,
        }
        u.extra = {
            "asr_original": u.transcription,
            "original_path": "../orig/" + u.path,
            "asr_restored": u.transcription if i % 3 else u.transcription[:-2],
        }
        u.path = "../orig/" + u.path
        u.status = "dropped" if i == 4 else "kept"
    write_manifest(root / "run", utts)
    return root / "run"


@pytest.fixture
def scored_run():
    """Factory: ``scored_run(root, shift=0.0)`` writes a crafted scored run under ``root``."""
    return _scored_run
