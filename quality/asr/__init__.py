"""Speech recognition backends for CER checks: Whisper, CTC (MMS with language adapters) and the
embedded character CTC model; ``load_asr(spec)`` builds any of them from a short spec.

``WhisperASR`` and ``CTCASR`` import transformers' models on first use, so importing this
package (or ``fleursr.quality.asr.base``) stays light.
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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
