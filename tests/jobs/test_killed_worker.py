"""A job on a real ``dask scheduler`` with two ``dask worker`` processes, one of which is
SIGKILLed mid-job: the job finishes and every id is in the output exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.batch.build import build
from fleursr.jobs.batch.cluster import ClusterOptions
from fleursr.jobs.batch.pipeline import JobOptions

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.fixture
def cluster(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]
    workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                 "--no-nanny", "--host", "127.0.0.1", "--name", f"w{i}",
                                 "--local-directory", str(tmp_path / f"w{i}")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
               for i in range(2)]  # fmt: skip
    procs += workers
    try:
        _wait_for_workers(address, 2)
        yield address, workers
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


def test_job_survives_a_killed_worker(cluster, corpus_dir, models, tmp_path):
    address, workers = cluster
    run = tmp_path / "run"
    options = JobOptions(cluster=ClusterOptions(scheduler=address, retries=3), progress=False)
    outcome: dict = {}

    def job() -> None:
        try:
            outcome["result"] = build(corpus_dir, run, models["restorer"], asr=models["asr"],
                                      mos="none", rules=models["rules"], shard_size=1,
                                      options=options, report=False)  # fmt: skip
        except BaseException as err:  # reported below
            outcome["error"] = err

    thread = threading.Thread(target=job)
    thread.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # wait until the job is under way on both workers
        path = run / "run.json"
        if path.exists() and len(json.loads(path.read_text())["stages"].get("restore", {})
                                 .get("shards", {})) >= 2:  # fmt: skip
            break
        time.sleep(0.02)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(timeout=10)
    thread.join(timeout=180)
    assert not thread.is_alive(), "the job did not finish"
    assert "error" not in outcome, outcome.get("error")
    ids = Corpus(run).table(columns=["id"]).column("id").to_pylist()
    expected = Corpus(corpus_dir).table(columns=["id"]).column("id").to_pylist()
    assert sorted(ids) == sorted(expected) and len(set(ids)) == len(ids)
    assert outcome["result"].summary["status"].get("error", 0) == 0
