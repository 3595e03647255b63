"""Read one shard's rows of an input corpus without reading the rest of it.

Only the Parquet row groups that overlap the shard are read. A row whose text is not valid
UTF-8 (a manifest written by another tool) does not spoil its neighbours: it becomes an error
row (``TextEncodingError``) with the text decoded as far as possible.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance


def read_rows(root: str | os.PathLike, start: int, stop: int) -> list[Utterance]:
    """Utterances ``[start, stop)`` of the corpus at ``root``, in manifest order."""
    pf = pq.ParquetFile(Corpus(root).manifest)
    groups, offset, first = [], 0, None
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset < stop and offset + n > start:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    if not groups:
        return []
    table = pf.read_row_groups(groups).slice(start - first, stop - start)
    try:
        rows = table.to_pylist()
    except UnicodeDecodeError:
        return _rows_with_bad_text(table)
    return [Utterance.from_row(row) for row in rows]


def _rows_with_bad_text(table: pa.Table) -> list[Utterance]:
    text = [f.name for f in table.schema if pa.types.is_string(f.type)]
    raw = {name: table.column(name).cast(pa.binary()).to_pylist() for name in text}
    plain = table.drop_columns(text).to_pylist()
    out = []
    for i, row in enumerate(plain):
        bad = []
        for name in text:
            value = raw[name][i]
            if value is None:
                row[name] = None
                continue
            try:
                row[name] = value.decode("utf-8")
            except UnicodeDecodeError:
                row[name] = value.decode("utf-8", errors="replace")
                bad.append(name)
        utt = Utterance.from_row(row)
        if bad:
            utt = utt.with_error(f"TextEncodingError: {', '.join(bad)} not valid UTF-8")
        out.append(utt)
    return out
