"""The experiment end to end at tiny size: two corpora, two voices, one table."""

import html
import json
import re

import numpy as np
import pandas as pd
import torch

from fleursr.corpus.audio import write_audio
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus
from fleursr.jobs.cli.main import main
from fleursr.jobs.experiments.tts_report import summarize, to_markdown
from fleursr.quality.asr.embedded import EmbeddedASR, EmbeddedASRConfig, vocab_from_texts


def noisy_twin(clean, root):
    """The same utterances with added noise: a stand-in for an unrestored original."""
    corpus = Corpus(clean)
    rows = list(corpus)
    rng = np.random.default_rng(0)
    for utt in rows:
        wave, sr = corpus.load_audio(utt)
        write_audio(root / utt.path, wave + 0.05 * rng.standard_normal(len(wave)), sr)
    from fleursr.corpus.manifest import write_manifest

    write_manifest(root, rows)
    return root


def test_compare_end_to_end(tmp_path, capsys):
    restored = make_corpus(tmp_path / "restored", languages=("en_us", "th_th"), per_language=6,
                           duration=1.0)  # fmt: skip
    original = noisy_twin(restored, tmp_path / "original")
    torch.manual_seed(0)
    texts = [u.transcription for u in Corpus(restored)]
    asr = EmbeddedASR(EmbeddedASRConfig.tiny(), vocab_from_texts(texts), ["en_us", "th_th"])
    asr.save_pretrained(tmp_path / "asr")
    out = tmp_path / "exp"
    code = main(["tts", "compare", "--original", str(original), "--restored", str(restored),
                 "--out", str(out), "--config", "tiny", "--steps", "2", "--batch-size", "4",
                 "--device", "cpu", "--asr", str(tmp_path / "asr"), "--mos", "dnsmos",
                 "--per-language", "1"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "| **overall** |" in printed

    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert len(results) == 4  # 2 languages x 1 held-out sentence x 2 systems
    assert set(results.system) == {"original", "restored"}
    assert (results.groupby("id").reference.nunique() == 1).all()  # same sentences for both
    test_ids = {u.id for u in Corpus(restored) if u.split == "test"}
    assert set(results.id) <= test_ids
    assert results.dnsmos_ovrl.between(1.0, 5.0).all()
    for system in ("original", "restored"):
        assert len(list((out / system / "audio").glob("*.flac"))) == 2

    table = json.loads((out / "table.json").read_text())
    assert [r["language"] for r in table["table"]] == ["en_us", "th_th", "overall"]
    overall = table["table"][-1]
    assert overall["cer_original"] is not None and overall["cer_original"] >= 0
    assert np.isclose(overall["mos_delta"], overall["mos_restored"] - overall["mos_original"])
    assert table["mos_metric"] == "dnsmos_ovrl" and table["sentences"] == 2
    assert (out / "comparison.png").stat().st_size > 1000
    assert "| en_us | 1 |" in (out / "table.md").read_text()
    # lengths against the recordings: 2 training steps give a voice of some length, not none
    assert results.reference_seconds.gt(0).all()
    assert overall["length_original"] > 0 and overall["length_restored"] > 0

    page = (out / "index.html").read_text()
    linked = re.findall(r'src="([^"]+)"', page)
    assert len(linked) == 8  # 2 sentences x (2 voices + 2 recordings)
    assert all((out / path).is_file() for path in linked)
    assert {p.split("/")[0] for p in linked} == {"original", "restored", "recordings"}
    for text in results.reference:
        assert html.escape(text) in page
    assert table["steps"] == {"original": 2, "restored": 2}

    # --no-train compares the voices as they stand: a larger --steps trains nothing
    args = ["tts", "compare", "--original", str(original), "--restored", str(restored),
            "--config", "tiny", "--steps", "50", "--device", "cpu", "--asr", "none",
            "--mos", "none", "--per-language", "1", "--no-train"]  # fmt: skip
    assert main([*args, "--out", str(out)]) == 0
    assert json.loads((out / "table.json").read_text())["steps"] == {"original": 2, "restored": 2}
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "empty")]) != 0
    assert "no voice to compare" in capsys.readouterr().err


def test_summary_pools_characters_not_rates():
    rows = [
        {"system": s, "id": i, "language": "en_us", "reference": ref, "hypothesis": hyp, "mos": m}
        for s, i, ref, hyp, m in [
            ("original", "a", "ab", "xb", 2.0), ("original", "b", "abcdefgh", "abcdefgh", 3.0),
            ("restored", "a", "ab", "ab", 3.0), ("restored", "b", "abcdefgh", "abcdefgx", 4.0),
        ]
    ]  # fmt: skip
    table = summarize(rows)
    en, overall = table
    assert en["cer_original"] == 1 / 10 and en["cer_restored"] == 1 / 10
    assert en["mos_original"] == 2.5 and en["mos_delta"] == 1.0
    assert overall["sentences"] == 2
    assert en["length_original"] is None  # no recording lengths given
    said = {("original", "a"): 3.0, ("original", "b"): 3.0, ("restored", "a"): 1.0,
            ("restored", "b"): 2.0}  # fmt: skip
    timed = summarize([{**r, "seconds": said[r["system"], r["id"]],
                        "reference_seconds": 2.0 if r["id"] == "a" else 4.0}
                       for r in rows])  # fmt: skip
    # total synthesized over total recorded: (3 + 3) / (2 + 4) and (1 + 2) / (2 + 4)
    assert timed[-1]["length_original"] == 1.0 and timed[-1]["length_restored"] == 0.5
    no_asr = summarize([{**r, "hypothesis": None} for r in rows])
    assert no_asr[0]["cer_original"] is None and "| - |" in to_markdown(no_asr)
