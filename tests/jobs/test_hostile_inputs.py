"""The bad-input corpus (fleursr.corpus.badinputs) through every entry point: restore on each
file and on the folder, build, score and publish. No crash without a named file, no utterance
lost or duplicated, every failure a typed error naming the file; a bad manifest is refused at
open, naming the row and the column, before any work."""

from __future__ import annotations

import shutil

import pytest

from fleursr.corpus.audio import AudioError
from fleursr.corpus.badinputs import audio_corpus, write_bad_audio, write_bad_manifests
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.validate import open_corpus
from fleursr.jobs.batch.build import build, error_kind
from fleursr.jobs.batch.cluster import ClusterOptions
from fleursr.jobs.batch.pipeline import JobOptions
from fleursr.jobs.cli.main import main
from fleursr.jobs.publish.publish import publish

AUDIO_ERRORS = {cls.__name__ for cls in AudioError.__subclasses__()}
OPTIONS = JobOptions(cluster=ClusterOptions(workers=1, processes=False, dashboard=False),
                     progress=False)  # fmt: skip
RULES = (
    "max_cer_restored: null\nmax_cer_increase: null\nmin_duration: null\nmax_duration: null\n"
    "min_mos_restored: null\nmin_mos_gain: null\n"
)


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    return audio_corpus(tmp_path_factory.mktemp("bad") / "corpus")


@pytest.fixture(scope="module")
def bad_run(bad_corpus, models, tmp_path_factory):
    root, _ = bad_corpus
    rules = tmp_path_factory.mktemp("rules") / "rules.yaml"
    rules.write_text(RULES)
    run = tmp_path_factory.mktemp("run") / "run"
    result = build(root, run, models["restorer"], asr=models["asr"], mos="none",
                   rules=str(rules), shard_size=16, options=OPTIONS, report=False)  # fmt: skip
    return run, result


def _check_rows(rows: list, cases: list) -> None:
    """Row k is case k: restored where it should be, else an error of the expected kind that
    names the file."""
    assert [u.id for u in rows] == [f"bad_{k:02d}" for k in range(len(cases))]
    for utt, case in zip(rows, cases):
        if case.expect == "ok":
            assert utt.ok, (case.kind, utt.error)
        else:
            assert not utt.ok and error_kind(utt.error) == case.expect, (case.kind, utt.error)
            assert case.name in utt.error, (case.kind, utt.error)


def test_there_are_at_least_forty_kinds(tmp_path):
    cases = write_bad_audio(tmp_path)
    manifests = write_bad_manifests(tmp_path / "manifests")
    assert len({c.kind for c in cases}) + len(manifests) >= 40
    assert sum(c.expect != "ok" for c in cases) >= 15 and len(manifests) >= 10


def test_build_keeps_every_utterance_once_with_typed_errors(bad_corpus, bad_run):
    _, cases = bad_corpus
    run, result = bad_run
    _check_rows(list(Corpus(run)), cases)
    expected_errors = sum(c.expect != "ok" for c in cases)
    assert sum(result.summary["errors_by_kind"].values()) == expected_errors


def test_publish_of_the_bad_run_publishes_only_restored_audio(bad_corpus, bad_run, tmp_path):
    _, cases = bad_corpus
    run, _ = bad_run
    published = publish(run, "org/bad", out=tmp_path / "pub", dry_run=True)
    assert published.export.rows == sum(c.expect == "ok" for c in cases)


def test_score_of_the_bad_corpus_keeps_every_row(bad_corpus, models, tmp_path, capsys):
    root, cases = bad_corpus
    copy = tmp_path / "corpus"
    shutil.copytree(root, copy, symlinks=True)
    code = main(["score", str(copy), "--asr", models["asr"], "--mos", "none"])
    assert code == 0, capsys.readouterr().err
    rows = list(Corpus(copy))
    assert [u.id for u in rows] == [f"bad_{k:02d}" for k in range(len(cases))]
    for utt, case in zip(rows, cases):
        if case.expect not in ("ok", "TooShortAudioError"):  # scoring has no minimum length
            assert error_kind(utt.error) == case.expect and case.name in utt.error, utt.error
        else:
            assert utt.ok and "asr_restored" in utt.extra, (case.kind, utt.error)


def test_restore_on_the_folder_and_on_each_file(bad_corpus, models, tmp_path, capsys):
    root, cases = bad_corpus
    folder = root / "audio"
    code = main(["restore", str(folder), str(tmp_path / "out"), "--model", models["restorer"]])
    out = capsys.readouterr()
    text = out.out + out.err
    bad = [c for c in cases if c.expect != "ok" and c.name != "missing.wav"]
    assert code == 1, text
    assert f"restored {sum(c.expect == 'ok' for c in cases)} of " in text
    for case in bad:
        if case.name != "folder.wav":  # a directory is walked, not read as a file
            assert any(case.expect in line and case.name.split("\n")[0] in line
                       for line in text.splitlines()), (case.kind, text)  # fmt: skip
    for case in cases:
        if case.expect == "ok":
            assert (tmp_path / "out" / case.name).with_suffix(".flac").exists(), case.kind
    for case in cases:
        src = folder / case.name
        if case.name == "missing.wav" or src.is_dir():
            continue
        dst = tmp_path / "files" / f"{abs(hash(case.name))}.flac"
        code = main(["restore", str(src), str(dst), "--model", models["restorer"]])
        err = capsys.readouterr()
        if case.expect == "ok":
            assert code == 0 and dst.exists(), (case.kind, err.err)
        else:
            assert code == 1 and not dst.exists(), (case.kind, code)
            assert case.expect in err.out + err.err, (case.kind, err)


@pytest.mark.parametrize("entry", ["build", "restore", "score", "publish"])
def test_a_bad_manifest_is_refused_at_open(entry, models, tmp_path, capsys):
    for kind, (root, expect) in write_bad_manifests(tmp_path / "m").items():
        out = tmp_path / "out" / root.name
        if entry == "build":
            args = ["build", str(root), str(out), "--model", models["restorer"], "--asr", "none",
                    "--mos", "none", "--threads", "--workers", "1", "--no-report"]  # fmt: skip
        elif entry == "restore":
            args = ["restore", str(root), str(out), "--model", models["restorer"]]
        elif entry == "score":
            args = ["score", str(root), "--asr", models["asr"], "--mos", "none"]
        else:
            args = ["publish", str(root), "--repo-id", "org/x", "--dry-run", "--out", str(out)]
        before = (root / "manifest.parquet").read_bytes()
        assert main(args) == 2, kind
        err = capsys.readouterr().err
        assert expect in err and "manifest.parquet" in err, (kind, err)
        if "row" in expect or "appears" in expect:
            assert "row" in err, (kind, err)
        assert not (out / "shards").exists() and not list(out.glob("**/*.flac")), kind
        assert (root / "manifest.parquet").read_bytes() == before, kind


def test_restore_of_the_bad_corpus_keeps_every_utterance_once(bad_corpus, models, tmp_path,
                                                              capsys):  # fmt: skip
    root, cases = bad_corpus
    code = main(["restore", str(root), str(tmp_path / "out"), "--model", models["restorer"]])
    assert code == 1, capsys.readouterr().err
    _check_rows(list(Corpus(tmp_path / "out")), cases)


def test_import_of_the_bad_folder_lists_every_file_once(tmp_path, capsys):
    cases = write_bad_audio(tmp_path / "folder")
    code = main(["corpus", "import", str(tmp_path / "folder"), "--out", str(tmp_path / "c"),
                 "--language", "en_us"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    rows = list(open_corpus(tmp_path / "c"))  # valid: ids unique, every readable file linked in
    assert len(rows) == len(cases) and len({u.id for u in rows}) == len(rows)
    for utt in rows:
        assert utt.ok or error_kind(utt.error) in AUDIO_ERRORS, utt.error
