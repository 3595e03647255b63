"""The natural-speech voice's recipe (recipes/tts.sh) runs from nothing at its smallest setting:
its corpus puts every source together, both arms train, the comparison writes its table and
listening page, the restored arm's voice ships, and after a re-ship the restored twin and its
voice are rebuilt alone."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.testing import make_corpus
from fleursr.synth.espeak import espeak_available
from fleursr.synth.festival import festival_available
from fleursr.synth.piper import piper_available
from fleursr.tts.pretrained import TTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not (espeak_available() and festival_available() and piper_available()),
    reason="needs espeak-ng, festival with its Catalan voice and piper (fleursr[voices])",
)
def test_smallest_tts_recipe_builds_trains_compares_and_ships(tmp_path):
    # a stand-in for the recorded prompts, with ids of their own as the Asterisk prompts have
    real = make_corpus(tmp_path / "real", languages=("en_us", "es_419"), per_language=5,
                       duration=1.5)  # fmt: skip
    write_manifest(real, [replace(u, id=f"recorded_{u.id}") for u in Corpus(real)])
    out, ship = tmp_path / "run", tmp_path / "package"
    env = {**os.environ, "SMALL": "1", "OUT": str(out), "SHIP": str(ship), "REAL": str(real),
           "PY": sys.executable, "FLEURSR": str(Path(sys.executable).parent / "fleursr"),
           "FLEURSR_CACHE": str(tmp_path / "cache")}  # fmt: skip
    steps = ["data", "train", "look", "compare", "ship"]
    done = subprocess.run(["bash", str(ROOT / "recipes" / "tts.sh"), *steps], env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    clean, restored = Corpus(out / "clean"), Corpus(out / "restored")
    languages = {u.language for u in clean}
    assert languages == {"en_us", "es_419", "ca_es", "fr_fr"}
    assert len(clean) == 10 + 10 + 10 + 10  # piper, recorded, festival, espeak-ng
    assert sorted(u.id for u in restored) == sorted(u.id for u in clean)

    for arm in ("original", "restored"):
        assert (out / "compare" / arm / "model" / "model.safetensors").is_file()
    table = json.loads((out / "compare" / "table.json").read_text())
    assert table["sentences"] >= 3 and table["vocoder"] == "griffin-lim"
    assert (out / "compare" / "index.html").is_file()
    voice = TTS.from_pretrained(ship / "tts" / "weights" / "embedded")
    assert set(voice.languages) <= languages and "en_us" in voice.languages
    assert set(voice.duration_scale) == set(voice.languages)  # calibrated to its corpus

    # a re-ship: the restored twin again and its voice alone; the degraded arm's is kept
    kept = (out / "compare" / "original" / "model" / "model.safetensors").read_bytes()
    shutil.rmtree(out / "compare" / "restored" / "model")
    (out / "restored" / "manifest.parquet").unlink()
    again = subprocess.run(["bash", str(ROOT / "recipes" / "tts.sh"), "restore", "train"],
                           env={**env, "ARMS": "restored"}, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(u.id for u in Corpus(out / "restored")) == sorted(u.id for u in clean)
    assert (out / "compare" / "restored" / "model" / "model.safetensors").is_file()
    assert (out / "compare" / "original" / "model" / "model.safetensors").read_bytes() == kept

    bad = subprocess.run(["bash", str(ROOT / "recipes" / "tts.sh"), "nonsense"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "unknown step" in bad.stderr
