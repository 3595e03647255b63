"""A thin wrapper over the espeak-ng command line, the speech source of the embedded corpus.

:func:`speak` pipes UTF-8 text to ``espeak-ng --stdin --stdout``, reads the WAV it writes,
resamples it from espeak-ng's 22050 Hz to the requested rate, and trims the leading and
trailing silence down to a margin of about 100 ms. :data:`SPEAKER_VARIANTS` lists speaker
presets (an espeak-ng voice variant with a pitch and a rate) so that every language can be
given several distinct male and female speakers.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf

from fleursr.corpus.audio import resample

INSTALL_COMMAND = "sudo apt-get install espeak-ng"
_EXECUTABLE = "espeak-ng"
_TIMEOUT_S = 120.0
_MARGIN_S = 0.1
_FRAME_S = 0.01
_SILENCE_DB = -45.0  # frames this far below the loudest frame count as silence
_ALIAS = re.compile(r"\(([\w-]+) \d+\)")
_VARIANT = re.compile(r"!v/(\S+)")


class EspeakNotFoundError(RuntimeError):
    """Raised when the espeak-ng executable is not on PATH."""

    def __init__(self) -> None:
        super().__init__(f"espeak-ng was not found on PATH; install it with: {INSTALL_COMMAND}")


class EspeakError(RuntimeError):
    """Raised when espeak-ng fails or produces no audio; carries the voice and stderr."""

    def __init__(self, voice: str, stderr: str, reason: str) -> None:
        self.voice = voice
        self.stderr = stderr
        detail = stderr.strip() or "<empty>"
        super().__init__(f"espeak-ng voice {voice!r}: {reason}; stderr: {detail}")


@dataclass(frozen=True)
class SpeakerPreset:
    """An espeak-ng speaker: voice variant, gender, pitch (0-99) and rate (words/minute)."""

    name: str
    variant: str
    gender: Literal["male", "female"]
    pitch: int
    rate: int

    def speak_kwargs(self) -> dict[str, object]:
        """Return the keyword arguments of :func:`speak` for this speaker."""
        return {"variant": self.variant, "pitch": self.pitch, "rate": self.rate}


SPEAKER_VARIANTS: tuple[SpeakerPreset, ...] = (
    SpeakerPreset("male_1", "m1", "male", 42, 155),
    SpeakerPreset("male_2", "m3", "male", 50, 170),
    SpeakerPreset("male_3", "m5", "male", 38, 150),
    SpeakerPreset("male_4", "m7", "male", 46, 165),
    SpeakerPreset("female_1", "f1", "female", 58, 160),
    SpeakerPreset("female_2", "f2", "female", 64, 150),
    SpeakerPreset("female_3", "f3", "female", 52, 175),
    SpeakerPreset("female_4", "f4", "female", 60, 165),
)


def _executable() -> str:
    path = shutil.which(_EXECUTABLE)
    if path is None:
        raise EspeakNotFoundError()
    return path


def espeak_available() -> bool:
    """Tell whether the espeak-ng executable is on PATH."""
    return shutil.which(_EXECUTABLE) is not None


@functools.lru_cache(maxsize=8)
def _voice_lines(executable: str, option: str) -> tuple[str, ...]:
    """Lines of ``espeak-ng <option>`` (``--voices`` or ``--voices=variant``), header dropped."""
    result = subprocess.run([executable, option], capture_output=True, text=True, check=True)
    return tuple(line for line in result.stdout.splitlines()[1:] if line.strip())


def list_voices() -> set[str]:
    """Return the voice names ``speak`` accepts: language names and their aliases.

    Raises:
        EspeakNotFoundError: when espeak-ng is not installed.
    """
    voices: set[str] = set()
    for line in _voice_lines(_executable(), "--voices"):
        voices.add(line.split()[1])
        voices.update(_ALIAS.findall(line))  # "Other Languages" column, e.g. "(zh-cmn 5)(zh 5)"
    return voices


def _list_variants(executable: str) -> set[str]:
    lines = _voice_lines(executable, "--voices=variant")
    return {name for line in lines for name in _VARIANT.findall(line)}


def _trim_silence(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    frame = max(1, int(_FRAME_S * sample_rate))
    n_frames = len(audio) // frame
    if n_frames == 0:
        return audio
    rms = np.sqrt(np.mean(audio[: n_frames * frame].reshape(n_frames, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10.0 ** (_SILENCE_DB / 20.0))
    if loud.size == 0:
        return audio
    margin = int(_MARGIN_S * sample_rate)
    start = max(0, loud[0] * frame - margin)
    stop = min(len(audio), (loud[-1] + 1) * frame + margin)
    return audio[start:stop]


def speak(
    text: str,
    voice: str,
    *,
    variant: str | None = None,
    pitch: int = 50,
    rate: int = 160,
    sample_rate: int = 16000,
) -> np.ndarray:
    """Synthesize ``text`` with espeak-ng and return mono float32 audio at ``sample_rate``.

    The audio is clipped to [-1, 1] and its leading and trailing silence is trimmed to ~100 ms.

    Args:
        text: UTF-8 text, passed on stdin.
        voice: espeak-ng voice, e.g. ``"en-us"`` or ``"cmn-latn-pinyin"`` (one of
            :func:`list_voices`, any case) or a voice file such as ``"gmw/en"``.
        variant: voice variant such as ``"m3"`` or ``"f2"``; the voice spec becomes
            ``voice+variant``.
        pitch: base pitch, 0..99.
        rate: speaking rate in words per minute.
        sample_rate: output sample rate in Hz.

    Raises:
        EspeakNotFoundError: when espeak-ng is not installed.
        EspeakError: for an unknown voice or variant, a failing run or empty audio.
    """
    executable = _executable()
    known = {name.lower() for name in list_voices()}
    if "/" not in voice and voice.lower() not in known:  # espeak-ng would fall back silently
        raise EspeakError(voice, "", "unknown voice (see fleursr.synth.espeak.list_voices())")
    spec = voice
    if variant is not None:
        if variant not in _list_variants(executable):
            raise EspeakError(voice, "", f"unknown voice variant {variant!r}")
        spec = f"{voice}+{variant}"
    args = [executable, "-v", spec, "-p", str(int(pitch)), "-s", str(int(rate)),
            "-b", "1", "--stdin", "--stdout"]  # fmt: skip
    try:
        result = subprocess.run(args, input=text.encode("utf-8"), capture_output=True,
                                timeout=_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise EspeakError(spec, "", f"timed out after {_TIMEOUT_S:.0f} s") from exc
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        raise EspeakError(spec, stderr, f"exit status {result.returncode}")
    if not result.stdout:
        raise EspeakError(spec, stderr, "empty audio")
    try:
        audio, native_rate = sf.read(io.BytesIO(result.stdout), dtype="float32", always_2d=True)
    except RuntimeError as exc:  # soundfile's LibsndfileError
        raise EspeakError(spec, stderr, f"unreadable WAV output ({exc})") from exc
    audio = audio.mean(axis=1)
    if audio.size == 0 or not np.any(audio):
        raise EspeakError(spec, stderr, "empty audio")
    if native_rate != sample_rate:
        audio = resample(audio.astype(np.float32), native_rate, sample_rate)
    audio = np.clip(audio, -1.0, 1.0)  # resampling may overshoot full scale slightly
    audio = _trim_silence(np.asarray(audio, dtype=np.float32), sample_rate)
    return np.ascontiguousarray(audio, dtype=np.float32)
