"""Publish a run as a Hugging Face dataset: the hub layout (Parquet per language config and
split, audio embedded, a dataset card) checked with ``datasets`` before any upload.

    data/fr_fr/train-00000-of-00001.parquet
    data/fr_fr/dev-00000-of-00001.parquet
    README.md                                   configs (one per language, plus ``all``)

Only kept utterances are published unless ``include_dropped`` (then dropped ones too, with
their ``status`` and ``filter_reasons``); error rows have no audio and are never published.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import SCORE_PREFIX

COLUMNS = ["id", "num_samples", "path", "audio", "transcription", "raw_transcription",
           "gender", "language", "split", "speaker_id", "sentence_id", "status",
           "filter_reasons"]  # fmt: skip
TEXT_COLUMNS = ("asr_original", "asr_restored")


@dataclass
class Export:
    folder: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # language -> split -> rows
    files: list[str] = field(default_factory=list)  # relative paths written
    layout: str = "hub"

    @property
    def rows(self) -> int:
        return sum(sum(s.values()) for s in self.counts.values())


def published_statuses(include_dropped: bool) -> list[str]:
    return ["kept", "dropped"] if include_dropped else ["kept"]


def _columns(corpus: Corpus) -> list[str]:
    have = corpus.columns
    scores = [c for c in have if c.startswith(SCORE_PREFIX)]
    return [c for c in COLUMNS if c in have] + scores + [c for c in TEXT_COLUMNS if c in have]


def publish_counts(run_dir: str | os.PathLike, include_dropped: bool = False) -> dict[str, Counter]:
    """Rows to publish per language and split (reads the small columns only)."""
    corpus = Corpus(run_dir)
    t = corpus.table(columns=["language", "split", "status"]).to_pylist()
    counts: dict[str, Counter] = {}
    for row in t:
        if row["status"] in published_statuses(include_dropped):
            counts.setdefault(row["language"], Counter())[row["split"]] += 1
    return dict(sorted(counts.items()))


def hub_features(columns: list[str], schema: pa.Schema, sampling_rate: int = 24000) -> Any:
    """``datasets.Features`` of the published table: ``audio`` as an Audio feature."""
    from datasets import Audio, Features, Value
    from datasets.features.features import generate_from_arrow_type

    feats: dict[str, Any] = {}
    for name in columns:
        arrow = schema.field(name).type
        if name == "audio":
            feats[name] = Audio(sampling_rate=sampling_rate)
        elif pa.types.is_null(arrow):
            feats[name] = Value("string")
        else:
            feats[name] = generate_from_arrow_type(arrow)
    return Features(feats)


def export_hub(run_dir: str | os.PathLike, out: str | os.PathLike, include_dropped: bool = False,
               rows_per_file: int = 2000, overwrite: bool = True) -> Export:  # fmt: skip
    """Write ``out/data/{language}/{split}-NNNNN-of-MMMMM.parquet`` (audio embedded), streaming
    one language and split at a time. The card is written by
    :func:`fleursr.jobs.publish.card.write_card`."""
    corpus = Corpus(run_dir)
    out = Path(out)
    if overwrite and (out / "data").exists():
        shutil.rmtree(out / "data")
    columns = _columns(corpus)
    features = hub_features(columns, pq.read_schema(corpus.manifest))
    schema = features.arrow_schema
    dataset = pads.dataset(corpus.manifest, format="parquet")
    export = Export(out)
    statuses = published_statuses(include_dropped)
    for lang, splits in publish_counts(run_dir, include_dropped).items():
        for split, rows in sorted(splits.items()):
            n_files = max(1, -(-rows // rows_per_file))
            wanted = (pads.field("language") == lang) & (pads.field("split") == split) & \
                pads.field("status").isin(statuses)  # fmt: skip
            batches = dataset.to_batches(columns=columns, filter=wanted, batch_size=256)
            _write_files(out, lang, split, n_files, rows_per_file, batches, schema, export)
            export.counts.setdefault(lang, {})[split] = rows
    return export


def _write_files(out: Path, lang: str, split: str, n_files: int, per_file: int, batches: Any,
                 schema: pa.Schema, export: Export) -> None:  # fmt: skip
    index, written, writer = 0, 0, None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        while len(table):
            if writer is None:
                rel = f"data/{lang}/{split}-{index:05d}-of-{n_files:05d}.parquet"
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(out / rel, schema, compression="zstd")
                export.files.append(rel)
            take = table.slice(0, per_file - written)
            writer.write_table(take.cast(schema))
            written += len(take)
            table = table.slice(len(take))
            if written == per_file:
                writer.close()
                writer, written, index = None, 0, index + 1
    if writer is not None:
        writer.close()


def verify_hub_folder(folder: str | os.PathLike, export: Export) -> None:
    """Load every language config and split with ``datasets`` (no loading script, a fresh
    cache) and check the row counts; raises ``RuntimeError`` on any mismatch."""
    from datasets import load_dataset

    folder = str(folder)
    with tempfile.TemporaryDirectory(prefix="fleursr-verify-") as cache:
        for lang, splits in export.counts.items():
            loaded = load_dataset(folder, lang, cache_dir=cache)
            got = {split: len(ds) for split, ds in loaded.items()}
            if got != splits:
                raise RuntimeError(f"{folder}: config {lang} loads {got}, expected {splits}")
        total = sum(len(ds) for ds in load_dataset(folder, "all", cache_dir=cache).values())
    if total != export.rows:
        raise RuntimeError(f"{folder}: config all loads {total} rows, expected {export.rows}")


def run_metadata(run_dir: str | os.PathLike) -> dict[str, Any]:
    """What the card reports from ``run.json`` (model, ASR, MOS, filter rules)."""
    path = Path(run_dir) / "run.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    stages = data.get("stages", {})
    return {"model": (stages.get("restore", {}).get("params") or {}).get("model"),
            "asr": (stages.get("score", {}).get("params") or {}).get("asr"),
            "mos": (stages.get("score", {}).get("params") or {}).get("mos"),
            "filter_rules": data.get("filter_rules")}  # fmt: skip
