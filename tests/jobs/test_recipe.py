"""The recipe of the shipped embedded models runs from nothing at its smallest setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.espeak import espeak_available
from corpus.manifest import Corpus
from quality.asr.embedded import EmbeddedASR

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = {"sw_ke", "uk_ua", "ur_pk", "ms_my"}


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_smallest_recipe_synthesizes_and_trains(tmp_path):
    env = {**os.environ, "SMALL": "1", "OUT": str(tmp_path), "PY": sys.executable,
           "FLEURSR": str(Path(sys.executable).parent / "fleursr")}  # fmt: skip
    done = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), "corpus", "asr"],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    languages = {u.language for u in Corpus(tmp_path / "clean")}
    assert languages == {"en_us", "fr_fr", "hi_in"} and not languages & HELD_OUT
    asr = EmbeddedASR.from_pretrained(tmp_path / "asr")
    assert asr.languages == ["en_us", "fr_fr", "hi_in"]
    bad = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), "nonsense"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "unknown step" in bad.stderr


def test_full_recipe_holds_the_held_out_languages_out():
    from corpus.languages import EMBEDDED_LANGUAGES

    env = {**os.environ, "PY": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), "languages"], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    train, held = (line.split(": ")[1].split() for line in done.stdout.splitlines())
    assert set(held) == HELD_OUT and set(train) == set(EMBEDDED_LANGUAGES) - HELD_OUT
