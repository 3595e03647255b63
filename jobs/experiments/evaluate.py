"""Measure a restoration model on a clean corpus and its degraded twin: the results table.

For each utterance of a split of the degraded twin (``clean_path`` names its clean reference),
the degraded audio is restored, and the clean, degraded and restored versions are scored with
the same ASR (CER against the reference text) and the same MOS predictor; the log-mel distance
to the clean reference is measured for the degraded and the restored audio. Languages are
grouped as ``seen`` and ``held-out`` (codes the models never trained on), so a table shows
whether the gain carries over to languages the model never saw.

Log-mel distance: mean absolute difference of natural-log mel magnitudes (80 bands, 16 kHz,
25 ms windows every 10 ms) over the frames both signals have, after peak-normalizing each
signal to the reference's peak (a gain change alone is not a loss of quality).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fleursr.corpus.audio import AudioError, resample
from fleursr.corpus.manifest import Corpus
from fleursr.nn import MelConfig, MelSpectrogram
from fleursr.quality.asr.base import ASR
from fleursr.quality.cer import char_counts
from fleursr.quality.mos.base import MOSPredictor

RATE = 16000
VERSIONS = ("clean", "degraded", "restored")
_MEL = MelConfig(sample_rate=RATE, n_fft=400, hop_length=160, win_length=400, n_mels=80)


def log_mel_distance(wave: np.ndarray, reference: np.ndarray, mel: MelSpectrogram) -> float:
    """Mean |log-mel(wave) - log-mel(reference)| over their common frames (16 kHz waves)."""
    peak = float(np.max(np.abs(reference))) or 1.0
    scaled = [w * (peak / (float(np.max(np.abs(w))) or 1.0)) for w in (wave, reference)]
    with torch.inference_mode():
        a, b = (mel(torch.from_numpy(np.ascontiguousarray(w, np.float32))[None])[0] for w in scaled)
    n = min(a.shape[-1], b.shape[-1])
    return float((a[:, :n] - b[:, :n]).abs().mean())


@dataclass
class Row:
    """One utterance's measurements."""

    id: str
    language: str
    group: str
    seconds: float
    mos: dict[str, float] = field(default_factory=dict)
    edits: dict[str, tuple[int, int]] = field(default_factory=dict)  # version -> (edits, chars)
    mel: dict[str, float] = field(default_factory=dict)  # degraded / restored -> distance
    error: str | None = None


def _measure(
    row: Row, text: str, versions: dict[str, np.ndarray], asr: ASR | None,
    mos: MOSPredictor | None, mel: MelSpectrogram,
) -> None:  # fmt: skip
    names = list(versions)
    waves = [versions[n] for n in names]
    if mos is not None:
        key = "dnsmos_ovrl" if "dnsmos_ovrl" in mos.names else mos.names[0]
        for name, scores in zip(names, mos.predict(waves, RATE)):
            row.mos[name] = scores[key]
    if asr is not None and text:
        for name, hyp in zip(names, asr.transcribe(waves, row.language, RATE)):
            counts = char_counts(text, hyp, language=row.language)
            row.edits[name] = (counts.edits, counts.ref_chars)
    for name in ("degraded", "restored"):
        row.mel[name] = log_mel_distance(versions[name], versions["clean"], mel)


def evaluate(
    degraded_dir: str | os.PathLike, restorer: object, asr: ASR | None, mos: MOSPredictor | None,
    held_out: Sequence[str] = (), split: str = "test", limit_per_language: int | None = None,
    progress: bool = True,
) -> tuple[list[Row], float]:  # fmt: skip
    """Measure every usable utterance of ``split`` (at most ``limit_per_language`` each) with
    ``restorer`` (anything with ``restore(wave, sr) -> (wave, sr)``); the MOS reported is
    ``dnsmos_ovrl`` or the predictor's first score. Returns the rows and the restorer's speed
    (x real time: seconds of degraded audio restored per second of restoring)."""
    corpus = Corpus(degraded_dir)
    utts = [u for u in corpus if u.split == split and u.ok and u.extra.get("clean_path")]
    if limit_per_language:
        counts: dict[str, int] = {}
        kept = []
        for utt in utts:
            counts[utt.language] = counts.get(utt.language, 0) + 1
            if counts[utt.language] <= limit_per_language:
                kept.append(utt)
        utts = kept
    if not utts:
        raise ValueError(
            f"{degraded_dir}: no utterance of split {split!r} with a clean_path reference "
            "(is it a degraded twin written by `fleursr degrade`?)"
        )
    mel = MelSpectrogram(_MEL)
    rows, restore_seconds, audio_seconds = [], 0.0, 0.0
    for utt in tqdm(utts, desc="evaluate", unit="utt", disable=not progress):
        group = "held-out" if utt.language in held_out else "seen"
        row = Row(utt.id, utt.language, group, utt.duration)
        try:
            degraded, sr = corpus.load_audio(utt)
            clean = corpus.load_reference(utt.extra["clean_path"], target_sr=RATE)[0]
            start = time.perf_counter()
            restored, out_sr = restorer.restore(degraded, sr)
            restore_seconds += time.perf_counter() - start
            audio_seconds += len(degraded) / sr
            versions = {"clean": clean, "degraded": resample(degraded, sr, RATE),
                        "restored": resample(restored, out_sr, RATE)}  # fmt: skip
            _measure(row, utt.transcription or utt.raw_transcription, versions, asr, mos, mel)
        except (AudioError, ValueError) as err:
            row.error = f"{type(err).__name__}: {err}"
        rows.append(row)
    return rows, (audio_seconds / restore_seconds if restore_seconds else 0.0)


def summarize(rows: Sequence[Row], by: str = "group") -> dict[str, dict[str, float | int]]:
    """Per group (or per ``language``) and ``all``: utterances, mean MOS per version, CER per
    version (total edits / total reference characters), mean log-mel distance, and the share of
    utterances where the restored audio is closer to the clean reference than the degraded."""
    buckets: dict[str, list[Row]] = {}
    for row in rows:
        if row.error is None:
            buckets.setdefault(getattr(row, by), []).append(row)
            buckets.setdefault("all", []).append(row)
    table: dict[str, dict[str, float | int]] = {}
    for name, items in sorted(buckets.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        entry: dict[str, float | int] = {"utterances": len(items)}
        for v in VERSIONS:
            scores = [r.mos[v] for r in items if v in r.mos]
            entry[f"mos_{v}"] = float(np.mean(scores)) if scores else float("nan")
            edits = [r.edits[v] for r in items if v in r.edits]
            chars = sum(c for _, c in edits)
            entry[f"cer_{v}"] = sum(e for e, _ in edits) / chars if chars else float("nan")
        for v in ("degraded", "restored"):
            entry[f"mel_{v}"] = float(np.mean([r.mel[v] for r in items]))
        entry["restored_closer"] = float(np.mean([r.mel["restored"] < r.mel["degraded"]
                                                  for r in items]))  # fmt: skip
        table[name] = entry
    return table


def format_table(table: dict[str, dict[str, float | int]], title: str) -> str:
    """A markdown table of :func:`summarize`'s output."""
    cols = ["utterances"] + [f"mos_{v}" for v in VERSIONS] + [f"cer_{v}" for v in VERSIONS]
    cols += ["mel_degraded", "mel_restored", "restored_closer"]
    lines = [f"| {title} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, entry in table.items():
        cells = [f"{entry[c]:.3f}" if isinstance(entry[c], float) else str(entry[c]) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_evaluation(out: str | os.PathLike, rows: Sequence[Row], speed: float,
                     meta: dict) -> Path:  # fmt: skip
    """Write ``results.json`` (tables, speed, settings, every row) and ``results.md``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    groups, languages = summarize(rows), summarize(rows, by="language")
    errors = [{"id": r.id, "error": r.error} for r in rows if r.error]
    (out / "results.json").write_text(json.dumps(
        {**meta, "x_real_time": speed, "groups": groups, "languages": languages,
         "errors": errors, "rows": [r.__dict__ for r in rows]}, indent=1, default=str))  # fmt: skip
    text = [format_table(groups, "group"), "", format_table(languages, "language"), "",
            f"restoration speed: {speed:.1f}x real time; errors: {len(errors)}"]  # fmt: skip
    (out / "results.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    return out
