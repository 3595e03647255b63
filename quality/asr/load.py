"""Build an ASR backend from a short spec string, as the command line and the batch jobs do.

| spec | backend |
|---|---|
| ``embedded`` | the :class:`EmbeddedASR` weights shipped in the package |
| ``embedded:DIR_OR_HUB_ID`` | an :class:`EmbeddedASR` checkpoint |
| ``whisper`` / ``whisper:ID_OR_DIR`` | :class:`WhisperASR` (default ``openai/whisper-large-v3``) |
| ``ctc`` / ``mms`` / ``ctc:ID_OR_DIR`` | :class:`CTCASR` (default ``facebook/mms-1b-all``) |
| ``DIR`` | whatever the directory holds: an EmbeddedASR checkpoint or a transformers model |
| ``none`` | no ASR (``None``): no transcripts, no CER |
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.nn.runtime import resolve_device
from quality.asr.base import ASR

PACKAGED = Path(__file__).parent / "weights" / "embedded"


def packaged_embedded_dir() -> Path:
    """Directory of the shipped EmbeddedASR checkpoint; a clear error where none is installed."""
    if not (PACKAGED / "model.safetensors").exists():
        raise FileNotFoundError(
            f"this installation ships no embedded ASR weights ({PACKAGED}); train one with "
            "`fleursr train asr --corpus CORPUS --out DIR` and pass --asr DIR"
        )
    return PACKAGED


def _from_dir(path: Path, device: str) -> ASR:
    config = path / "config.json"
    if not config.exists():
        raise FileNotFoundError(f"{path}: no config.json; not an ASR checkpoint directory")
    meta = json.loads(config.read_text())
    from quality.asr.embedded import FORMAT, EmbeddedASR

    if meta.get("format") == FORMAT:
        return EmbeddedASR.from_pretrained(path, device=resolve_device(device))
    if meta.get("model_type") == "whisper":
        from quality.asr.whisper import WhisperASR

        return WhisperASR(path, device=device)
    from quality.asr.ctc import CTCASR

    return CTCASR(path, device=device)


def load_asr(spec: str | None, device: str = "auto") -> ASR | None:
    """The ASR named by ``spec`` (see the module table), on ``device``; ``None`` for ``none``.

    Raises ``FileNotFoundError`` for a missing checkpoint and ``ValueError`` for a spec that
    names no backend.
    """
    text = (spec or "none").strip()
    kind, _, target = text.partition(":")
    kind = kind.lower()
    if kind in ("none", "off", ""):
        return None
    if kind == "embedded":
        from quality.asr.embedded import EmbeddedASR

        return EmbeddedASR.from_pretrained(
            target or packaged_embedded_dir(), device=resolve_device(device)
        )
    if kind == "whisper":
        from quality.asr.whisper import DEFAULT_WHISPER_MODEL, WhisperASR

        return WhisperASR(target or DEFAULT_WHISPER_MODEL, device=device)
    if kind in ("ctc", "mms"):
        from quality.asr.ctc import CTCASR, DEFAULT_CTC_MODEL

        return CTCASR(target or DEFAULT_CTC_MODEL, device=device)
    path = Path(text)
    if path.is_dir():
        return _from_dir(path, device)
    raise ValueError(
        f"unknown ASR {spec!r}: use embedded, embedded:DIR, whisper[:ID], ctc[:ID], a checkpoint "
        "directory, or none"
    )
