"""The recipe of the shipped embedded models runs from nothing at its smallest setting."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fleursr.corpus.manifest import Corpus
from fleursr.quality.asr.embedded import EmbeddedASR
from fleursr.restore.model import Restorer
from fleursr.synth.espeak import espeak_available
from fleursr.tts.pretrained import TTS

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = {"sw_ke", "uk_ua", "ur_pk", "ms_my"}


STEPS = ["corpus", "asr", "vocoder", "cleaner", "finetune", "tts-data", "tts",
         "ship-restorer", "ship-tts", "eval-data", "evaluate"]  # fmt: skip


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_smallest_recipe_runs_every_step_and_ships_loadable_checkpoints(tmp_path):
    out, ship = tmp_path / "run", tmp_path / "package"
    env = {**os.environ, "SMALL": "1", "OUT": str(out), "SHIP": str(ship), "PY": sys.executable,
           "FLEURSR": str(Path(sys.executable).parent / "fleursr")}  # fmt: skip
    done = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), *STEPS],
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    languages = {u.language for u in Corpus(out / "clean")}
    assert languages == {"en_us", "fr_fr", "hi_in"} and not languages & HELD_OUT

    # Shipped: float16 weights that load into the float32 models, every tensor equal to the
    # trained one rounded to float16.
    for trained, shipped in [("cleaner", "restore/weights/embedded"),
                             ("tts/restored/model", "tts/weights/embedded")]:  # fmt: skip
        full, half = (
            load_file(str(d / "model.safetensors")) for d in (out / trained, ship / shipped)
        )
        assert full.keys() == half.keys()
        for name, tensor in half.items():
            assert tensor.dtype == (
                torch.float16 if full[name].is_floating_point() else full[name].dtype
            )
            assert torch.equal(tensor, full[name].to(tensor.dtype)), name
    assert not (ship / "quality").exists()  # the embedded ASR trains but does not ship
    asr = EmbeddedASR.from_pretrained(out / "asr2")
    assert asr.languages == ["en_us", "fr_fr", "hi_in"]
    restorer = Restorer.from_pretrained(ship / "restore/weights/embedded")
    assert next(restorer.parameters()).dtype == torch.float32
    voice = TTS.from_pretrained(ship / "tts/weights/embedded")
    assert voice.languages == ["en_us", "fr_fr"]  # the voice's languages only

    # The TTS experiment compared both voices; the evaluation kept seen and held-out apart.
    table = json.loads((out / "tts" / "table.json").read_text())
    assert table["sentences"] >= 1
    results = json.loads((out / "eval" / "results" / "results.json").read_text())
    assert {"seen", "held-out"} <= set(results["groups"]) and results["x_real_time"] > 0
    assert set(results["held_out"]) == HELD_OUT

    bad = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), "nonsense"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "unknown step" in bad.stderr


def test_full_recipe_holds_the_held_out_languages_out():
    from fleursr.corpus.languages import EMBEDDED_LANGUAGES

    env = {**os.environ, "PY": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "recipes" / "embedded.sh"), "languages"], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    train, held = (line.split(": ")[1].split() for line in done.stdout.splitlines())
    assert set(held) == HELD_OUT and set(train) == set(EMBEDDED_LANGUAGES) - HELD_OUT
