"""The results table of a restorer on a degraded twin, measured against the clean reference."""

import json

import numpy as np
import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.degrade.twin import degrade_corpus
from fleursr.jobs.cli.main import main
from fleursr.jobs.experiments.evaluate import _MEL, Row, evaluate, log_mel_distance, summarize
from fleursr.nn import MelSpectrogram
from fleursr.quality.asr import load_asr
from fleursr.quality.mos import DNSMOS


class Identity:
    """A restorer that hands the input back unchanged (its distance to clean is the degraded's)."""

    def restore(self, wave, sr):
        return wave, sr


def test_log_mel_distance_is_zero_for_the_same_audio_and_grows_with_noise():
    mel = MelSpectrogram(_MEL)
    clean = speech_like(1.0, seed=1)
    rng = np.random.default_rng(0)
    assert log_mel_distance(clean, clean, mel) == pytest.approx(0.0, abs=1e-6)
    assert log_mel_distance(0.3 * clean, clean, mel) == pytest.approx(0.0, abs=1e-4)  # gain only
    mild, loud = (clean + s * rng.standard_normal(clean.size).astype(np.float32)
                  for s in (0.01, 0.1))  # fmt: skip
    assert 0 < log_mel_distance(mild, clean, mel) < log_mel_distance(loud, clean, mel)


def test_summary_counts_closer_shares_and_corpus_cer():
    rows = [Row("a", "en_us", "seen", 1.0, {"clean": 4.0, "degraded": 2.0, "restored": 3.0},
                {"clean": (0, 10), "degraded": (5, 10), "restored": (1, 10)},
                {"degraded": 2.0, "restored": 1.0}),
            Row("b", "sw_ke", "held-out", 1.0, {"clean": 4.0, "degraded": 2.0, "restored": 1.0},
                {"clean": (0, 30), "degraded": (3, 30), "restored": (9, 30)},
                {"degraded": 1.0, "restored": 2.0}),
            Row("c", "sw_ke", "held-out", 1.0, error="MissingAudioError: gone")]  # fmt: skip
    table = summarize(rows)
    assert list(table) == ["held-out", "seen", "all"]
    assert table["all"]["utterances"] == 2 and table["all"]["restored_closer"] == 0.5
    assert table["all"]["cer_restored"] == pytest.approx(10 / 40)  # total edits / total chars
    assert table["held-out"]["mos_restored"] == 1.0 and table["seen"]["mel_degraded"] == 2.0


def test_evaluate_a_twin_with_a_tiny_restorer_and_the_command(tmp_path, models, capsys):
    clean = make_corpus(tmp_path / "clean", languages=("en_us", "fr_fr"), per_language=6,
                        duration=1.2)  # fmt: skip
    degrade_corpus(clean, tmp_path / "degraded", preset="noise", seed=0, workers=1)
    mos = DNSMOS(exact_reference=False)
    rows, speed = evaluate(tmp_path / "degraded", Identity(), load_asr(models["asr"]), mos,
                           held_out=["fr_fr"], split="test", progress=False)  # fmt: skip
    tests = [u for u in Corpus(tmp_path / "degraded") if u.split == "test"]
    assert sorted(r.id for r in rows) == sorted(u.id for u in tests) and speed > 0
    assert {r.group for r in rows} == {"seen", "held-out"}
    for r in rows:  # identity: restored is the degraded audio, clean scores itself
        assert r.error is None and r.mel["restored"] == pytest.approx(r.mel["degraded"], abs=1e-4)
        assert set(r.edits) == {"clean", "degraded", "restored"}
        assert r.mos["restored"] == pytest.approx(r.mos["degraded"], abs=0.05)
    assert summarize(rows)["all"]["restored_closer"] <= 0.5
    with pytest.raises(ValueError, match="no utterance of split 'test' with a clean_path"):
        evaluate(clean, Identity(), None, None, progress=False)

    out = tmp_path / "eval"
    argv = ["evaluate", str(tmp_path / "degraded"), "--out", str(out), "--model",
            models["restorer"], "--asr", models["asr"], "--mos", "none", "--held-out", "fr_fr",
            "--limit", "1", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads((out / "results.json").read_text())
    assert result["groups"]["all"]["utterances"] == 2 and result["held_out"] == ["fr_fr"]
    assert (
        "| held-out |" in (out / "results.md").read_text()
        and "x real time" in capsys.readouterr().out
    )
