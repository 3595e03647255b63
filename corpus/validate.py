"""Corpus validation at open: a manifest is checked before any work is done on it.

Entry points that take a corpus from a user (``fleursr build``, ``restore``, ``restore-corpus``,
``score``, ``publish``) open it with :func:`open_corpus`, which reads the small columns once
(ids, paths, rates; never the audio or the text) and refuses the corpus with one
:class:`CorpusError` listing every problem by row and column:

- required columns (``id``, ``path``, ``language``) and the types of the fixed columns;
- ids present, valid UTF-8 and unique (a duplicated id would otherwise fail only at the merge,
  after all the work);
- ``sampling_rate`` within the plausible range and ``num_samples`` not negative, where given;
- ``path`` of audio that is not embedded: relative, inside the corpus directory. A manifest is
  text anyone can write; without this a row naming ``../../etc/passwd`` or ``/home/me/.ssh/x``
  would make a run read that file and, were it to decode as audio, publish it. Absolute or
  escaping paths are read only with ``external_paths=True`` (``--allow-external-paths``),
  which the run records. The check is on the manifest's text: symbolic links inside the
  corpus directory are the user's own files and are followed (``fleursr corpus import``
  links the files it imports that way).

Reference columns (``clean_path``, ``original_path``) name audio the project's own tools wrote
beside a corpus (a degraded twin's clean original, a run's input); they are read for scoring
and evaluation, never published, and are not restricted here.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq

from fleursr.corpus.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from fleursr.corpus.manifest import BASE_SCHEMA, Corpus, escapes, manifest_path

REQUIRED = ("id", "path", "language")
SHOWN = 20  # problems listed in the error; the rest are counted


class CorpusError(ValueError):
    """A manifest that cannot be used as it is. ``problems``: one line each, naming the row
    (number and id) and the column."""

    def __init__(self, manifest: str | os.PathLike, problems: list[str]) -> None:
        self.manifest, self.problems = str(manifest), problems
        shown = "\n  ".join(problems[:SHOWN])
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{manifest}: {len(problems)} problem(s):\n  {shown}{more}")

    def __reduce__(self):
        return (type(self), (self.manifest, self.problems))


def _type_ok(actual: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_null(actual):
        return True
    for test in (pa.types.is_integer, pa.types.is_floating, pa.types.is_struct):
        if test(expected):
            return test(actual)
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    return actual.equals(expected)


def _schema_problems(schema: pa.Schema) -> list[str]:
    problems = [f"column {name!r} is missing (required: {', '.join(REQUIRED)})"
                for name in REQUIRED if name not in schema.names]  # fmt: skip
    for f in BASE_SCHEMA:
        if f.name in schema.names and not _type_ok(schema.field(f.name).type, f.type):
            problems.append(f"column {f.name!r} has type {schema.field(f.name).type}, "
                            f"expected {f.type}")  # fmt: skip
    for name in schema.names:
        if name.startswith("score_"):
            kind = schema.field(name).type
            if not (
                pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)
            ):
                problems.append(f"column {name!r} has type {kind}, expected a number")
    return problems


def _text(column: pa.ChunkedArray) -> list[str | None | bytes]:
    """Values of a string column; a value that is not UTF-8 stays ``bytes``."""
    raw = column.cast(pa.binary()).to_pylist()
    out: list[str | None | bytes] = []
    for value in raw:
        try:
            out.append(None if value is None else value.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(value)
    return out


def validate_manifest(root: str | os.PathLike, external_paths: bool = False) -> list[str]:
    """Every problem of the corpus manifest at ``root`` (empty: usable)."""
    path = manifest_path(root)
    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise
    except Exception as err:
        return [f"not a readable Parquet file ({type(err).__name__}: {err})"]
    problems = _schema_problems(pf.schema_arrow)
    if problems:
        return problems  # the row checks need the columns
    names = pf.schema_arrow.names
    columns = [c for c in ("id", "path", "sampling_rate", "num_samples", "status") if c in names]
    first_row: dict[str, int] = {}
    duplicates: dict[str, list[int]] = defaultdict(list)
    path_problems: dict[int, str] = {}  # kept unless the row turns out to embed its audio
    offset = 0
    for batch in pf.iter_batches(batch_size=4096, columns=columns):
        table = pa.Table.from_batches([batch])
        ids, paths = _text(table.column("id")), _text(table.column("path"))
        rates = table.column("sampling_rate").to_pylist() if "sampling_rate" in columns else None
        counts = table.column("num_samples").to_pylist() if "num_samples" in columns else None
        status = _text(table.column("status")) if "status" in columns else [None] * len(table)
        for k in range(len(table)):
            row, uid = offset + k, ids[k]
            where = f"row {row}" + (f" (id {uid!r})" if isinstance(uid, str) and uid else "")
            if uid is None or uid == "":
                problems.append(f"{where}, column 'id': empty")
            elif isinstance(uid, bytes):
                problems.append(f"{where}, column 'id': not valid UTF-8 ({uid[:40]!r})")
            elif uid in first_row:
                duplicates[uid].append(row)
            else:
                first_row[uid] = row
            if (
                rates is not None
                and rates[k] is not None
                and not (MIN_SAMPLE_RATE <= rates[k] <= MAX_SAMPLE_RATE)
            ):
                problems.append(f"{where}, column 'sampling_rate': {rates[k]} Hz is outside "
                                f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}")  # fmt: skip
            if counts is not None and counts[k] is not None and counts[k] < 0:
                problems.append(f"{where}, column 'num_samples': negative ({counts[k]})")
            problem = _path_problem(paths[k], status[k], external_paths)
            if problem:
                path_problems[row] = f"{where}, column 'path': {problem}"
        offset += len(table)
    for row in _embedding(pf, path_problems):
        del path_problems[row]
    problems += path_problems.values()
    for uid, rows in duplicates.items():
        problems.append(f"rows {', '.join(map(str, [first_row[uid], *rows]))}, column 'id': "
                        f"{uid!r} appears {len(rows) + 1} times (ids must be unique)")  # fmt: skip
    return problems


def _embedding(pf: pq.ParquetFile, rows: dict[int, str]) -> list[int]:
    """Those of ``rows`` that carry their audio as bytes (their ``path`` is only a name). The
    audio column is read only when some row's path is in question."""
    schema = pf.schema_arrow
    if (
        not rows
        or "audio" not in schema.names
        or not pa.types.is_struct(schema.field("audio").type)
    ):
        return []
    found, offset = [], 0
    for batch in pf.iter_batches(batch_size=256, columns=["audio"]):
        stop = offset + batch.num_rows
        if any(offset <= r < stop for r in rows):
            values = batch.column(0).field("bytes").to_pylist()
            found += [r for r in rows if offset <= r < stop and values[r - offset]]
        offset = stop
    return found


def _path_problem(path: str | bytes | None, status: str | None, external_paths: bool) -> str:
    if isinstance(path, bytes):
        return f"not valid UTF-8 ({path[:40]!r})"
    if status == "error":  # never read: the row stays an error row
        return ""
    if not path:
        return "empty and no embedded audio"
    if "\x00" in path:
        return "contains a NUL character"
    if not external_paths and escapes(path):
        return (f"{path!r} lies outside the corpus directory; read it only if you trust this "
                "manifest: --allow-external-paths")  # fmt: skip
    return ""


def open_corpus(root: str | os.PathLike, external_paths: bool = False) -> Corpus:
    """The corpus at ``root``, validated (:func:`validate_manifest`); :class:`CorpusError`
    lists every problem. ``external_paths``: also read audio outside the corpus directory."""
    corpus = Corpus(root, external_paths=external_paths)
    problems = validate_manifest(root, external_paths)
    if problems:
        raise CorpusError(corpus.manifest, problems)
    return corpus


__all__ = ["CorpusError", "open_corpus", "validate_manifest"]
