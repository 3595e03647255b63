"""One-call GPU check: full-size restoration, vocoder peers, scoring models and a ``fleursr
build``, each timed on one GPU and recorded in one JSON, in under 8 minutes on an H100/H200.

Parts (each catches its own failure and records it; one failing part does not lose the rest):

- ``restore_full``: ``restorer_config("full")`` (w2v-BERT 2.0 cut at layer 8, random weights
  of the real shapes, saved to a local directory so nothing is downloaded; the full cleaner and
  WaveFit) loaded as the batch job loads it (``load_restorer``), then ``Restorer.restore_batch``
  (length-sorted, padded batches, bf16 autocast) over clips of 2-20 s at 16 kHz. x real time =
  seconds of input restored per second of wall time, after one warm-up call; printed next to
  the target, Sidon's published ~3,400x on one H100.
- ``vocoder_peers``: ``vocoder_speed.peer_rows``: WaveFit (engine, full) against Vocos and
  HiFi-GAN V1 (random weights), batch 1 and 8, 2 s clips, bf16 autocast.
- ``whisper_scoring``: ``quality_speed.full_size_rows``: Whisper large-v3 (encoder + 32 greedy
  decoder steps per clip) and an MMS-1b sized CTC model, random weights, fp16.
- ``dnsmos``: ``DNSMOS(device="cuda")`` (reference windowing); it needs onnxruntime-gpu, and is
  recorded as ``unavailable`` with the reason where that is missing.
- ``build``: ``fleursr build`` (a subprocess, as a person runs it) over a generated corpus
  (``make_corpus``) on one worker with ``--gpus-per-worker 1``: the ``restore_full`` model, an
  EmbeddedASR checkpoint with random weights for ``--asr`` and DNSMOS (on CPU, as the job runs
  it) for ``--mos``; wall time from process start to exit and x real time over the input.

The JSON (``results_io.write_result``) has one row per part: its ``status`` (``ok``;
``unavailable``: this machine lacks an optional backend, such as onnxruntime-gpu, not a bug;
``failed``: an error, with its traceback), its wall seconds and its own ``rows`` of results,
each with ``x_real_time``; the settings used are under ``plan``. The exit status is 1 if a part
failed (with ``--smoke``: if any part is not ``ok``), 2 without CUDA and no ``--smoke``, else 0.

``--smoke`` runs the same code at toy sizes on CPU (a tiny w2v-BERT, tiny restorer and vocoder
widths, tiny Whisper and MMS configs, a four-utterance corpus) in about a minute, for the test
suite; it writes to a temporary directory unless ``--out`` is given.

    bash benchmarks/gpu_check.sh [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from quality_speed import embedded_asr, full_size_rows
from results_io import write_result
from timing import best_wall
from vocoder_speed import peer_rows

from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.quality.mos import DNSMOS, MOSBackendUnavailable
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer

RESULTS = Path(__file__).parent / "results" / "gpu_check.json"
SIDON_X_REAL_TIME = 3400  # Sidon's published full-size throughput on one H100
BUILD_TIMEOUT = 300  # seconds: a build that takes longer has hung (or a worker never came up)
LANGUAGES = ("en_us", "fr_fr")  # the generated corpus's and the ASR checkpoint's languages


@dataclass
class Plan:
    """Sizes of one check: :meth:`gpu` (the real one) or :meth:`toy` (``--smoke``: CPU)."""

    device: str
    smoke: bool
    restorer_size: str = "full"
    encoder: dict = field(default_factory=dict)  # Wav2Vec2BertConfig overrides (none: real)
    ssl_layer: int = 8
    clips: int = 512
    clip_seconds: tuple[float, float] = (2.0, 20.0)
    batch_size: int = 32
    vocoder_seconds: float = 2.0
    vocoder_batches: tuple[int, ...] = (1, 8)
    repeats: int = 5
    scoring_seconds: float = 4.0
    scoring_clips: int = 8
    scoring_repeats: int = 2
    asr_size: str = "embedded"
    build_per_language: int = 32
    build_seconds: float = 8.0

    @classmethod
    def gpu(cls) -> Plan:
        return cls(device="cuda", smoke=False)

    @classmethod
    def toy(cls) -> Plan:
        tiny_encoder = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, output_hidden_size=32)  # fmt: skip
        return cls(device="cpu", smoke=True, restorer_size="tiny", encoder=tiny_encoder,
                   ssl_layer=1, clips=4, clip_seconds=(0.5, 2.0), batch_size=2,
                   vocoder_seconds=0.5, vocoder_batches=(1, 2), repeats=1, scoring_seconds=2.0,
                   scoring_clips=2, scoring_repeats=1, asr_size="tiny", build_per_language=2,
                   build_seconds=1.0)  # fmt: skip


def run_part(name: str, fn: Callable[[], dict]) -> dict:
    """Run one part; its result, or why it did not run, with its wall seconds."""
    print(f"== {name}", flush=True)
    start = time.perf_counter()
    try:
        result = {"status": "ok", **fn()}
    except MOSBackendUnavailable as err:  # a backend this machine lacks: not a bug
        result = {"status": "unavailable", "reason": str(err)}
    except Exception as err:  # recorded, and the exit status says so
        result = {"status": "failed", "error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc()}  # fmt: skip
    result["wall_seconds"] = time.perf_counter() - start
    if result["status"] != "ok":
        print(f"{name}: {result['status']}: {result.get('reason') or result['error']}")
        print(result.get("traceback", ""), end="", file=sys.stderr)
    return {"part": name, **result}


# ------------------------------------------------------------------------------ models
def save_restorer(root: Path, plan: Plan) -> Path:
    """A restorer of ``plan.restorer_size`` with random weights, saved as a checkpoint the
    batch job can load offline: its w2v-BERT 2.0 encoder (the real shapes up to the layer the
    features use, or ``plan.encoder``'s toy sizes) with random weights and its feature
    extractor are saved beside it, and the restorer's config names that directory."""
    from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertConfig, Wav2Vec2BertModel

    encoder_dir = root / "w2v-bert"
    torch.manual_seed(0)
    config = Wav2Vec2BertConfig(**{"num_hidden_layers": plan.ssl_layer, **plan.encoder})
    Wav2Vec2BertModel(config).save_pretrained(encoder_dir)
    SeamlessM4TFeatureExtractor().save_pretrained(encoder_dir)
    features = {"kind": "ssl", "model": str(encoder_dir), "layer": plan.ssl_layer}
    config = restorer_config({"size": plan.restorer_size, "features": features})
    out = root / f"restorer-{plan.restorer_size}"
    Restorer(config.to_dict()).save_pretrained(out)
    return out


def save_asr(root: Path, plan: Plan) -> Path:
    """An EmbeddedASR checkpoint with random weights for ``LANGUAGES`` (``--asr embedded:DIR``)."""
    out = root / f"asr-{plan.asr_size}"
    embedded_asr(plan.asr_size).save_pretrained(out)
    return out


# ------------------------------------------------------------------------------- parts
def restore_full(model_dir: Path, plan: Plan) -> dict:
    from fleursr.restore.apply import load_restorer

    restorer = load_restorer(str(model_dir), plan.device)
    rng = np.random.default_rng(0)
    sr = restorer.input_sample_rate
    seconds = rng.uniform(*plan.clip_seconds, plan.clips)
    waves = [(0.1 * rng.standard_normal(int(s * sr))).astype(np.float32) for s in seconds]
    restorer.restore_batch(waves[: plan.batch_size], sr, plan.batch_size)  # warm-up
    if plan.device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    restorer.restore_batch(waves, sr, plan.batch_size)
    if plan.device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    audio = float(seconds.sum())
    speed = audio / wall
    params = {part: sum(p.numel() for p in getattr(restorer, part).parameters())
              for part in ("features", "cleaner", "vocoder")}  # fmt: skip
    row = {"size": plan.restorer_size, "device": plan.device, "clips": plan.clips,
           "clip_seconds": list(plan.clip_seconds), "batch_size": plan.batch_size,
           "audio_seconds": audio, "wall_seconds": wall, "x_real_time": speed,
           "params": params, "target_x_real_time": SIDON_X_REAL_TIME,
           "meets_target": speed >= SIDON_X_REAL_TIME}  # fmt: skip
    if plan.device == "cuda":
        row["peak_gpu_memory_gb"] = torch.cuda.max_memory_allocated() / 2**30
    met = "met" if row["meets_target"] else "not met"
    print(f"{plan.restorer_size} restorer, {plan.clips} clips of {plan.clip_seconds[0]:g}-"
          f"{plan.clip_seconds[1]:g} s, batch {plan.batch_size}: {speed:.0f}x real time "
          f"(target >= {SIDON_X_REAL_TIME}x: {met})")  # fmt: skip
    return {"rows": [row]}


def vocoder_peers(plan: Plan) -> dict:
    rows = peer_rows([plan.device], plan.vocoder_seconds, list(plan.vocoder_batches),
                     plan.repeats, plan.repeats, tiny=plan.smoke)  # fmt: skip
    return {"rows": rows}


#: with ``--smoke``, ``full_size_rows`` builds its models at these sizes
TINY_TRANSFORMERS = {
    "whisper": dict(d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                    decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128),
    "mms": dict(hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=128, conv_dim=(32,) * 7),
}  # fmt: skip


def whisper_scoring(plan: Plan) -> dict:
    rows = full_size_rows(
        plan.scoring_seconds,
        plan.scoring_clips,
        plan.scoring_repeats,
        TINY_TRANSFORMERS if plan.smoke else None,
    )
    for row in rows:
        print(f"{row['backend']:<28}{row['device']:<6}batch {row['batch']:<4}"
              f"{row['params']:>14,} params {row['x_real_time']:10.1f}x real time")  # fmt: skip
    return {"rows": rows}


def dnsmos(plan: Plan) -> dict:
    mos = DNSMOS(device=plan.device)
    waves = [speech_like(plan.scoring_seconds, f0=100.0 + 15 * i, seed=i)
             for i in range(plan.scoring_clips)]  # fmt: skip
    wall = best_wall(lambda: mos.predict(waves, 16000, plan.scoring_clips), plan.scoring_repeats)
    speed = plan.scoring_clips * plan.scoring_seconds / wall
    print(f"DNSMOS ({plan.device}), batch {plan.scoring_clips}: {speed:.1f}x real time")
    return {"rows": [{"backend": "DNSMOS reference windows", "device": plan.device,
                      "batch": plan.scoring_clips, "x_real_time": speed}]}  # fmt: skip


def build(root: Path, model_dir: Path, asr_dir: Path, plan: Plan) -> dict:
    from fleursr.jobs.batch.build import run_summary

    corpus = make_corpus(root / "corpus", LANGUAGES, plan.build_per_language,
                         duration=plan.build_seconds)  # fmt: skip
    cmd = [sys.executable, "-m", "fleursr", "build", str(corpus), str(root / "run"),
           "--model", str(model_dir), "--workers", "1", "--asr", f"embedded:{asr_dir}",
           "--mos", "dnsmos", "--no-report"]  # fmt: skip
    if plan.device == "cuda":
        cmd += ["--gpus-per-worker", "1"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
    summary = run_summary(root / "run")
    audio = summary["hours"] * 3600
    print(proc.stdout.strip())
    if summary["status"].get("error"):
        raise RuntimeError(f"the build recorded errors: {summary['errors_by_kind']}")
    return {"rows": [{"command": " ".join(["fleursr", *cmd[3:]]), "device": plan.device,
                      "utterances": summary["utterances"], "audio_seconds": audio,
                      "wall_seconds": wall, "x_real_time": audio / wall,
                      "job_wall_seconds": summary["wall_seconds"],
                      "job_x_real_time": summary["x_real_time"],
                      "status_counts": summary["status"]}]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="toy sizes on CPU (tests)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for gpu_check.json (default: {RESULTS.parent}; with "
                             "--smoke a temporary folder)")  # fmt: skip
    args = parser.parse_args()
    if args.smoke:
        plan = Plan.toy()
    elif torch.cuda.is_available():
        plan = Plan.gpu()
    else:
        print("gpu_check: no CUDA device here; run it on a GPU machine, or with --smoke")
        return 2
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="gpu-check-")) if plan.smoke else RESULTS.parent
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fleursr-gpu-check-") as tmp:
        root = Path(tmp)

        @functools.cache
        def models() -> tuple[Path, Path]:  # built by the first part that needs them
            return save_restorer(root, plan), save_asr(root, plan)

        parts = [
            run_part("restore_full", lambda: restore_full(models()[0], plan)),
            run_part("vocoder_peers", lambda: vocoder_peers(plan)),
            run_part("whisper_scoring", lambda: whisper_scoring(plan)),
            run_part("dnsmos", lambda: dnsmos(plan)),
            run_part("build", lambda: build(root, *models(), plan)),
        ]
    total = time.perf_counter() - start
    print(f"\n{'part':<17}{'status':<13}{'seconds':>8}  x real time")
    for p in parts:
        speeds = [r["x_real_time"] for r in p.get("rows", [])]
        shown = ", ".join(f"{s:.1f}" for s in speeds) if speeds else "-"
        print(f"{p['part']:<17}{p['status']:<13}{p['wall_seconds']:>8.1f}  {shown}")
    print(f"total {total:.0f} s")
    write_result(args.out / "gpu_check.json", "gpu_check", parts, plan=asdict(plan),
                 total_seconds=total, target_x_real_time=SIDON_X_REAL_TIME)  # fmt: skip
    bad = [p for p in parts if p["status"] == "failed" or (plan.smoke and p["status"] != "ok")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
