"""One job at a time in a run directory; a lock left by a dead process is taken over."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from fleursr.jobs.batch.lock import LOCK_FILE, RunLockedError, run_lock
from fleursr.jobs.cli.main import main


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def _lock_of(run, pid, host=None):
    run.mkdir(parents=True, exist_ok=True)
    owner = {"pid": pid, "host": host or socket.gethostname(), "since": 0, "command": "x"}
    (run / LOCK_FILE).write_text(json.dumps(owner))


def test_a_live_owner_stops_a_second_build_with_its_pid(tmp_path, sleeper, corpus_dir, models,
                                                        capsys):  # fmt: skip
    run = tmp_path / "run"
    _lock_of(run, sleeper.pid)
    code = main(["build", str(corpus_dir), str(run), "--model", models["restorer"],
                 "--asr", "none", "--mos", "none", "--threads", "--no-report"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"in use by process {sleeper.pid}" in err
    assert not (run / "shards").exists() and (run / LOCK_FILE).exists()


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    _lock_of(tmp_path, int(dead.stdout))
    with run_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] != int(dead.stdout)
        with run_lock(tmp_path):  # the same process nests (build -> restore -> score)
            pass
        assert path.exists()
    assert not path.exists()


def test_a_lock_from_another_host_names_the_file(tmp_path):
    _lock_of(tmp_path, 1, host="elsewhere.example")
    with pytest.raises(RunLockedError, match=f"on host elsewhere.example.*remove .*{LOCK_FILE}"):
        with run_lock(tmp_path):
            pass


def test_a_second_process_cannot_take_a_held_lock(tmp_path):
    with run_lock(tmp_path):
        code = subprocess.run(
            [sys.executable, "-c", "import sys; from fleursr.jobs.batch.lock import run_lock\n"
             f"with run_lock({str(tmp_path)!r}): pass"], capture_output=True, text=True,
        )  # fmt: skip
        assert code.returncode != 0 and "RunLockedError" in code.stderr
