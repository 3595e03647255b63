import math

import pytest

from fleursr.corpus.testing import make_corpus
from fleursr.quality.report import language_summary, load_scores, worst, write_report


def test_summary_rows_match_the_crafted_scores(tmp_path, scored_run):
    df = load_scores(scored_run(tmp_path))
    summary = language_summary(df, "original", "restored")
    assert list(summary.index) == ["en_us", "th_th", "all"]
    assert summary.loc["en_us", "utterances"] == 3
    assert summary.loc["en_us", "mos_original"] == pytest.approx(2.1)
    assert summary.loc["th_th", "kept"] == pytest.approx(2 / 3)
    assert summary.loc["en_us", "cer_original"] == 0.0
    # utterance 0 lost its last 2 characters: 2 edits over en_us's total reference characters
    chars = sum(len(t) for t in df[df.language == "en_us"].transcription)
    assert summary.loc["en_us", "cer_restored"] == pytest.approx(2 / chars)
    assert worst(df, "original", "restored", n=1).id.tolist() == ["th_th_00001"]


def test_report_renders_with_plots_and_audio_links(tmp_path, scored_run):
    page = write_report(scored_run(tmp_path / "a"), tmp_path / "out",
                        against=scored_run(tmp_path / "b", shift=0.5))  # fmt: skip
    text = page.read_text(encoding="utf-8")
    for needle in ("en_us", "th_th", "data:image/png;base64,", "Worst utterances",
                   "th_th_00001", "<audio", "Against"):  # fmt: skip
        assert needle in text, needle
    for png in ("mos_scatter.png", "mos_per_language.png", "cer_per_language.png"):
        assert (tmp_path / "out" / png).stat().st_size > 1000
    assert "../a/orig/audio/th_th/th_th_00001.flac" in text


def test_unscored_run_still_reports_counts(tmp_path):
    make_corpus(tmp_path, per_language=2)
    df = load_scores(tmp_path)
    summary = language_summary(df, "original", "restored")
    assert summary.loc["all", "utterances"] == 4 and math.isnan(summary.loc["all", "mos_restored"])
    assert "fr_fr" in write_report(tmp_path).read_text(encoding="utf-8")


def test_embedded_audio_of_worst_utterances_is_written_out_to_play(tmp_path):
    from fleursr.corpus.manifest import Corpus, write_manifest

    orig = make_corpus(tmp_path / "orig", languages=("en_us",), per_language=2, embed=True)
    utts = list(Corpus(orig))
    for i, u in enumerate(utts):
        u.scores = {"dnsmos_ovrl_original": 3.0, "dnsmos_ovrl_restored": 2.0 + i}
        u.extra = {"original_path": f"../orig#{u.id}"}
    write_manifest(tmp_path / "run", utts)
    text = write_report(tmp_path / "run").read_text(encoding="utf-8")
    for u in utts[:1]:
        for tag in ("original", "restored"):
            played = tmp_path / "run" / "report" / "audio" / f"{u.id}_{tag}.flac"
            assert played.stat().st_size > 1000 and f"audio/{played.name}" in text
