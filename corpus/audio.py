"""Audio I/O with validation: read anything, hand every stage mono float32 at the rate it asks.

Reading goes through soundfile (WAV, FLAC, OGG, MP3 with libsndfile >= 1.1) and falls back to
PyAV for containers libsndfile does not know (M4A, WebM, ...). Resampling uses soxr.

Bad audio raises a subclass of :class:`AudioError` whose message starts with the file's name
and says what is wrong, so a batch job can record it against the utterance and go on.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 384000

Source = str | os.PathLike | bytes


class AudioError(Exception):
    """Bad audio. ``path`` names the file (or embedded name), ``problem`` says what is wrong."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # keep path/problem when sent between dask workers
        return (type(self), (self.path, self.problem))


class MissingAudioError(AudioError):
    """The file does not exist."""


class UnsafePathError(AudioError):
    """The manifest names a file outside its corpus directory, and external paths are off."""


class UnreadableAudioError(AudioError):
    """The file exists but this process may not read it."""


class CorruptAudioError(AudioError):
    """The file exists but cannot be decoded."""


class EmptyAudioError(AudioError):
    """The file decodes to zero samples."""


class NonFiniteAudioError(AudioError):
    """The samples contain NaN or infinity."""


class TooShortAudioError(AudioError):
    """Shorter than the minimum duration asked for."""


class SampleRateError(AudioError):
    """The sample rate is outside the plausible range."""


def as_float32(wave: np.ndarray) -> np.ndarray:
    """Integer PCM (int8/16/32, uint8) or float of any width to float32 in [-1, 1] scale."""
    wave = np.asarray(wave)
    if wave.dtype == np.uint8:
        return (wave.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(wave.dtype, np.integer):
        return (wave.astype(np.float64) / float(-np.iinfo(wave.dtype).min)).astype(np.float32)
    return wave.astype(np.float32, copy=False)


def to_mono(wave: np.ndarray) -> np.ndarray:
    """``(samples,)`` or ``(samples, channels)`` -> ``(samples,)`` by averaging channels.

    A ``(channels, samples)`` array with few channels is recognised and transposed.
    """
    if wave.ndim == 1:
        return wave
    if wave.ndim != 2:
        raise ValueError(f"audio must be 1-D or 2-D, got shape {wave.shape}")
    if wave.shape[0] <= 8 < wave.shape[1]:
        wave = wave.T
    return wave.mean(axis=1)


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``(samples,)`` float32 with soxr (high quality). No-op when rates match."""
    if orig_sr == target_sr:
        return wave
    return soxr.resample(wave, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def _decode_soundfile(data: io.BytesIO | str) -> tuple[np.ndarray, int]:
    wave, sr = sf.read(data, dtype="float32", always_2d=True)
    return wave, sr


def _decode_av(data: io.BytesIO | str) -> tuple[np.ndarray, int]:
    import av

    with av.open(data) as container:
        stream = container.streams.audio[0]
        sr = stream.codec_context.sample_rate
        chunks = [
            frame.to_ndarray().astype(np.float32).reshape(-1, frame.layout.nb_channels)
            if frame.format.is_packed
            else frame.to_ndarray().astype(np.float32).T
            for frame in container.decode(stream)
        ]
    if not chunks:
        return np.zeros((0, 1), np.float32), sr
    return np.concatenate(chunks), sr


def check_rate(label: str | os.PathLike, sr: int) -> None:
    """:class:`SampleRateError` naming ``label`` for a rate outside the plausible range."""
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        expected = f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}"
        raise SampleRateError(label, f"implausible sample rate {sr} Hz (expected {expected})")


def sound_format(path: Path) -> tuple[str, str | None]:
    """``(format, subtype)`` soundfile writes ``path`` with: from the suffix (FLAC without
    one), FLAC and WAV as 16-bit PCM."""
    fmt = path.suffix.lstrip(".").upper() or "FLAC"
    return fmt, "PCM_16" if fmt in ("FLAC", "WAV") else None


def read_audio(
    source: Source,
    *,
    name: str | None = None,
    target_sr: int | None = None,
    mono: bool = True,
    min_duration: float = 0.0,
) -> tuple[np.ndarray, int]:
    """Read and validate audio.

    Args:
        source: a path, or the encoded bytes of a file (then ``name`` names it in errors).
        target_sr: resample to this rate (``None`` keeps the file's rate).
        mono: average the channels; otherwise the result is ``(samples, channels)``.
        min_duration: seconds; shorter audio raises :class:`TooShortAudioError`.

    Returns:
        ``(wave, sr)`` with ``wave`` float32 ``(samples,)`` (or ``(samples, channels)``).
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
    if isinstance(source, bytes):
        if not source:
            raise EmptyAudioError(label, "no bytes to decode")
        opener = lambda: io.BytesIO(source)  # noqa: E731
    else:
        path = Path(source)
        if not path.exists():
            if path.is_symlink():
                raise MissingAudioError(label, "symbolic link to nothing (dangling, or a loop)")
            raise MissingAudioError(label, "file does not exist")
        if path.is_dir():
            raise CorruptAudioError(label, "is a directory, not an audio file")
        if not os.access(path, os.R_OK):
            raise UnreadableAudioError(label, "no permission to read the file")
        if path.stat().st_size == 0:
            raise EmptyAudioError(label, "file is empty (0 bytes)")
        opener = lambda: str(path)  # noqa: E731
    try:
        wave, sr = _decode_soundfile(opener())
    except Exception as first:  # libsndfile does not know the container: try FFmpeg
        try:
            wave, sr = _decode_av(opener())
        except Exception:
            raise CorruptAudioError(label, f"cannot decode audio ({first})") from first
    check_rate(label, sr)
    if wave.shape[0] == 0:
        raise EmptyAudioError(label, "decodes to zero samples")
    if not np.isfinite(wave).all():
        bad = int((~np.isfinite(wave)).sum())
        raise NonFiniteAudioError(label, f"{bad} samples are NaN or infinite")
    duration = wave.shape[0] / sr
    if duration < min_duration:
        raise TooShortAudioError(
            label, f"{duration:.3f} s is shorter than the minimum {min_duration:.3f} s"
        )
    if mono:
        wave = to_mono(wave)
        if target_sr is not None:
            wave = resample(wave, sr, target_sr)
    elif target_sr is not None:
        wave = np.stack([resample(c, sr, target_sr) for c in wave.T], axis=1)
    return np.ascontiguousarray(wave, dtype=np.float32), (target_sr or sr)


def write_audio(path: str | os.PathLike, wave: np.ndarray, sr: int) -> None:
    """Write ``(samples,)`` float audio; the format follows the suffix (FLAC is 16-bit PCM).

    Written to a temporary name and renamed, so a crash never leaves half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fmt, subtype = sound_format(path)
    sf.write(str(tmp), np.clip(wave, -1.0, 1.0), sr, format=fmt, subtype=subtype)
    os.replace(tmp, path)


def encode_flac(wave: np.ndarray, sr: int) -> bytes:
    """FLAC bytes (16-bit) of ``(samples,)`` float audio, for embedding in a manifest."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(wave, -1.0, 1.0), sr, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def probe_audio(path: str | os.PathLike) -> tuple[int, int]:
    """``(num_samples, sample_rate)`` from the header alone; raises the same errors as reading."""
    path = Path(path)
    if not path.exists():
        raise MissingAudioError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise EmptyAudioError(path, "file is empty (0 bytes)")
    try:
        info = sf.info(str(path))
        frames, sr = int(info.frames), int(info.samplerate)
    except Exception:
        wave, sr = read_audio(path, mono=False)
        frames = wave.shape[0]
    check_rate(path, sr)
    if frames <= 0:
        raise EmptyAudioError(path, "decodes to zero samples")
    return frames, sr
