"""Restore a file, a folder of audio or a corpus directory on one machine.

(The dask batch job over shards lives in ``jobs``; this is the single-machine path behind
``fleursr restore``.) Bad files are reported by name and skipped: in a corpus they stay in the
output manifest with ``status="error"``, so no utterance is lost.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from corpus.audio import AudioError, read_audio, write_audio
from corpus.manifest import MANIFEST_NAME, Corpus, write_manifest
from corpus.nn.runtime import resolve_device
from corpus.readers.folder import AUDIO_SUFFIXES
from corpus.record import Utterance
from restore.model import Restorer

PACKAGED = Path(__file__).parent / "weights"


@dataclass
class RestoreSummary:
    files: int = 0
    restored: int = 0
    seconds_in: float = 0.0
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def x_real_time(self) -> float:
        return self.seconds_in / self.wall_seconds if self.wall_seconds else 0.0

    def __str__(self) -> str:
        lines = [
            f"restored {self.restored} of {self.files} files, {self.seconds_in / 60:.1f} min of "
            f"audio in {self.wall_seconds:.1f} s ({self.x_real_time:.1f}x real time)"
        ]
        lines += [f"  skipped: {e}" for e in self.errors]
        return "\n".join(lines)


def load_restorer(model: str = "embedded", device: str = "auto") -> Restorer:
    """``embedded`` (the weights shipped in the package), a checkpoint directory, or a hub id."""
    if model == "embedded":
        path = PACKAGED / "embedded"
        if not (path / "model.safetensors").exists():
            raise FileNotFoundError(
                "this installation ships no embedded restoration weights yet; train a model "
                "(docs/restoration.md) and pass its directory with --model DIR"
            )
        model = str(path)
    return Restorer.from_pretrained(model).to(resolve_device(device)).eval()


def _restore_file(restorer: Restorer, src: Path, dst: Path, summary: RestoreSummary) -> None:
    summary.files += 1
    try:
        wave, sr = read_audio(src, mono=False)
    except AudioError as err:
        summary.errors.append(str(err))
        return
    out, out_sr = restorer.restore(wave, sr)
    write_audio(dst, out, out_sr)
    summary.restored += 1
    summary.seconds_in += len(wave) / sr


def _original(src: Corpus, utt: Utterance, out: Path) -> str:
    """Where the original audio of ``utt`` is, for scoring it beside the restored one: a path
    relative to the output run, or ``corpus_dir#id`` when the source embeds its audio."""
    if utt.audio is not None:
        return f"{src.root.resolve()}#{utt.id}"
    return os.path.relpath(src.resolve(utt.path).resolve(), out.resolve())


def _restore_corpus(
    restorer: Restorer, src: Corpus, out: Path, summary: RestoreSummary, progress: bool
) -> None:
    done: list[Utterance] = []
    for utt in tqdm(src, total=len(src), desc="restore", unit="utt", disable=not progress):
        rel = f"audio/{utt.language}/{utt.split}/{utt.id}.flac"
        twin = dataclasses.replace(
            utt,
            path=rel,
            audio=None,
            sampling_rate=restorer.sample_rate,
            extra={**utt.extra, "original_path": _original(src, utt, out)},
        )
        summary.files += 1
        if not utt.ok:
            done.append(twin)
            continue
        try:
            wave, sr = src.load_audio(utt)
        except AudioError as err:
            summary.errors.append(str(err))
            done.append(twin.with_error(err))
            continue
        restored, out_sr = restorer.restore(wave, sr)
        write_audio(out / rel, restored, out_sr)
        twin.num_samples = len(restored)
        done.append(twin)
        summary.restored += 1
        summary.seconds_in += len(wave) / sr
    write_manifest(out, done)


def restore_path(
    restorer: Restorer, source: str | os.PathLike, output: str | os.PathLike,
    progress: bool = True,
) -> RestoreSummary:  # fmt: skip
    """Restore ``source`` into ``output``: file -> file (format from the suffix), folder ->
    folder (same relative paths, ``.flac``), corpus directory -> corpus directory."""
    src, out = Path(source), Path(output)
    summary = RestoreSummary()
    start = time.perf_counter()
    if src.is_dir() and (src / MANIFEST_NAME).exists():
        _restore_corpus(restorer, Corpus(src), out, summary, progress)
    elif src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise ValueError(f"{src}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
        for f in tqdm(files, desc="restore", unit="file", disable=not progress):
            _restore_file(restorer, f, (out / f.relative_to(src)).with_suffix(".flac"), summary)
    elif src.exists():
        if out.suffix.lower() not in (".wav", ".flac", ".ogg"):
            raise ValueError(f"{out}: output file must end in .wav, .flac or .ogg")
        _restore_file(restorer, src, out, summary)
    else:
        raise FileNotFoundError(f"{src}: no such file or folder")
    summary.wall_seconds = time.perf_counter() - start
    return summary
