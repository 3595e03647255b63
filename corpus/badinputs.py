"""A corpus of bad inputs, written on demand: every entry point is tried against all of it.

:func:`write_bad_audio` writes one file per kind of bad (or merely unusual) audio a user's
folder or corpus may hold, and says what each must become: restored (``"ok"``) or a row/line
with the named :class:`~fleursr.corpus.audio.AudioError` kind. :func:`write_bad_manifests`
writes corpora whose manifest itself is bad (wrong types, missing columns, duplicated or empty
ids, paths escaping the corpus): opening them for work must fail with a
:class:`~fleursr.corpus.validate.CorpusError` naming the row and the column, before any work.

``tests/jobs/test_hostile_inputs.py`` runs both through ``fleursr restore`` (each file, and the
folder), ``build``, ``score`` and ``publish``; docs/reliability.md counts them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from fleursr.corpus.manifest import rows_to_table, write_manifest
from fleursr.corpus.record import Utterance
from fleursr.corpus.testing import speech_like

RATE = 16000


@dataclass(frozen=True)
class BadAudio:
    """One file: ``name`` (relative to the folder), ``expect``: ``"ok"`` or an error kind."""

    kind: str
    name: str
    expect: str


def _speech(seconds: float = 1.5, sr: int = RATE) -> np.ndarray:
    return speech_like(seconds, sr)


def _wav_header(sr: int, channels: int, bits: int, frames: int, data_bytes: int) -> bytes:
    """A PCM WAV header whose ``data`` chunk claims ``frames`` frames."""
    block = channels * bits // 8
    claimed = frames * block
    return (b"RIFF" + struct.pack("<I", 36 + claimed) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * block, block, bits)
            + b"data" + struct.pack("<I", claimed))  # fmt: skip


def _truncated(path: Path, fmt: str, subtype: str | None, keep: float) -> None:
    sf.write(path, _speech(2.0), RATE, format=fmt, subtype=subtype)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _writers() -> list[tuple[str, str, str, Callable[[Path], None]]]:
    """(kind, file name, expected outcome, writer) for every kind."""
    s = _speech()
    w = lambda sub=None, sr=RATE, x=None, fmt=None: (  # noqa: E731
        lambda p: sf.write(p, s if x is None else x, sr, subtype=sub, format=fmt)
    )
    nan, inf = s.copy(), s.copy()
    nan[100:200], inf[50] = np.nan, np.inf
    square = np.sign(np.sin(2 * np.pi * 200 * np.arange(RATE) / RATE)).astype(np.float32)
    return [
        ("control: speech, 16-bit WAV", "good.wav", "ok", w()),
        ("FLAC", "good.flac", "ok", w()),
        ("Ogg Vorbis", "vorbis.ogg", "ok", w("VORBIS")),
        ("Ogg Opus at 48 kHz", "opus.opus", "ok", w("OPUS", 48000, _speech(1.5, 48000), "OGG")),
        ("MP3", "speech.mp3", "ok", w("MPEG_LAYER_III")),
        ("32-bit integer PCM", "int32.wav", "ok", w("PCM_32")),
        ("64-bit float", "float64.wav", "ok", w("DOUBLE")),
        ("8-bit unsigned", "uint8.wav", "ok", w("PCM_U8")),
        ("8 kHz mu-law", "mulaw_8k.wav", "ok", w("ULAW", 8000, _speech(1.5, 8000))),
        ("192 kHz", "rate_192k.wav", "ok", w("PCM_16", 192000, _speech(1.5, 192000))),
        ("4 kHz, the lowest rate read", "rate_4k.wav", "ok", w(None, 4000, _speech(1.5, 4000))),
        ("stereo", "stereo.wav", "ok", w(x=np.stack([s, 0.5 * s], 1))),
        ("six channels", "six_channels.wav", "ok", w(x=np.stack([s] * 6, 1))),
        ("AIFF", "speech.aiff", "ok", w()),
        ("FLAC content named .wav", "flac_named.wav", "ok", w(fmt="FLAC")),
        ("silence", "silence.wav", "ok", w(x=np.zeros(RATE, np.float32))),
        ("DC offset only", "dc_offset.wav", "ok", w(x=np.full(RATE, 0.5, np.float32))),
        ("full-scale square wave", "square.wav", "ok", w(x=square)),
        ("clipped speech (+30 dB)", "clipped.wav", "ok", w(x=np.clip(s * 30, -1, 1))),
        ("very quiet speech (-90 dB)", "quiet.wav", "ok", w("FLOAT", x=s * 3e-5)),
        ("name with spaces", "name with spaces.wav", "ok", w()),
        ("name with a newline", "name\nwith newline.wav", "ok", w()),
        ("name in non-ASCII UTF-8", "énoncé_日本.wav", "ok", w()),
        ("100 ms", "short_100ms.wav", "ok", w(x=s[:1600])),
        ("50 ms", "short_50ms.wav", "TooShortAudioError", w(x=s[:800])),
        ("10 ms (under 20 ms)", "short_10ms.wav", "TooShortAudioError", w(x=s[:160])),
        ("117 samples", "short_117.wav", "TooShortAudioError", w(x=s[:117])),
        ("1 sample", "one_sample.wav", "TooShortAudioError", w(x=s[:1])),
        (
            "0 samples after decode",
            "zero_frames.wav",
            "EmptyAudioError",
            lambda p: p.write_bytes(_wav_header(RATE, 1, 16, 0, 0)),
        ),  # fmt: skip
        ("empty file (0 bytes)", "empty.wav", "EmptyAudioError", lambda p: p.write_bytes(b"")),
        ("NaN samples", "nan.wav", "NonFiniteAudioError", w("FLOAT", x=nan)),
        ("infinite sample (float64)", "inf.wav", "NonFiniteAudioError", w("DOUBLE", x=inf)),
        (
            "garbage after a RIFF tag",
            "corrupt.wav",
            "CorruptAudioError",
            lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10),
        ),  # fmt: skip
        (
            "text named .wav",
            "text.wav",
            "CorruptAudioError",
            lambda p: p.write_text("this is not audio\n" * 50),
        ),  # fmt: skip
        (
            "random bytes named .mp3",
            "random.mp3",
            "CorruptAudioError",
            lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
        ),  # fmt: skip
        (
            "truncated FLAC (40 %)",
            "truncated.flac",
            "CorruptAudioError",
            lambda p: _truncated(p, "FLAC", None, 0.4),
        ),  # fmt: skip
        (
            "truncated MP3 (40 %)",
            "truncated.mp3",
            "ok",
            lambda p: _truncated(p, "MP3", "MPEG_LAYER_III", 0.4),
        ),  # fmt: skip
        (
            "truncated Opus (40 %)",
            "truncated.opus",
            "CorruptAudioError",
            lambda p: _truncated(p, "OGG", "OPUS", 0.4),
        ),  # fmt: skip
        (
            "FLAC cut inside its header",
            "header_only.flac",
            "CorruptAudioError",
            lambda p: _truncated(p, "FLAC", None, 0.002),
        ),  # fmt: skip
        (
            "header claims 10x the data present",
            "header_lies.wav",
            "ok",
            lambda p: p.write_bytes(
                _wav_header(RATE, 1, 16, 10 * len(s), 0) + (s * 32767).astype("<i2").tobytes()
            ),
        ),  # fmt: skip
        (
            "header rate 1 Hz",
            "rate_1hz.wav",
            "SampleRateError",
            lambda p: p.write_bytes(
                _wav_header(1, 1, 16, len(s), 0) + (s * 32767).astype("<i2").tobytes()
            ),
        ),  # fmt: skip
        ("a directory named .wav", "folder.wav", "CorruptAudioError", lambda p: p.mkdir()),
        (
            "symbolic link loop",
            "loop.wav",
            "MissingAudioError",
            lambda p: p.symlink_to(p.name),
        ),  # fmt: skip
        (
            "dangling symbolic link",
            "dangling.wav",
            "MissingAudioError",
            lambda p: p.symlink_to("no_such_file.wav"),
        ),  # fmt: skip
        (
            "no read permission",
            "unreadable.wav",
            "ok" if _root() else "UnreadableAudioError",
            _unreadable(w()),
        ),  # fmt: skip
    ]


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0  # root reads any file


def _unreadable(write: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        write(path)
        path.chmod(0)

    return make


def write_bad_audio(folder: str | os.PathLike) -> list[BadAudio]:
    """Write every kind into ``folder`` (created); returns them in order."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    cases = []
    for kind, name, expect, write in _writers():
        write(root / name)
        cases.append(BadAudio(kind, name, expect))
    return cases


def audio_corpus(folder: str | os.PathLike) -> tuple[Path, list[BadAudio]]:
    """The kinds of :func:`write_bad_audio` as a corpus (files under ``audio/``, ids ``bad_NN``,
    one more row whose file is missing): ``(root, cases)``, row ``k`` being ``cases[k]``."""
    root = Path(folder)
    cases = write_bad_audio(root / "audio")
    cases.append(BadAudio("file named by the manifest is missing", "missing.wav",
                          "MissingAudioError"))  # fmt: skip
    rows = [Utterance(id=f"bad_{k:02d}", path=f"audio/{c.name}", language="en_us",
                      transcription="sentence number one", split="test", num_samples=RATE,
                      sampling_rate=RATE) for k, c in enumerate(cases)]  # fmt: skip
    write_manifest(root, rows)
    return root, cases


def _good_rows(root: Path, n: int = 3) -> list[Utterance]:
    rows = []
    for k in range(n):
        sf.write(root / "audio" / f"u{k}.wav", _speech(), RATE)
        rows.append(Utterance(id=f"u{k}", path=f"audio/u{k}.wav", language="en_us",
                              transcription="sentence number one", num_samples=int(1.5 * RATE),
                              sampling_rate=RATE))  # fmt: skip
    return rows


def write_bad_manifests(folder: str | os.PathLike) -> dict[str, tuple[Path, str]]:
    """Corpora whose manifest is bad: ``{kind: (corpus dir, text the error must contain)}``."""
    out: dict[str, tuple[Path, str]] = {}

    def corpus(kind: str, expect: str, edit: Callable[[pa.Table], pa.Table]) -> None:
        root = Path(folder) / kind.replace(" ", "_")
        (root / "audio").mkdir(parents=True, exist_ok=True)
        table = edit(rows_to_table(_good_rows(root)))
        pq.write_table(table, root / "manifest.parquet")
        out[kind] = (root, expect)

    def set_col(name: str, values: list, kind: pa.DataType | None = None):
        def edit(t: pa.Table) -> pa.Table:
            i = t.schema.get_field_index(name)
            return t.set_column(i, name, pa.array(values, type=kind))

        return edit

    corpus("duplicated id", "'u0' appears 2 times", set_col("id", ["u0", "u1", "u0"]))
    corpus("empty id", "column 'id': empty", set_col("id", ["u0", "", "u2"]))
    corpus("missing column path", "column 'path' is missing", lambda t: t.drop_columns(["path"]))
    corpus("missing column id", "column 'id' is missing", lambda t: t.drop_columns(["id"]))
    corpus("num_samples as text", "column 'num_samples' has type string",
           set_col("num_samples", ["24000", "x", "1"]))  # fmt: skip
    corpus("sampling_rate as float", "column 'sampling_rate' has type double",
           set_col("sampling_rate", [16000.0, 16000.0, None]))  # fmt: skip
    corpus("id as integer", "column 'id' has type int64", set_col("id", [1, 2, 3]))
    corpus("negative num_samples", "column 'num_samples': negative",
           set_col("num_samples", [24000, -5, 24000], pa.int64()))  # fmt: skip
    corpus("sampling_rate 0", "column 'sampling_rate': 0 Hz",
           set_col("sampling_rate", [16000, 0, 16000], pa.int32()))  # fmt: skip
    corpus(
        "path escaping with ..",
        "lies outside the corpus directory",
        set_col("path", ["audio/u0.wav", "../../../../../../etc/hostname", "audio/u2.wav"]),
    )
    corpus("absolute path", "lies outside the corpus directory",
           set_col("path", ["audio/u0.wav", "audio/u1.wav", "/etc/passwd"]))  # fmt: skip
    corpus("empty path, no embedded audio", "column 'path': empty",
           set_col("path", ["audio/u0.wav", "", "audio/u2.wav"]))  # fmt: skip
    corpus("path with a NUL character", "NUL character",
           set_col("path", ["audio/u0.wav", "audio/u1\x00.wav", "audio/u2.wav"]))  # fmt: skip
    root = Path(folder) / "not_parquet"
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.parquet").write_bytes(b"PAR1 this is not a parquet file")
    out["manifest not Parquet"] = (root, "not a readable Parquet file")
    return out


__all__ = ["BadAudio", "audio_corpus", "write_bad_audio", "write_bad_manifests"]
