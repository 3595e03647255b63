"""Build an ASR backend from a short spec string, as the command line and the batch jobs do.

| spec | backend |
|---|---|
| ``embedded`` | the :class:`EmbeddedASR` weights shipped in the package |
| ``embedded:DIR_OR_HUB_ID`` | an :class:`EmbeddedASR` checkpoint |
| ``whisper`` / ``whisper:ID_OR_DIR`` | :class:`WhisperASR` (default ``openai/whisper-large-v3``) |
| ``ctc`` / ``mms`` / ``ctc:ID_OR_DIR`` | :class:`CTCASR` (default ``facebook/mms-1b-all``) |
| ``faster-whisper`` | :class:`FasterWhisperASR` on the offline Whisper base (extra ``whisper``) |
| ``faster-whisper:DIR_OR_HUB_ID`` | :class:`FasterWhisperASR` on a CTranslate2 Whisper model |
| ``auto`` | ``faster-whisper`` where it and the Whisper base parts are installed, else ``none`` |
| ``DIR`` | what the directory holds: EmbeddedASR, CTranslate2 Whisper or transformers model |
| ``none`` | no ASR (``None``): no transcripts, no CER |

``auto`` is the default of ``fleursr score``, ``build``, ``evaluate``, ``tts compare`` and the
demo; :func:`resolve_asr_spec` turns it into the spec it stands for (logging once why it is
``none`` where the offline Whisper base is not installed), and the loaded backend's ``name``
(``faster-whisper:whisper-base``) is what runs record. ``faster-whisper:whisper-base`` reads as
``faster-whisper``, so a recorded name loads again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fleursr.nn.runtime import resolve_device
from fleursr.quality.asr.base import ASR
from fleursr.quality.asr.whisper_base import MODEL_NAME

KINDS = ("none", "auto", "embedded", "whisper", "ctc", "faster-whisper", "dir")
_log = logging.getLogger(__name__)
_AUTO_LOGGED: set[str] = set()


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
    if kind == "auto" and not target.strip():
        return "auto", None
    if kind in ("embedded", "whisper", "ctc", "mms", "faster-whisper"):
        target = target.strip() or None
        if kind == "faster-whisper" and target == MODEL_NAME and not Path(target).is_dir():
            target = None  # the name the offline Whisper base goes by
        return ("ctc" if kind == "mms" else kind), target
    if Path(text).expanduser().is_dir():
        return "dir", text
    raise ValueError(
        f"unknown ASR {spec!r}: use auto, faster-whisper[:DIR_OR_ID], embedded, embedded:DIR, "
        "whisper[:ID], ctc[:ID], a checkpoint directory, or none"
    )


def resolve_asr_spec(spec: str | None) -> str:
    """The spec a run records: ``auto`` becomes ``faster-whisper:whisper-base`` where
    faster-whisper and the Whisper base parts are installed, else ``none`` (the reason logged
    once per process); ``faster-whisper`` becomes ``faster-whisper:whisper-base``, the name the
    loaded backend goes by. Any other spec comes back as given (``None`` as ``"none"``)."""
    kind, target = parse_asr_spec(spec)
    if kind == "faster-whisper" and target is None:
        return f"faster-whisper:{MODEL_NAME}"
    if kind != "auto":
        return spec or "none"
    from fleursr.quality.asr.whisper_base import INSTALL_COMMAND, missing_requirements

    missing = missing_requirements()
    if not missing:
        return f"faster-whisper:{MODEL_NAME}"
    reason = ", ".join(missing)
    if reason not in _AUTO_LOGGED:
        _AUTO_LOGGED.add(reason)
        _log.warning(
            "ASR 'auto': no transcripts or CER, %s not installed (for the offline Whisper base "
            "ASR: %s)",
            reason,
            INSTALL_COMMAND,
        )
    return "none"


def check_asr_spec(spec: str | None) -> None:
    """Fail before any work where ``faster-whisper`` cannot load: faster-whisper, or for the
    offline Whisper base its parts, not installed (:class:`WhisperBaseMissingError`, naming
    them and the pip command). Loads nothing; other kinds pass."""
    kind, target = parse_asr_spec(spec)
    if kind != "faster-whisper":
        return
    from fleursr.quality.asr.whisper_base import WhisperBaseMissingError, missing_requirements

    missing = missing_requirements()
    if target is not None:
        missing = [name for name in missing if name == "faster-whisper"]
    if missing:
        raise WhisperBaseMissingError(missing)


def shipped_asr() -> Path:
    """Always a ``FileNotFoundError`` that says what to use instead: no EmbeddedASR weights ship
    (trained on espeak-ng speech, they recognized nothing of real speech; docs/quality.md)."""
    raise FileNotFoundError(
        "no embedded ASR weights ship with fleursr any more: use --asr auto or faster-whisper "
        "(Whisper base, pip install 'fleursr[whisper]'), or train one with `fleursr train asr "
        "--corpus CLEAN --out DIR` and pass --asr embedded:DIR"
    )


def _from_dir(path: Path, device: str) -> ASR:
    config = path / "config.json"
    if not config.exists():
        raise FileNotFoundError(f"{path}: no config.json; not an ASR checkpoint directory")
    meta = json.loads(config.read_text())
    from fleursr.quality.asr.embedded import FORMAT, EmbeddedASR

    if meta.get("format") == FORMAT:
        return EmbeddedASR.from_pretrained(path, device=resolve_device(device))
    if "format" not in meta and (path / "model.bin").is_file():  # a CTranslate2 model
        from fleursr.quality.asr.faster_whisper import FasterWhisperASR

        return FasterWhisperASR(path, device=device)
    if meta.get("model_type") == "whisper":
        from fleursr.quality.asr.whisper import WhisperASR

        return WhisperASR(path, device=device)
    from fleursr.quality.asr.ctc import CTCASR

    return CTCASR(path, device=device)


def load_asr(spec: str | None, device: str = "auto") -> ASR | None:
    """The ASR named by ``spec`` (see the module table), on ``device``; ``None`` for ``none``
    (and for ``auto`` where the offline Whisper base is not installed).

    Raises ``FileNotFoundError`` for a missing checkpoint (``WhisperBaseMissingError`` for the
    offline Whisper base) and ``ValueError`` for a spec that names no backend.
    """
    kind, target = parse_asr_spec(resolve_asr_spec(spec))
    if kind == "none":
        return None
    if kind == "faster-whisper":
        from fleursr.quality.asr.faster_whisper import FasterWhisperASR

        return FasterWhisperASR(target, device=device)
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
