"""The batch job end to end: every id once, resume after an interruption, the stages as
subcommands over one run directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.batch.runs import Run
from fleursr.jobs.cli.main import main
from fleursr.synth.espeak import espeak_available


def _ids(run: Path) -> list[str]:
    return Corpus(run).table(columns=["id"]).column("id").to_pylist()


def test_build_lists_every_id_once_with_scores_and_filter(built_run, corpus_dir):
    ids = _ids(built_run)
    assert sorted(ids) == sorted(_ids(corpus_dir)) and len(set(ids)) == len(ids)
    table = Corpus(built_run).table(columns=None).to_pylist()
    assert {r["status"] for r in table} == {"kept", "dropped"}
    for row in table:
        assert row["sampling_rate"] == 24000 and row["audio"]["bytes"]
        assert row["asr_original"] is not None and row["score_cer_restored"] is not None
        assert (row["status"] == "dropped") == (row["num_samples"] < 1.5 * 24000)
    run = Run.open(built_run)
    assert run.num_shards == 6
    for stage in ("restore", "score"):
        entries = run.stage(stage)["shards"]
        assert sorted(entries, key=int) == [str(k) for k in range(6)]
        assert all(len(e["sha256"]) == 64 for e in entries.values())
    assert (built_run / "report" / "report.html").exists()


def test_interrupted_build_resumes_and_equals_uninterrupted(built_run, corpus_dir, models,
                                                            tmp_path):  # fmt: skip
    run = tmp_path / "b" / "run"  # same depth as built_run: same relative original paths
    cmd = [sys.executable, "-m", "fleursr", "build", str(corpus_dir), str(run), "--model",
           models["restorer"], "--asr", models["asr"], "--mos", "none", "--rules",
           models["rules"], "--shard-size", "2", "--workers", "1", "--threads"]  # fmt: skip
    # A shell's background job ignores SIGINT, and a child inherits that: give the build the
    # default disposition, so Python turns the signal into KeyboardInterrupt wherever pytest runs.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    run_file = run / "run.json"
    deadline = time.monotonic() + 120  # a loaded machine can take a while to start dask
    while time.monotonic() < deadline:
        if run_file.exists():
            shards = json.loads(run_file.read_text())["stages"].get("restore", {})
            if shards.get("shards"):  # interrupt as soon as one shard is done
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 130, out
    data = json.loads(run_file.read_text())
    assert "filter_rules" not in data  # it stopped before the end
    finished = {
        (stage, k): os.stat(run / e["file"]).st_mtime_ns
        for stage, s in data["stages"].items()
        for k, e in s["shards"].items()
    }
    assert 1 <= len(finished) < 12
    assert main(["build", str(corpus_dir), str(run), "--model", models["restorer"], "--asr",
                 models["asr"], "--mos", "none", "--rules", models["rules"], "--shard-size",
                 "2", "--workers", "2", "--threads"]) == 0  # fmt: skip
    data = json.loads(run_file.read_text())
    for (stage, k), mtime in finished.items():  # finished shards were not redone
        assert os.stat(run / data["stages"][stage]["shards"][k]["file"]).st_mtime_ns == mtime
    mine, theirs = (
        pq.read_table(run / "manifest.parquet"),
        pq.read_table(built_run / "manifest.parquet"),
    )
    assert mine.equals(theirs)


def test_build_in_process_equals_the_dask_build(built_run, corpus_dir, models, tmp_path,
                                                capsys):  # fmt: skip
    from fleursr.jobs.batch import models as job_models

    run = tmp_path / "c" / "run"  # same depth as built_run: same relative original paths
    assert main(["build", str(corpus_dir), str(run), "--model", models["restorer"], "--asr",
                 models["asr"], "--mos", "none", "--rules", models["rules"], "--shard-size",
                 "2", "--workers", "0"]) == 0  # fmt: skip
    assert "dask:" not in capsys.readouterr().out  # no cluster was started
    assert job_models._LOCAL == {}  # each stage freed its models
    mine, theirs = (
        pq.read_table(run / "manifest.parquet"),
        pq.read_table(built_run / "manifest.parquet"),
    )
    assert mine.equals(theirs)


def test_stages_as_subcommands_and_rerun_skips(corpus_dir, models, tmp_path, capsys):
    run = tmp_path / "run"
    common = ["--shard-size", "4", "--workers", "1", "--threads"]
    assert main(["restore-corpus", str(corpus_dir), str(run), "--model", models["restorer"],
                 *common]) == 0  # fmt: skip
    assert "(0 already done)" in capsys.readouterr().out
    assert main(["restore-corpus", str(corpus_dir), str(run), "--model", models["restorer"],
                 *common]) == 0  # fmt: skip
    assert "(3 already done)" in capsys.readouterr().out
    assert main(["score", str(run), "--asr", models["asr"], "--mos", "none", "--workers", "1",
                 "--threads"]) == 0  # fmt: skip
    assert main(["filter", str(run), "--rules", models["rules"]]) == 0
    assert main(["report", str(run)]) == 0
    assert {u.status for u in Corpus(run)} == {"kept", "dropped"}
    # a shard whose file no longer matches its checksum is redone
    victim = run / Run.open(run).stage("restore")["shards"]["1"]["file"]
    victim.write_bytes(b"broken")
    assert main(["restore-corpus", str(corpus_dir), str(run), "--model", models["restorer"],
                 *common]) == 0  # fmt: skip
    assert "(2 already done)" in capsys.readouterr().out
    assert sorted(_ids(run)) == sorted(_ids(corpus_dir))
    assert main(["restore-corpus", str(corpus_dir), str(run), "--shard-size", "3"]) == 2


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_demo_goes_on_to_build_and_publish_with_a_model(tmp_path, models, capsys):
    from fleursr.corpus.testing import make_corpus
    from fleursr.jobs.experiments.demo import run_demo

    # "recorded" speech: 3.5 s rows (the filter's 3 s floor); two test rows of each language
    recorded = make_corpus(tmp_path / "recorded", ("en_us", "es_419"), per_language=6,
                           duration=3.5)  # fmt: skip
    paths = run_demo(tmp_path / "demo", languages=["de_de"], per_language=3, workers=1,
                     model=models["restorer"], asr=models["asr"], mos="none",
                     recorded=recorded, recorded_per_language=2)  # fmt: skip
    out = capsys.readouterr().out
    assert "added 4 recorded utterances (en_us, es_419)" in out
    assert "throughput:" in out and (paths["run"] / "report" / "report.html").exists()
    restored = list(Corpus(paths["run"]))
    assert len(restored) == 3 + 4
    assert sum(u.language in ("en_us", "es_419") and u.ok for u in restored) == 4


def test_missing_models_fail_before_any_work(corpus_dir, models, tmp_path, capsys, monkeypatch):
    from fleursr.restore.model import Restorer

    monkeypatch.setattr(Restorer, "shipped_dir", tmp_path / "no-weights")  # a trimmed install
    run = str(tmp_path / "run")
    assert main(["build", str(corpus_dir), run, "--model", "embedded", "--mos", "none"]) == 2
    assert "no embedded restoration weights" in capsys.readouterr().err
    assert main(["build", str(corpus_dir), run, "--model", str(tmp_path / "nope"), "--asr",
                 "none", "--mos", "none"]) == 2  # fmt: skip
    assert "no such checkpoint directory" in capsys.readouterr().err
    assert main(["build", str(corpus_dir), run, "--model", models["restorer"], "--asr", "none",
                 "--mos", "nisqa"]) == 2  # fmt: skip
    assert "unknown MOS predictor" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_score_on_a_plain_corpus_runs_on_this_machine(tmp_path, models):
    from fleursr.corpus.testing import make_corpus

    make_corpus(tmp_path / "c", per_language=2, duration=0.5)
    assert main(["score", str(tmp_path / "c"), "--asr", models["asr"], "--mos", "none"]) == 0
    assert all("cer_restored" in u.scores for u in Corpus(tmp_path / "c"))


def test_a_new_run_makes_enough_shards_and_a_rerun_keeps_them(corpus_dir, tmp_path):
    from fleursr.jobs.batch.runs import auto_shard_size

    assert [auto_shard_size(n) for n in (1, 16, 17, 70, 1024, 1025, 100000)] == [
        1, 1, 2, 5, 64, 64, 64]  # fmt: skip
    run = Run.open(tmp_path / "run", corpus_dir)  # 12 utterances: shards of 1
    assert (run.shard_size, run.num_shards) == (1, 12)
    assert Run.open(tmp_path / "run", corpus_dir).shard_size == 1  # the run's, not a new default
    with pytest.raises(ValueError, match="uses --shard-size 1"):
        Run.open(tmp_path / "run", corpus_dir, shard_size=4)
