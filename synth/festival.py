"""Festival with the Catalan HTS voice "ona" (female, central Catalan), 16 kHz.

Debian's ``festival`` (the ``text2wave`` script) and ``festvox-ca-ona-hts`` (the voice
``upc_ca_ona_hts`` of the FestCat project, Universitat Politècnica de Catalunya, LGPL-2.1+):
``apt-get install festival festvox-ca-ona-hts``. :func:`speak` writes the text in the voice's
coding (ISO-8859-15, which holds every Catalan letter and the ``l·l`` middle dot), runs
``text2wave -eval '(voice_upc_ca_ona_hts)' -F 16000`` and returns float32 audio, its leading
and trailing silence trimmed to ~100 ms as espeak-ng's is.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from fleursr.synth.espeak import _trim_silence

PACKAGES = ("festival", "festvox-ca-ona-hts")
INSTALL_COMMAND = f"sudo apt-get install {' '.join(PACKAGES)}"
LANGUAGES = ("ca_es",)  # FLEURS codes this engine speaks
SAMPLE_RATE = 16000  # the voice's own rate (SAMPLING_FREQUENCY of upc_ca_ona.htsvoice)
_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FestivalVoice:
    """A Festival voice: its name, FLEURS language, text coding, speaker and gender."""

    name: str
    language: str
    coding: str
    speaker_id: str
    gender: str


# From the voice's proclaim_voice: (language catalan) (gender female) (coding ISO-8859-15).
ONA = FestivalVoice("upc_ca_ona_hts", "ca_es", "iso8859_15", "festival_upc_ca_ona", "female")


class FestivalNotFoundError(RuntimeError):
    """Raised when text2wave or the voice is not installed; names the Debian packages."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"the festival engine needs {missing}; install it with: {INSTALL_COMMAND}")


class FestivalError(RuntimeError):
    """Raised when text2wave fails or produces no audio; carries its stderr."""


def _text2wave() -> str:
    path = shutil.which("text2wave")
    if path is None:
        raise FestivalNotFoundError("text2wave (Debian package festival)")
    return path


@functools.lru_cache(maxsize=4)
def _voices(festival: str) -> frozenset[str]:
    """The voice names Festival knows (``(voice.list)``)."""
    result = subprocess.run(
        [festival, "--batch", "(print (voice.list))"],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
    )
    return frozenset(result.stdout.replace("(", " ").replace(")", " ").split())


def voice_installed(voice: FestivalVoice = ONA) -> bool:
    festival = shutil.which("festival")
    return festival is not None and voice.name in _voices(festival)


def festival_available(voice: FestivalVoice = ONA) -> bool:
    """Tell whether text2wave and the voice are installed."""
    return shutil.which("text2wave") is not None and voice_installed(voice)


def check_installed(voice: FestivalVoice = ONA) -> str:
    """The path of text2wave; raises :class:`FestivalNotFoundError` naming what is missing."""
    text2wave = _text2wave()
    if not voice_installed(voice):
        raise FestivalNotFoundError(f"the voice {voice.name} (Debian package festvox-ca-ona-hts)")
    return text2wave


def speak(text: str, voice: FestivalVoice = ONA) -> tuple[np.ndarray, int]:
    """Synthesize ``text``; returns ``(mono float32 audio, 16000)``.

    Raises:
        FestivalNotFoundError: when festival or the voice is not installed.
        FestivalError: for text the voice's coding cannot hold, a failing run or empty audio.
    """
    text2wave = check_installed(voice)
    try:
        data = text.encode(voice.coding)
    except UnicodeEncodeError as err:
        bad = text[err.start : err.end]
        raise FestivalError(
            f"festival voice {voice.name}: {bad!r} is not in {voice.coding}"
        ) from err
    with tempfile.TemporaryDirectory(prefix="fleursr-festival-") as tmp:
        src, out = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
        src.write_bytes(data + b"\n")
        args = [text2wave, "-o", str(out), "-F", str(SAMPLE_RATE),
                "-eval", f"(voice_{voice.name})", str(src)]  # fmt: skip
        try:
            result = subprocess.run(args, capture_output=True, timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise FestivalError(f"festival voice {voice.name}: timed out") from exc
        stderr = result.stderr.decode("utf-8", errors="replace").strip() or "<empty>"
        if result.returncode != 0 or not out.exists():
            raise FestivalError(
                f"festival voice {voice.name}: exit status {result.returncode}; stderr: {stderr}"
            )
        audio, rate = sf.read(io.BytesIO(out.read_bytes()), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if audio.size == 0 or not np.any(audio):
        raise FestivalError(f"festival voice {voice.name}: empty audio; stderr: {stderr}")
    audio = np.clip(audio, -1.0, 1.0)
    return np.ascontiguousarray(_trim_silence(audio, rate), dtype=np.float32), int(rate)
