"""Reader for the FLEURS / FLEURS-R release layout.

``{root}/{lang}/{split}.tsv`` plus audio either extracted under ``{root}/{lang}/audio/{split}/``
or packed in ``{root}/{lang}/audio/{split}.tar.gz`` (the layout of the ``google/fleurs`` repo's
``data/`` folder). The TSV has no header; its columns are
``id, file_name, raw_transcription, transcription, characters, num_samples, gender``.
"""

from __future__ import annotations

import csv
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

from fleursr.corpus.record import Utterance
from fleursr.corpus.text import decode_utf8

SPLITS = ("train", "dev", "test")
_GENDERS = {"male": "male", "female": "female", "other": "other"}


def _find_data_root(root: Path) -> Path:
    return root / "data" if (root / "data").is_dir() else root


def _extract_split(archive: Path, dest: Path, wanted: set[str]) -> dict[str, Path]:
    """Extract the listed audio members of a split archive; returns file name -> path."""
    found: dict[str, Path] = {}
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = os.path.basename(member.name)
            if not member.isfile() or name not in wanted:
                continue
            target = dest / name
            if not target.exists() or target.stat().st_size != member.size:
                src = tar.extractfile(member)
                assert src is not None
                tmp = target.with_name(name + ".tmp")
                tmp.write_bytes(src.read())
                os.replace(tmp, target)
            found[name] = target
    return found


def read_fleurs(
    root: str | os.PathLike,
    *,
    extract_to: str | os.PathLike | None = None,
    languages: list[str] | None = None,
    splits: list[str] | None = None,
    sampling_rate: int = 16000,
) -> Iterator[Utterance]:
    """Yield the utterances of a FLEURS-layout folder.

    Args:
        root: the folder holding ``{lang}/`` (or its parent with ``data/``).
        extract_to: where ``.tar.gz`` split archives are unpacked (default: beside them).
        languages, splits: restrict to these codes / splits.
        sampling_rate: rate recorded for rows whose audio is not there to be probed
            (16000 for FLEURS, 24000 for FLEURS-R).

    ``path`` is absolute. Rows whose audio is in neither place are still yielded, marked as
    errors, so an import never silently drops an utterance.
    """
    data = _find_data_root(Path(root))
    if not data.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    lang_dirs = sorted(p for p in data.iterdir() if p.is_dir() and any(p.glob("*.tsv")))
    if not lang_dirs:
        raise ValueError(f"{data}: no '{{lang}}/{{split}}.tsv' files: not a FLEURS-layout folder")
    for lang_dir in lang_dirs:
        lang = lang_dir.name
        if languages and lang not in languages:
            continue
        for split in splits or SPLITS:
            tsv = lang_dir / f"{split}.tsv"
            if not tsv.exists():
                continue
            yield from _read_split(lang_dir, lang, split, tsv, extract_to, sampling_rate)


def _read_split(
    lang_dir: Path,
    lang: str,
    split: str,
    tsv: Path,
    extract_to: str | os.PathLike | None,
    sampling_rate: int,
) -> Iterator[Utterance]:
    lines = [decode_utf8(line) for line in tsv.read_bytes().splitlines()]
    rows, bad_lines = [], set()
    for lineno, (text, ok) in enumerate((x for x in lines if x[0]), start=1):
        rows.append(next(csv.reader([text], delimiter="\t", quoting=csv.QUOTE_NONE)))
        if not ok:
            bad_lines.add(lineno)
    folder = lang_dir / "audio" / split
    archive = next(
        (
            p
            for p in (lang_dir / "audio" / f"{split}.tar.gz", lang_dir / "audio" / f"{split}.tar")
            if p.exists()
        ),
        None,
    )
    located: dict[str, Path] = {}
    if archive is not None:
        dest = Path(extract_to) / lang / split if extract_to else folder
        located = _extract_split(archive, dest, {r[1] for r in rows if len(r) > 1})
    for lineno, row in enumerate(rows, start=1):
        if len(row) < 7:
            raise ValueError(f"{tsv}:{lineno}: expected 7 tab-separated columns, got {len(row)}")
        sid, file_name, raw, norm, _chars, num_samples, gender = row[:7]
        path = located.get(file_name, folder / file_name)
        utt = Utterance(
            id=f"{lang}_{Path(file_name).stem}",
            path=os.path.abspath(path),
            language=lang,
            num_samples=int(num_samples),
            sampling_rate=sampling_rate,
            transcription=norm,
            raw_transcription=raw,
            gender=_GENDERS.get(gender.strip().lower(), "unknown"),
            split=split,
            speaker_id="",
            sentence_id=int(sid),
        )
        if lineno in bad_lines:
            utt = utt.with_error(f"TextEncodingError: {tsv}:{lineno}: not valid UTF-8")
        elif not path.exists():
            where = archive if archive is not None else folder
            utt = utt.with_error(f"MissingAudioError: {path}: not found in {where}")
        yield utt
