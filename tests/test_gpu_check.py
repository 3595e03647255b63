"""``benchmarks/gpu_check.sh --smoke``: the GPU check's whole code path at toy sizes on CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("restore_full", "vocoder_peers", "whisper_scoring", "dnsmos", "build")
PEERS = {"wavefit engine", "wavefit full", "vocos", "hifigan v1"}


@pytest.mark.slow
def test_smoke_run_writes_every_part(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert result["benchmark"] == "gpu_check"
    assert result["plan"]["smoke"] is True and result["plan"]["device"] == "cpu"
    assert result["target_x_real_time"] == 3400
    parts = {p["part"]: p for p in result["rows"]}
    assert tuple(parts) == PARTS
    for name, part in parts.items():
        assert part["status"] == "ok", (name, part.get("error"))
        assert part["wall_seconds"] > 0
        assert part["rows"] and all(r["x_real_time"] > 0 for r in part["rows"]), name

    (restore,) = parts["restore_full"]["rows"]
    assert restore["size"] == "tiny" and restore["clips"] == 4
    assert restore["audio_seconds"] > 0 and restore["params"]["features"] > 0
    assert restore["meets_target"] is False  # a toy model on CPU is not the target's setting
    peers = parts["vocoder_peers"]["rows"]
    assert {r["vocoder"] for r in peers} == PEERS
    assert {r["batch"] for r in peers} == {1, 2}
    assert all(r["kind"] == "peer" and r["hop_length"] == 256 for r in peers)
    backends = {r["backend"] for r in parts["whisper_scoring"]["rows"]}
    assert backends == {"whisper-large-v3 (random)", "mms-1b CTC (random)"}
    (build,) = parts["build"]["rows"]
    assert build["utterances"] == 4 and build["audio_seconds"] == pytest.approx(4.0)
    assert "--asr embedded:" in build["command"] and "--workers 1" in build["command"]
    assert "error" not in build["status_counts"]
