import json

import pytest

from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance
from fleursr.quality.filter import (
    FilterRules,
    apply_rules,
    failed_rules,
    filter_corpus,
    format_counts,
)


def utt(uid="u", seconds=5.0, lang="fr_fr", **scores):
    return Utterance(id=uid, path=f"{uid}.flac", language=lang, num_samples=int(seconds * 16000),
                     sampling_rate=16000, scores=scores)  # fmt: skip


GOOD = dict(cer_original=0.05, cer_restored=0.06, dnsmos_ovrl_original=2.1,
            dnsmos_ovrl_restored=3.4)  # fmt: skip


@pytest.mark.parametrize(
    "changes, seconds, expected",
    [
        ({}, 5.0, []),
        ({"cer_restored": 0.30}, 5.0, ["max_cer_restored", "max_cer_increase"]),
        ({"cer_restored": 0.12}, 5.0, ["max_cer_increase"]),
        ({"dnsmos_ovrl_restored": 2.9}, 5.0, ["min_mos_restored"]),
        ({"dnsmos_ovrl_original": 3.5}, 5.0, ["min_mos_gain"]),
        ({}, 2.0, ["min_duration"]),
        ({}, 31.0, ["max_duration"]),
    ],
)
def test_each_rule_names_itself(changes, seconds, expected):
    assert failed_rules(utt(seconds=seconds, **{**GOOD, **changes}), FilterRules()) == expected


def test_missing_scores_and_disabled_rules_do_not_drop():
    assert failed_rules(utt(), FilterRules()) == []
    rules = FilterRules(min_duration=None, max_cer_restored=None, max_cer_increase=None)
    assert failed_rules(utt(seconds=1.0, **{**GOOD, "cer_restored": 0.9}), rules) == []


def test_rules_file_overrides_defaults(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("min_mos_restored: 3.5\nmos: dnsmos_p808\n", encoding="utf-8")
    rules = FilterRules.load(path)
    assert rules.min_mos_restored == 3.5 and rules.mos == "dnsmos_p808"
    assert rules.max_cer_restored == 0.25
    (tmp_path / "bad.yaml").write_text("max_wer: 0.2\n", encoding="utf-8")
    with pytest.raises(KeyError, match="max_wer"):
        FilterRules.load(tmp_path / "bad.yaml")


def test_filter_corpus_in_place_keeps_errors_and_reasons(tmp_path):
    rows = [
        utt("a", **GOOD),
        utt("b", **{**GOOD, "dnsmos_ovrl_restored": 1.5}),
        utt("c", seconds=1.0, lang="hi_in", **GOOD),
        utt("d", lang="hi_in").with_error("MissingAudioError: d.flac: file does not exist"),
    ]
    write_manifest(tmp_path, rows)
    counts = filter_corpus(tmp_path, FilterRules())
    out = {u.id: u for u in Corpus(tmp_path)}
    assert out["a"].status == "kept" and json.loads(out["a"].extra["filter_reasons"]) == []
    assert out["b"].status == "dropped"
    assert json.loads(out["b"].extra["filter_reasons"]) == ["min_mos_restored", "min_mos_gain"]
    assert json.loads(out["c"].extra["filter_reasons"]) == ["min_duration"]
    assert out["d"].status == "error" and "MissingAudioError" in out["d"].error
    assert counts["fr_fr"] == {"kept": 1, "dropped": 1, "rule:min_mos_restored": 1,
                               "rule:min_mos_gain": 1}  # fmt: skip
    assert counts["hi_in"]["error"] == 1
    table = format_counts(counts)
    assert "hi_in" in table and table.splitlines()[-1].startswith("all")
    assert list(apply_rules([], FilterRules())) == []


def test_filter_and_report_commands(tmp_path, capsys, scored_run):
    from fleursr.jobs.cli.main import main

    run = scored_run(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text("min_duration: null\n", encoding="utf-8")
    assert main(["filter", str(run), "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert (
        "en_us" in out and "min_mos_gain" in out and out.strip().splitlines()[-1].startswith("all")
    )
    assert main(["report", str(run)]) == 0
    assert (run / "report" / "report.html").exists()
