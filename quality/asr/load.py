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

from fleursr.nn.pretrained import shipped_checkpoint
from fleursr.nn.runtime import resolve_device
from fleursr.quality.asr.base import ASR

KINDS = ("none", "embedded", "whisper", "ctc", "dir")


def parse_asr_spec(spec: str | None) -> tuple[str, str | None]:
    """``(kind, target)`` of an ASR spec (see the module table), without loading anything.

    ``kind`` is one of :data:`KINDS` (``mms`` reads as ``ctc``, ``off`` as ``none``);
    ``target`` is the checkpoint directory, hub id or model id after the colon (``None``: the
    shipped weights or the backend's default model), or for ``dir`` the directory. Raises
    ``ValueError`` for a spec that names no backend and no existing directory.
    """
    text = (spec or "none").strip()
    kind, _, target = text.partition(":")
    kind = kind.lower()
    if kind in ("none", "off", ""):
        return "none", None
    if kind in ("embedded", "whisper", "ctc", "mms"):
        return ("ctc" if kind == "mms" else kind), (target.strip() or None)
    if Path(text).expanduser().is_dir():
        return "dir", text
    raise ValueError(
        f"unknown ASR {spec!r}: use embedded, embedded:DIR, whisper[:ID], ctc[:ID], a checkpoint "
        "directory, or none"
    )


def shipped_asr() -> Path:
    """Directory of the shipped EmbeddedASR checkpoint (``EmbeddedASR.shipped_dir``); a clear
    ``FileNotFoundError`` where this installation has none."""
    from fleursr.quality.asr.embedded import EmbeddedASR

    return shipped_checkpoint(
        EmbeddedASR.shipped_dir, EmbeddedASR.shipped_what, EmbeddedASR.shipped_hint
    )


def _from_dir(path: Path, device: str) -> ASR:
    config = path / "config.json"
    if not config.exists():
        raise FileNotFoundError(f"{path}: no config.json; not an ASR checkpoint directory")
    meta = json.loads(config.read_text())
    from fleursr.quality.asr.embedded import FORMAT, EmbeddedASR

    if meta.get("format") == FORMAT:
        return EmbeddedASR.from_pretrained(path, device=resolve_device(device))
    if meta.get("model_type") == "whisper":
        from fleursr.quality.asr.whisper import WhisperASR

        return WhisperASR(path, device=device)
    from fleursr.quality.asr.ctc import CTCASR

    return CTCASR(path, device=device)


def load_asr(spec: str | None, device: str = "auto") -> ASR | None:
    """The ASR named by ``spec`` (see the module table), on ``device``; ``None`` for ``none``.

    Raises ``FileNotFoundError`` for a missing checkpoint and ``ValueError`` for a spec that
    names no backend.
    """
    kind, target = parse_asr_spec(spec)
    if kind == "none":
        return None
    if kind == "embedded":
        from fleursr.quality.asr.embedded import EmbeddedASR

        return EmbeddedASR.from_pretrained(target or shipped_asr(), device=resolve_device(device))
    if kind == "whisper":
        from fleursr.quality.asr.whisper import DEFAULT_WHISPER_MODEL, WhisperASR

        return WhisperASR(target or DEFAULT_WHISPER_MODEL, device=device)
    if kind == "ctc":
        from fleursr.quality.asr.ctc import CTCASR, DEFAULT_CTC_MODEL

        return CTCASR(target or DEFAULT_CTC_MODEL, device=device)
    return _from_dir(Path(target).expanduser(), device)
