"""Manifests: a corpus (or a run) is a directory whose ``manifest.parquet`` lists every utterance.

The fixed columns have fixed Arrow types; scores (``score_*``) are float64 and any extra
column a stage adds is kept with the type Arrow infers. Audio lives beside the manifest as
files (``path`` relative to the directory) or inside it as FLAC bytes in the Hugging Face
Audio convention (an ``audio`` struct of ``bytes`` and ``path``).

Reading streams record batches, so a corpus of millions of rows is never held at once.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fleursr.corpus.audio import AudioError, UnsafePathError, read_audio
from fleursr.corpus.record import SCORE_PREFIX, Utterance

MANIFEST_NAME = "manifest.parquet"

AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
BASE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("path", pa.string()),
        ("language", pa.string()),
        ("num_samples", pa.int64()),
        ("sampling_rate", pa.int32()),
        ("transcription", pa.string()),
        ("raw_transcription", pa.string()),
        ("gender", pa.string()),
        ("split", pa.string()),
        ("speaker_id", pa.string()),
        ("sentence_id", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("audio", AUDIO_TYPE),
    ]
)


def escapes(path: str) -> bool:
    """Whether a manifest ``path`` names a file outside its corpus directory: absolute (POSIX
    or Windows style), from the home directory, or climbing out with ``..``."""
    if not path or path.startswith(("/", "\\", "~")) or Path(path).is_absolute():
        return True
    if len(path) > 1 and path[0].isalpha() and path[1] == ":":  # C:\... or C:/...
        return True
    normal = posixpath.normpath(path.replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def manifest_path(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_NAME


def rows_to_table(utterances: Iterable[Utterance]) -> pa.Table:
    """Arrow table of utterances: fixed columns typed, then scores, then extra columns."""
    rows = [u.to_row() for u in utterances]
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    fields = list(BASE_SCHEMA)
    for name in names:
        if name in BASE_SCHEMA.names:
            continue
        if name.startswith(SCORE_PREFIX):
            fields.append(pa.field(name, pa.float64()))
    columns = {}
    for f in fields:
        columns[f.name] = pa.array([row.get(f.name) for row in rows], type=f.type)
    for name in names:
        if name not in columns:
            column = pa.array([row.get(name) for row in rows])
            # An extra column that is empty so far is taken as text (paths, reasons, transcripts),
            # so a streaming write can still fill it in later batches.
            columns[name] = column.cast(pa.string()) if pa.types.is_null(column.type) else column
    return pa.table(columns)


def _batched(items: Iterable[Utterance], size: int) -> Iterator[list[Utterance]]:
    batch: list[Utterance] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _conform(table: pa.Table, schema: pa.Schema, path: Path) -> pa.Table:
    extra = set(table.schema.names) - set(schema.names)
    if extra:
        raise ValueError(f"{path}: columns {sorted(extra)} appear after the first batch")
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.schema.names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.table(columns, schema=schema)


def write_manifest(
    root: str | os.PathLike, utterances: Iterable[Utterance], batch_size: int = 1024
) -> Path:
    """Write ``root/manifest.parquet`` from any iterable, streaming ``batch_size`` rows at a time.

    Written to a temporary name and renamed when complete. Duplicate ids are refused. A stream
    takes its columns from its first batch; a sequence (all rows at hand, e.g. two corpora put
    together) is written as one batch, so a column only later rows have is kept.
    """
    if isinstance(utterances, Sequence):
        batch_size = max(batch_size, len(utterances))
    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    seen: set[str] = set()
    writer: pq.ParquetWriter | None = None
    try:
        for batch in _batched(utterances, batch_size):
            for u in batch:
                if u.id in seen:
                    raise ValueError(f"{path}: duplicate utterance id {u.id!r}")
                seen.add(u.id)
            table = rows_to_table(batch)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(_conform(table, schema, path))
        if writer is None:
            writer = pq.ParquetWriter(tmp, rows_to_table([]).schema, compression="zstd")
        writer.close()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return path


class Corpus:
    """A directory with a ``manifest.parquet``: iterate its utterances, load their audio.

    An utterance's audio file (``path``) is read only where it lies inside the directory,
    unless ``external_paths`` (the user trusts the manifest): :func:`fleursr.corpus.validate.
    open_corpus` says why and checks the whole manifest at open."""

    def __init__(self, root: str | os.PathLike, external_paths: bool = False) -> None:
        self.root = Path(root)
        self.external_paths = external_paths
        self.manifest = manifest_path(self.root)
        if not self.manifest.exists():
            raise FileNotFoundError(
                f"{self.root}: not a corpus directory (no {MANIFEST_NAME}); create one with "
                "`fleursr corpus synth` or `fleursr corpus import`"
            )

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r}, {len(self)} utterances)"

    def __len__(self) -> int:
        return pq.ParquetFile(self.manifest).metadata.num_rows

    @property
    def columns(self) -> list[str]:
        return pq.ParquetFile(self.manifest).schema_arrow.names

    def iter_batches(
        self, batch_size: int = 256, columns: list[str] | None = None
    ) -> Iterator[list[Utterance]]:
        """Stream utterances in lists of at most ``batch_size``."""
        pf = pq.ParquetFile(self.manifest)
        for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
            yield [Utterance.from_row(row) for row in batch.to_pylist()]

    def __iter__(self) -> Iterator[Utterance]:
        for batch in self.iter_batches():
            yield from batch

    def table(self, columns: list[str] | None = None) -> pa.Table:
        """The manifest as an Arrow table (pass ``columns`` to skip embedded audio)."""
        return pq.read_table(self.manifest, columns=columns)

    def resolve(self, path: str) -> Path:
        """A manifest path made absolute (relative paths are relative to the corpus root)."""
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    def load_audio(
        self, utt: Utterance, target_sr: int | None = None, min_duration: float = 0.0
    ) -> tuple[np.ndarray, int]:
        """``(wave, sr)`` from the embedded bytes or the file; raises AudioError."""
        if utt.audio is not None and utt.audio.get("bytes"):
            name = f"{self.manifest}[{utt.id}]:{utt.audio.get('path') or utt.path}"
            return read_audio(
                utt.audio["bytes"], name=name, target_sr=target_sr, min_duration=min_duration
            )
        if not self.external_paths and escapes(utt.path):
            raise UnsafePathError(
                f"{self.manifest}[{utt.id}]",
                f"path {utt.path!r} lies outside the corpus directory (read only with "
                "--allow-external-paths)",
            )
        return read_audio(self.resolve(utt.path), target_sr=target_sr, min_duration=min_duration)

    def get(self, uid: str) -> Utterance:
        """One utterance by id (an index of ids is built on first use; reads one row group)."""
        if not hasattr(self, "_index"):
            pf = pq.ParquetFile(self.manifest)
            self._index: dict[str, tuple[int, int]] = {}
            for group in range(pf.num_row_groups):
                ids = pf.read_row_group(group, columns=["id"]).column("id").to_pylist()
                self._index.update({u: (group, k) for k, u in enumerate(ids)})
        if uid not in self._index:
            raise KeyError(f"{self.manifest}: no utterance with id {uid!r}")
        group, k = self._index[uid]
        table = pq.ParquetFile(self.manifest).read_row_group(group).slice(k, 1)
        return Utterance.from_row(table.to_pylist()[0])

    def load_reference(
        self, reference: str, target_sr: int | None = None
    ) -> tuple[np.ndarray, int]:
        """Audio named by a reference column (``clean_path``, ``original_path``): a path relative
        to this corpus (or absolute), or ``other_corpus_dir#utterance_id`` for embedded audio."""
        if "#" in reference and not self.resolve(reference).exists():
            root, uid = reference.rsplit("#", 1)
            other = Corpus(self.resolve(root))
            return other.load_audio(other.get(uid), target_sr=target_sr)
        return read_audio(self.resolve(reference), target_sr=target_sr)

    def load_column(
        self, utt: Utterance, column: str = "path", target_sr: int | None = None
    ) -> tuple[np.ndarray, int]:
        """The audio that column ``column`` of ``utt`` names: ``path`` is the utterance's own
        audio (embedded bytes or its file, :meth:`load_audio`); any other column holds a
        reference (``original_path``, ``clean_path``: :meth:`load_reference`). Raises
        AudioError, also where the row has nothing in that column."""
        if column == "path":
            return self.load_audio(utt, target_sr=target_sr)
        reference = utt.extra.get(column)
        if not reference:
            raise AudioError(f"{self.manifest}[{utt.id}]", f"no {column!r} audio")
        return self.load_reference(reference, target_sr=target_sr)

    def summary(self) -> dict:
        """Counts per language and split, hours, speakers (reads only the small columns)."""
        cols = ["language", "split", "num_samples", "sampling_rate", "speaker_id", "status"]
        t = self.table(columns=[c for c in cols if c in self.columns]).to_pandas()
        hours = float((t.num_samples / t.sampling_rate).sum() / 3600.0)
        per_lang = t.groupby("language").size().to_dict()
        per_split = t.groupby("split").size().to_dict()
        return {
            "utterances": int(len(t)),
            "languages": len(per_lang),
            "hours": hours,
            "speakers": int(t.groupby(["language", "speaker_id"]).ngroups),
            "per_language": {k: int(v) for k, v in per_lang.items()},
            "per_split": {k: int(v) for k, v in per_split.items()},
            "errors": int((t.status == "error").sum()) if "status" in t else 0,
        }
