"""Restore a file, a folder of audio or a corpus directory on one machine.

(The dask batch job over shards lives in ``jobs``; this is the single-machine path behind
``fleursr restore``. A corpus is restored by :func:`fleursr.restore.corpus.restore_utterances`,
as the batch job's shards are; a file by :func:`fleursr.restore.stream.restore_file`, streamed.)
Bad files are reported by name and kind and skipped, the rest goes on: in a corpus they stay
in the output manifest with ``status="error"``, so no utterance is lost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from fleursr.corpus.audio import AudioError
from fleursr.corpus.manifest import MANIFEST_NAME, Corpus, write_manifest
from fleursr.corpus.readers.folder import AUDIO_SUFFIXES
from fleursr.corpus.record import Utterance
from fleursr.corpus.validate import open_corpus
from fleursr.nn.pretrained import is_hub_id, shipped_checkpoint
from fleursr.nn.runtime import resolve_device
from fleursr.restore.base import SpeechRestorer
from fleursr.restore.corpus import MIN_RESTORE_SECONDS, restore_utterances
from fleursr.restore.model import Restorer
from fleursr.restore.peers import ALIASES, PEERS, load_peer, peer_name
from fleursr.restore.stream import WriteError, restore_file

CORPUS_CHUNK = 64  # corpus rows read at a time (and sorted by length for batching)


@dataclass
class RestoreSummary:
    """What ``restore_path`` did. ``errors``: one line per input that failed, each starting with
    its kind and naming the file, as the batch job's ``error`` column does:
    ``TooShortAudioError: PATH: ...`` (any :class:`~fleursr.corpus.audio.AudioError`),
    ``RestoreError: PATH: ValueError: ...`` (the restorer failed on it), ``WriteError: OUT:
    ...`` (the output could not be written)."""

    files: int = 0
    restored: int = 0
    seconds_in: float = 0.0
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def x_real_time(self) -> float:
        return self.seconds_in / self.wall_seconds if self.wall_seconds else 0.0

    def __str__(self) -> str:
        lines = [
            f"restored {self.restored} of {self.files} files, {self.seconds_in / 60:.1f} min of "
            f"audio in {self.wall_seconds:.1f} s ({self.x_real_time:.1f}x real time)"
        ]
        lines += [f"  failed: {e}" for e in self.errors]
        return "\n".join(lines)


def shipped_restorer() -> Path:
    """Directory of the restorer shipped in the package (``Restorer.shipped_dir``, the one place
    to point elsewhere); ``FileNotFoundError`` saying what to do where none is installed."""
    return shipped_checkpoint(Restorer.shipped_dir, Restorer.shipped_what, Restorer.shipped_hint)


def restorer_choices() -> str:
    """The restorer specs, for help texts and error messages."""
    aliases = {v: k for k, v in ALIASES.items()}
    peers = [f"{n} ({aliases[n]})" if n in aliases else n for n in PEERS if n != "sidon"]
    return (
        "embedded, a checkpoint DIR, a hub id ORG/NAME, "
        + ", ".join(peers)
        + ", sidon, sidon:DIR_OR_HUB_ID"
    )


def load_restorer(model: str = "embedded", device: str = "auto") -> SpeechRestorer:
    """The restorer ``model`` names: ``embedded`` (the weights shipped in the package), a
    checkpoint directory or a hub id (the project's :class:`Restorer`), or another restorer by
    name (:mod:`fleursr.restore.peers`): ``identity``, ``spectral-gating`` (``noisereduce``),
    ``rnnoise``, ``deepfilternet3`` (``dfn3``), ``sidon`` or ``sidon:DIR_OR_HUB_ID``. A name
    wins over a directory of the same name. ``ValueError`` for anything else."""
    spec = str(model).strip()
    if peer_name(spec) is not None:
        return load_peer(spec, device)
    if spec == "embedded" or Path(spec).expanduser().is_dir() or is_hub_id(spec):
        return Restorer.from_pretrained(spec, device=resolve_device(device))
    looks_like_path = any(c in spec for c in "/\\") or spec.startswith((".", "~"))
    what = "no such checkpoint directory" if looks_like_path else "unknown restorer"
    raise ValueError(f"{what} {model!r}; choose one of: {restorer_choices()}")


def _restore_file(restorer: SpeechRestorer, src: Path, dst: Path, summary: RestoreSummary) -> None:
    """Restore one file (streamed: :func:`fleursr.restore.stream.restore_file`); a failure
    becomes a line of ``summary.errors`` and the caller goes on to the next file."""
    summary.files += 1
    try:
        seconds = restore_file(restorer, src, dst, min_duration=MIN_RESTORE_SECONDS)
    except AudioError as err:
        summary.errors.append(f"{type(err).__name__}: {err}")
    except WriteError as err:
        summary.errors.append(f"WriteError: {err}")
    except Exception as err:  # the restorer failed on this input: the next one may do
        summary.errors.append(f"RestoreError: {src}: {type(err).__name__}: {err}")
    else:
        summary.restored += 1
        summary.seconds_in += seconds


def _restore_corpus(restorer: SpeechRestorer, src: Corpus, out: Path, summary: RestoreSummary,
                    progress: bool) -> None:  # fmt: skip
    bar = tqdm(total=len(src), desc="restore", unit="utt", disable=not progress)

    def rows() -> Iterator[Utterance]:
        for chunk in src.iter_batches(CORPUS_CHUNK):
            done, seconds = restore_utterances(restorer, src, chunk, out)
            summary.files += len(done)
            summary.restored += sum(u.ok for u in done)
            summary.errors += [a.error or "" for b, a in zip(chunk, done) if b.ok and not a.ok]
            summary.seconds_in += seconds
            bar.update(len(chunk))
            yield from done

    write_manifest(out, rows())
    bar.close()


def restore_path(
    restorer: SpeechRestorer, source: str | os.PathLike, output: str | os.PathLike,
    progress: bool = True, external_paths: bool = False,
) -> RestoreSummary:  # fmt: skip
    """Restore ``source`` into ``output``: file -> file (format from the suffix), folder ->
    folder (same relative paths, ``.flac``), corpus directory -> corpus directory."""
    src, out = Path(source), Path(output)
    summary = RestoreSummary()
    start = time.perf_counter()
    if src.is_dir() and (src / MANIFEST_NAME).exists():
        corpus = open_corpus(src, external_paths)  # a bad manifest stops here, before any work
        _restore_corpus(restorer, corpus, out, summary, progress)
    elif src.is_dir():
        files = sorted(p for p in src.rglob("*")
                       if p.suffix.lower() in AUDIO_SUFFIXES and not p.is_dir())  # fmt: skip
        if not files:
            raise ValueError(f"{src}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
        for f in tqdm(files, desc="restore", unit="file", disable=not progress):
            _restore_file(restorer, f, (out / f.relative_to(src)).with_suffix(".flac"), summary)
    elif src.exists() or src.is_symlink():  # a dangling link is a file that failed, by name
        if out.suffix.lower() not in (".wav", ".flac", ".ogg"):
            raise ValueError(f"{out}: output file must end in .wav, .flac or .ogg")
        _restore_file(restorer, src, out, summary)
    else:
        raise FileNotFoundError(f"{src}: no such file or folder")
    summary.wall_seconds = time.perf_counter() - start
    return summary
