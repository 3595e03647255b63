"""The FLEURS / FLEURS-R release layout: ``data/{lang}/{split}.tsv`` (no header: id,
file_name, raw_transcription, transcription, characters, num_samples, gender) and
``data/{lang}/audio/{split}.tar.gz`` holding the 24 kHz audio (FLAC). It reads back with
``fleursr.corpus.readers.fleurs`` (``fleursr corpus import FOLDER --format fleurs``)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import tarfile
from pathlib import Path

import pyarrow.dataset as pads

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.publish.hub import Export, publish_counts, published_statuses


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())  # no tabs or newlines inside a TSV field


def export_fleurs(run_dir: str | os.PathLike, out: str | os.PathLike,
                  include_dropped: bool = False) -> Export:  # fmt: skip
    """Write the FLEURS layout of the published utterances of ``run_dir`` under ``out``."""
    corpus = Corpus(run_dir)
    out = Path(out)
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    export = Export(out, layout="fleurs")
    dataset = pads.dataset(corpus.manifest, format="parquet")
    statuses = published_statuses(include_dropped)
    columns = ["id", "audio", "raw_transcription", "transcription", "num_samples", "gender",
               "sentence_id"]  # fmt: skip
    for lang, splits in publish_counts(run_dir, include_dropped).items():
        for split in sorted(splits):
            tsv_rel, tar_rel = f"data/{lang}/{split}.tsv", f"data/{lang}/audio/{split}.tar.gz"
            (out / tar_rel).parent.mkdir(parents=True, exist_ok=True)
            wanted = (pads.field("language") == lang) & (pads.field("split") == split) & \
                pads.field("status").isin(statuses)  # fmt: skip
            rows = 0
            with open(out / tsv_rel, "w", encoding="utf-8", newline="") as f, \
                    tarfile.open(out / tar_rel, "w:gz") as tar:  # fmt: skip
                writer = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                                    lineterminator="\n")  # fmt: skip
                for batch in dataset.to_batches(columns=columns, filter=wanted, batch_size=256):
                    for row in batch.to_pylist():
                        name = f"{row['id']}.flac"
                        data = row["audio"]["bytes"]
                        info = tarfile.TarInfo(f"{split}/{name}")
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
                        norm = _clean(row["transcription"])
                        writer.writerow([row["sentence_id"], name, _clean(row["raw_transcription"]),
                                         norm, " ".join(norm.replace(" ", "|")) + " |",
                                         row["num_samples"], row["gender"]])  # fmt: skip
                        rows += 1
            export.files += [tsv_rel, tar_rel]
            export.counts.setdefault(lang, {})[split] = rows
    return export
