"""Readers turn an existing corpus into fleursr utterances; ``import_corpus`` writes a manifest.

Formats: ``fleurs`` (the FLEURS/FLEURS-R release layout), ``hf`` (Parquet files of a Hugging Face
dataset, a ``datasets`` object or a hub id), ``folder`` (audio with transcripts) and ``asterisk``
(Asterisk prompt packs: real recorded speech, decoded to FLAC in the output corpus).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from fleursr.corpus.audio import AudioError, probe_audio
from fleursr.corpus.manifest import write_manifest
from fleursr.corpus.readers.asterisk import find_transcripts, read_asterisk
from fleursr.corpus.readers.fleurs import read_fleurs
from fleursr.corpus.readers.folder import read_folder
from fleursr.corpus.readers.hf import read_hf
from fleursr.corpus.record import Utterance
from fleursr.corpus.text import normalize_text

FORMATS = ("fleurs", "hf", "folder", "asterisk")

__all__ = [
    "FORMATS",
    "detect_format",
    "import_corpus",
    "read_asterisk",
    "read_fleurs",
    "read_folder",
    "read_hf",
]


def detect_format(source: str | os.PathLike) -> str:
    """Guess the format of a folder: ``fleurs``, ``hf``, ``asterisk`` or ``folder``.

    ``asterisk`` where a ``core-sounds-LANG.txt[.gz]`` transcript is in the folder or in its
    ``usr/share/doc/*/`` (a ``dpkg -x`` root of the Debian prompt packages)."""
    path = Path(source)
    if path.is_file() and path.suffix == ".parquet":
        return "hf"
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    data = path / "data" if (path / "data").is_dir() else path
    if any(data.glob("*/*.tsv")) and any(data.glob("*/audio")):
        return "fleurs"
    if find_transcripts(path):
        return "asterisk"
    if any(path.rglob("*.parquet")):
        return "hf"
    return "folder"


def read_any(source: Any, fmt: str = "auto", **options: Any) -> Iterator[Utterance]:
    """Yield utterances from ``source`` in format ``fmt`` (``auto`` detects it)."""
    if fmt == "auto":
        fmt = "hf" if not isinstance(source, str | os.PathLike) else detect_format(source)
    if fmt == "fleurs":
        return read_fleurs(source, **options)
    if fmt == "hf":
        return read_hf(source, **options)
    if fmt == "folder":
        return read_folder(source, **options)
    if fmt == "asterisk":
        return read_asterisk(source, **options)
    raise ValueError(f"unknown corpus format {fmt!r}; expected one of {FORMATS}")


def _complete(utt: Utterance) -> Utterance:
    """Fill the transcription from the raw text and sample counts from the file header."""
    if not utt.transcription and utt.raw_transcription:
        utt.transcription = normalize_text(utt.raw_transcription)
    if utt.ok and utt.audio is None:
        try:
            utt.num_samples, utt.sampling_rate = probe_audio(utt.path)
        except AudioError as err:
            return utt.with_error(err)
    return utt


def import_corpus(
    source: Any,
    out_dir: str | os.PathLike,
    fmt: str = "auto",
    progress: bool = True,
    **options: Any,
) -> Path:
    """Read ``source`` and write ``out_dir/manifest.parquet``.

    Audio files outside ``out_dir`` are linked, not copied: a symbolic link per file under
    ``out_dir/audio/linked/``, so the manifest names only files inside its directory (a corpus
    opened for work reads nothing else: :mod:`fleursr.corpus.validate`); where links cannot be
    made (a file system without them) the absolute path is kept, and runs then need
    ``--allow-external-paths``. Embedded audio stays embedded; FLEURS split archives are
    unpacked and Asterisk prompts decoded to FLAC under ``out_dir/audio``.
    Unreadable files become rows with ``status="error"``: every input utterance is listed.
    """
    out = Path(out_dir)
    if fmt == "auto" and isinstance(source, str | os.PathLike):
        fmt = detect_format(source)
    if fmt == "fleurs":
        options.setdefault("extract_to", out / "audio")
    if fmt == "asterisk":
        options.setdefault("audio_dir", out / "audio")
    records: Iterable[Utterance] = read_any(source, fmt, **options)
    done = (_complete(u) for u in tqdm(records, desc="import", unit="utt", disable=not progress))
    return write_manifest(out, (_relative_to(out, u) for u in done))


LINKED_DIR = "audio/linked"


def _relative_to(root: Path, utt: Utterance) -> Utterance:
    """``utt`` with its path relative to ``root``: the file itself where it lies inside, else a
    symbolic link to it under ``root/audio/linked`` (named by the id, which is unique)."""
    path = Path(utt.path)
    if utt.audio is not None or not path.is_absolute():
        return utt
    try:
        utt.path = path.relative_to(root.resolve()).as_posix()
        return utt
    except ValueError:  # outside the corpus folder
        pass
    if not utt.ok and not path.exists():
        return utt
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in utt.id)[:100]
    digest = hashlib.sha1(utt.id.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    link = root / LINKED_DIR / f"{safe}-{digest}{path.suffix.lower()}"
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(path)
    except OSError:  # no symbolic links here: the absolute path stays
        return utt
    utt.path = link.relative_to(root).as_posix()
    return utt
