"""Reader for a plain folder of audio files with transcripts.

Two ways to give transcripts:
- a ``.txt`` or ``.lab`` file beside each audio file, with the same stem;
- one listing (TSV or CSV with a header) naming ``path`` (or ``file``/``audio``) and ``text``
  (or ``transcription``/``sentence``/``raw_transcription``), optionally ``id``, ``language``,
  ``speaker_id`` (or ``speaker``), ``gender`` and ``split``.
An audio file without a transcript is kept with an empty transcription (it can be restored,
only not checked for content). A transcript that is not valid UTF-8 keeps its row, decoded as
far as possible and marked ``status="error"`` (``TextEncodingError``) with the file and line.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from fleursr.corpus.record import GENDERS, SPLITS, Utterance
from fleursr.corpus.text import decode_utf8

AUDIO_SUFFIXES = (
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".opus",
    ".m4a",
    ".aac",
    ".webm",
    ".aiff",
    ".aif",
)
_PATH_KEYS = ("path", "file", "audio", "file_name", "filename")
_BAD_TEXT = "TextEncodingError"  # a transcript that is not UTF-8 makes an error row, not a crash
_TEXT_KEYS = ("raw_transcription", "text", "transcription", "sentence", "transcript")


def _pick(row: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((row[k] for k in keys if row.get(k)), None)


def _utterance(
    audio: Path, root: Path, text: str, row: dict[str, str], language: str, split: str
) -> Utterance:
    rel = audio.relative_to(root) if audio.is_relative_to(root) else Path(audio.name)
    gender = (row.get("gender") or "unknown").strip().lower()
    row_split = (row.get("split") or split).strip().lower()
    if row_split not in SPLITS:
        raise ValueError(f"{audio}: split {row_split!r} is not one of {SPLITS}")
    return Utterance(
        id=row.get("id") or rel.with_suffix("").as_posix().replace("/", "_"),
        path=os.path.abspath(audio),  # not resolve(): a link loop is an error row, not a crash
        language=row.get("language") or language,
        raw_transcription=text.strip(),
        transcription="",
        gender=gender if gender in GENDERS else "unknown",
        split=row_split,
        speaker_id=row.get("speaker_id") or row.get("speaker") or "",
    )


def read_folder(
    root: str | os.PathLike,
    *,
    language: str,
    split: str = "train",
    listing: str | os.PathLike | None = None,
) -> Iterator[Utterance]:
    """Yield the utterances of a folder of audio.

    Args:
        root: the folder (searched recursively for audio files when there is no listing).
        language: FLEURS code given to rows that do not name their own.
        split: split given to rows that do not name their own.
        listing: a TSV/CSV file listing audio and text (relative paths are relative to root).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    if listing is not None:
        listing = Path(listing)
        lines = [decode_utf8(line) for line in Path(listing).read_bytes().splitlines()]
        delimiter = "\t" if lines and "\t" in lines[0][0] else ","
        texts = [text for text, _ in lines]
        rows = csv.DictReader(texts, delimiter=delimiter)
        for lineno, row in enumerate(rows, start=2):
            rel = _pick(row, _PATH_KEYS)
            if rel is None:
                raise ValueError(f"{listing}:{lineno}: no audio path column {_PATH_KEYS}")
            audio = Path(rel) if Path(rel).is_absolute() else root / rel
            text = _pick(row, _TEXT_KEYS) or ""
            utt = _utterance(audio, root, text, row, language, split)
            if not lines[rows.line_num - 1][1]:
                utt = utt.with_error(f"{_BAD_TEXT}: {listing}:{rows.line_num}: not valid UTF-8")
            yield utt
        return
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ValueError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    stems = Counter(f.relative_to(root).with_suffix("").as_posix() for f in files)
    for audio in files:
        rel = audio.relative_to(root)
        # an id is the file's path without suffix; where two files differ only by suffix
        # (take.wav, take.flac) both keep it, so ids stay unique
        uid = rel.as_posix() if stems[rel.with_suffix("").as_posix()] > 1 else None
        text_file = next(
            (t for t in (audio.with_suffix(".txt"), audio.with_suffix(".lab")) if t.exists()),
            None,
        )
        text, ok = decode_utf8(text_file.read_bytes()) if text_file else ("", True)
        row = {"id": uid.replace("/", "_")} if uid else {}
        utt = _utterance(audio, root, text, row, language, split)
        yield utt if ok else utt.with_error(f"{_BAD_TEXT}: {text_file}: not valid UTF-8")
