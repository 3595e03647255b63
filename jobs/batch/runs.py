"""A run directory: shards with deterministic paths, their checksums in ``run.json``, and the
top-level ``manifest.parquet`` merged from them.

    RUN_DIR/
      run.json                                  the job manifest: input, shard plan, and per
                                                stage every complete shard's file, sha256, rows
      shards/restore/shard-00003-of-00010.parquet
      shards/score/shard-00003-of-00010.parquet
      manifest.parquet                          all shards of the latest stage (a Corpus)
      report/report.html

Shard ``k`` holds input rows ``[k * shard_size, (k + 1) * shard_size)``. A shard file is
written under a temporary name and renamed when complete; it counts as done only when
``run.json`` lists it and its checksum and row count still match.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fleursr.corpus.manifest import MANIFEST_NAME, rows_to_table
from fleursr.corpus.record import Utterance
from fleursr.corpus.validate import open_corpus

RUN_FILE = "run.json"
RUN_VERSION = 1


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def write_shard(path: Path, utterances: list[Utterance]) -> tuple[str, int]:
    """Write a shard (temporary name, then rename); returns ``(sha256, rows)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")  # unique per attempt
    try:
        pq.write_table(rows_to_table(utterances), tmp, compression="zstd")
        checksum = sha256_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return checksum, len(utterances)


MAX_SHARD_SIZE = 64  # utterances per shard of a large corpus
MIN_SHARDS = 16  # a small corpus is still cut this fine, so that every worker gets a share


def auto_shard_size(rows: int) -> int:
    """The shard size of a new run of ``rows`` utterances: 64, or fewer so that a small corpus
    makes at least 16 shards. A shard is the unit of work a worker takes, and of resuming; with
    too few of them most workers wait for the last one (70 utterances in shards of 64: two
    shards for two workers, one of them with 6 utterances). It depends on the corpus only, so a
    rerun on another cluster finds the same shards."""
    return max(1, min(MAX_SHARD_SIZE, -(-rows // MIN_SHARDS)))


@dataclass
class Run:
    """The state of one run directory (``run.json``); only the job's client writes it."""

    root: Path
    data: dict[str, Any]

    @classmethod
    def open(cls, root: str | os.PathLike, input_root: str | os.PathLike | None = None,
             shard_size: int | None = None, external_paths: bool = False) -> Run:  # fmt: skip
        """Open ``root``, creating it for ``input_root`` when new. A run keeps its input and
        shard size for life: asking for other ones is an error (use a new run directory);
        ``shard_size=None`` takes the run's, and a new run's from :func:`auto_shard_size`. The
        input is validated first (:func:`fleursr.corpus.validate.open_corpus`);
        ``external_paths`` (audio outside the input's directory) is recorded in the run, and
        a run that allowed them once keeps allowing them."""
        root = Path(root)
        path = root / RUN_FILE
        if path.exists():
            run = cls(root, json.loads(path.read_text(encoding="utf-8")))
            if input_root is not None and Path(input_root).resolve() != Path(run.input):
                raise ValueError(f"{root}: this run restores {run.input}, not {input_root}; "
                                 "use a new run directory")  # fmt: skip
            if input_root is not None and shard_size not in (None, run.shard_size):
                raise ValueError(f"{root}: this run uses --shard-size {run.shard_size}")
            if external_paths and not run.external_paths:
                run.data["external_paths"] = True
                run.save()
            if input_root is not None:
                open_corpus(input_root, run.external_paths)
            return run
        if input_root is None:
            raise FileNotFoundError(f"{root}: not a run directory (no {RUN_FILE}); start one "
                                    "with `fleursr build` or `fleursr restore-corpus`")  # fmt: skip
        if shard_size is not None and shard_size < 1:
            raise ValueError(f"shard size must be >= 1, got {shard_size}")
        rows = len(open_corpus(input_root, external_paths))
        shard_size = shard_size or auto_shard_size(rows)
        data = {"version": RUN_VERSION, "input": str(Path(input_root).resolve()),
                "input_rows": rows, "shard_size": shard_size, "stages": {},
                "external_paths": external_paths}  # fmt: skip
        root.mkdir(parents=True, exist_ok=True)
        run = cls(root, data)
        run.save()
        return run

    @classmethod
    def of(cls, run: Run | str | os.PathLike, input_root: str | os.PathLike | None = None,
           shard_size: int | None = None, external_paths: bool = False) -> Run:  # fmt: skip
        """``run`` itself when it is already open, else :meth:`open` on that directory (so a job
        opens its run once and hands the object on)."""
        if isinstance(run, Run):
            return run
        return cls.open(run, input_root, shard_size, external_paths)

    def save(self) -> None:
        write_json_atomic(self.root / RUN_FILE, self.data)

    @property
    def input(self) -> str:
        return self.data["input"]

    @property
    def external_paths(self) -> bool:
        """Whether the input's audio may lie outside its directory (``--allow-external-paths``)."""
        return bool(self.data.get("external_paths", False))

    @property
    def shard_size(self) -> int:
        return int(self.data["shard_size"])

    @property
    def num_shards(self) -> int:
        return max(1, -(-int(self.data["input_rows"]) // self.shard_size))

    def rows_of(self, index: int) -> tuple[int, int]:
        """Input row range ``[start, stop)`` of shard ``index``."""
        start = index * self.shard_size
        return start, min(start + self.shard_size, int(self.data["input_rows"]))

    def shard_file(self, stage: str, index: int) -> Path:
        return self.root / "shards" / stage / f"shard-{index:05d}-of-{self.num_shards:05d}.parquet"

    def stage(self, name: str) -> dict[str, Any]:
        return self.data["stages"].setdefault(name, {"params": None, "shards": {}})

    def done(self, stage: str, index: int, params: dict[str, Any], source: str | None) -> bool:
        """Whether shard ``index`` of ``stage`` is complete and verified for these params
        (and, for a stage that reads another's shard, for that shard's checksum)."""
        record = self.stage(stage)
        entry = record["shards"].get(str(index))
        if record["params"] != params or entry is None or entry.get("source") != source:
            return False
        path = self.root / entry["file"]
        return path.exists() and sha256_file(path) == entry["sha256"]

    def record(self, stage: str, index: int, result: dict[str, Any]) -> None:
        """List a finished shard with its checksum (and save ``run.json`` at once)."""
        self.stage(stage)["shards"][str(index)] = result
        self.save()

    def checksum(self, stage: str, index: int) -> str | None:
        entry = self.stage(stage)["shards"].get(str(index))
        return entry["sha256"] if entry else None

    def merge(self, stage: str) -> Path:
        """Write ``manifest.parquet`` from all shards of ``stage``, one row group at a time."""
        files = [self.shard_file(stage, k) for k in range(self.num_shards)]
        schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
        path = self.root / MANIFEST_NAME
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for f in files:
                    pf = pq.ParquetFile(f)
                    for group in range(pf.num_row_groups):
                        writer.write_table(_conform(pf.read_row_group(group), schema))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.data["manifest"] = {"stage": stage, "sha256": sha256_file(path)}
        self.save()
        return path


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.schema.names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]  # fmt: skip
    return pa.table(columns, schema=schema)
