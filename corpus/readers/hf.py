"""Reader for Hugging Face datasets: local Parquet files, a ``datasets`` object, or a hub id.

Audio stays encoded: rows carry ``{"bytes", "path"}`` exactly as the ``datasets`` Audio
feature stores it, so nothing is decoded (or needs torchcodec) until a stage reads it.
Columns follow FLEURS (``id``, ``path``, ``audio``, ``transcription``, ``raw_transcription``,
``gender``, ``num_samples``, ``language``); missing ones are filled where they can be derived.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from fleursr.corpus.record import GENDERS, Utterance

# FLEURS stores gender as a ClassLabel: 0 male, 1 female, 2 other.
_GENDER_LABELS = {0: "male", 1: "female", 2: "other"}
_TEXT_COLUMNS = ("raw_transcription", "transcription", "sentence", "text", "normalized_text")


def _gender(value: Any) -> str:
    if isinstance(value, int):
        return _GENDER_LABELS.get(value, "unknown")
    text = str(value or "").strip().lower()
    return text if text in GENDERS else "unknown"


def _language(value: Any, default: str | None) -> str:
    from fleursr.corpus.languages import find_language

    if default:
        return default
    found = find_language(str(value)) if value is not None else None
    if found is None:
        raise ValueError(
            f"cannot tell the FLEURS language code of {value!r}: pass language='xx_yy'"
        )
    return found.code


def rows_to_utterances(
    rows: Iterable[dict[str, Any]], *, source: str, language: str | None, split: str
) -> Iterator[Utterance]:
    """Turn dataset rows (audio not decoded) into utterances with embedded audio."""
    for index, row in enumerate(rows):
        audio = row.get("audio") or {}
        if isinstance(audio, dict) and audio.get("bytes") is None and audio.get("path"):
            local = Path(audio["path"])
            audio = {"bytes": local.read_bytes(), "path": local.name} if local.exists() else None
        name = str((audio or {}).get("path") or row.get("path") or f"{index:08d}.wav")
        raw = next((row[c] for c in _TEXT_COLUMNS if row.get(c)), "")
        lang = _language(row.get("language"), language)
        row_id = row.get("id")
        # FLEURS' integer id names a sentence read by several speakers: the file name is unique.
        uid = row_id if isinstance(row_id, str) and row_id else f"{lang}_{split}_{Path(name).stem}"
        utt = Utterance(
            id=uid,
            path=str(name),
            language=lang,
            num_samples=int(row.get("num_samples") or 0),
            sampling_rate=int(row.get("sampling_rate") or 16000),
            transcription=row.get("transcription") or "",
            raw_transcription=row.get("raw_transcription") or raw,
            gender=_gender(row.get("gender")),
            split=split,
            speaker_id=str(row.get("speaker_id") or row.get("client_id") or ""),
            sentence_id=int(row_id) if isinstance(row_id, int) else -1,
            audio=audio if audio and audio.get("bytes") else None,
        )
        if utt.audio is None:
            utt = utt.with_error(f"MissingAudioError: {source}[{index}]: row has no audio")
        yield utt


def read_hf(
    source: Any,
    *,
    language: str | None = None,
    split: str = "train",
    config: str | None = None,
    batch_size: int = 64,
) -> Iterator[Utterance]:
    """Yield utterances from a Hugging Face dataset.

    Args:
        source: a ``datasets.Dataset``, a local ``.parquet`` file or a folder of them, or a
            hub id (``google/fleurs``; loaded with ``datasets.load_dataset(source, config)``,
            which needs network access and is not exercised by the tests).
        language: FLEURS code for every row (default: the ``language`` column, or ``config``).
        split: split name recorded on the rows (and loaded, for a hub id).
    """
    if isinstance(source, str | os.PathLike) and Path(source).exists():
        path = Path(source)
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise ValueError(f"{path}: no .parquet files")
        for file in files:
            pf = pq.ParquetFile(file)
            for batch in pf.iter_batches(batch_size=batch_size):
                yield from rows_to_utterances(
                    batch.to_pylist(), source=str(file), language=language, split=split
                )
        return
    import datasets

    if isinstance(source, str):  # a hub id
        source = datasets.load_dataset(source, config, split=split)
        language = language or config
    if not isinstance(source, datasets.Dataset):
        raise TypeError(
            f"read_hf: expected a datasets.Dataset, a Parquet path or a hub id, "
            f"got {type(source).__name__}"
        )
    if "audio" in source.column_names:
        source = source.cast_column("audio", datasets.Audio(decode=False))
    yield from rows_to_utterances(source, source="dataset", language=language, split=split)
