"""Speech recognition backends for CER checks: Whisper (transformers, or CTranslate2 through
faster-whisper with the offline Whisper base as the default ASR), CTC (MMS with language adapters)
and the embedded character CTC model; ``load_asr(spec)`` builds any of them from a short spec.

``WhisperASR``, ``CTCASR`` and ``FasterWhisperASR`` import their runtimes on first use, so
importing this package (or ``fleursr.quality.asr.base``) stays light.
"""

from __future__ import annotations

from typing import Any

from fleursr.quality.asr.base import ASR, UnsupportedLanguageError, resolve_device, resolve_dtype
from fleursr.quality.asr.languages import (
    MMS_LANGUAGES,
    WHISPER_LANGUAGES,
    mms_language,
    whisper_language,
    whisper_supported,
)
from fleursr.quality.asr.load import load_asr

__all__ = [
    "ASR",
    "CTCASR",
    "FasterWhisperASR",
    "MMS_LANGUAGES",
    "UnsupportedLanguageError",
    "WHISPER_LANGUAGES",
    "WhisperASR",
    "mms_language",
    "resolve_device",
    "resolve_dtype",
    "whisper_language",
    "whisper_supported",
    "load_asr",
]


def __getattr__(name: str) -> Any:
    if name == "WhisperASR":
        from fleursr.quality.asr.whisper import WhisperASR

        return WhisperASR
    if name == "CTCASR":
        from fleursr.quality.asr.ctc import CTCASR

        return CTCASR
    if name == "FasterWhisperASR":
        from fleursr.quality.asr.faster_whisper import FasterWhisperASR

        return FasterWhisperASR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
