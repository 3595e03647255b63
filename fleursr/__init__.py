"""fleursr: restore a noisy multilingual speech corpus, check it, filter it, publish it.

The public API, importable from here (loaded on first use, so ``import fleursr`` is cheap)::

    from fleursr import Corpus, Restorer, load_restorer, load_asr, build_mos

The floors beneath it, one import package each: ``fleursr.corpus`` (the data model),
``fleursr.nn`` (shared neural code), ``fleursr.degrade`` (the degradation simulator),
``fleursr.synth`` (the synthetic corpus maker), ``fleursr.restore``, ``fleursr.quality``,
``fleursr.tts`` and ``fleursr.jobs``. docs/architecture.md draws them and what may import what.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "Corpus": "fleursr.corpus",
    "Utterance": "fleursr.corpus",
    "read_audio": "fleursr.corpus",
    "write_audio": "fleursr.corpus",
    "write_manifest": "fleursr.corpus",
    "AudioError": "fleursr.corpus",
    "import_corpus": "fleursr.corpus.readers",
    "degrade": "fleursr.degrade",
    "ChainConfig": "fleursr.degrade",
    "degrade_corpus": "fleursr.degrade.twin",
    "synth_corpus": "fleursr.synth",
    "Restorer": "fleursr.restore",
    "SpeechRestorer": "fleursr.restore",
    "RestorerConfig": "fleursr.restore",
    "restorer_config": "fleursr.restore",
    "load_restorer": "fleursr.restore",
    "restore_path": "fleursr.restore",
    "ASR": "fleursr.quality.asr",
    "load_asr": "fleursr.quality.asr",
    "build_mos": "fleursr.quality.mos",
    "FilterRules": "fleursr.quality.filter",
    "cer": "fleursr.quality.cer",
    "TTS": "fleursr.tts",
    "Synthesizer": "fleursr.tts",
    "build": "fleursr.jobs.batch.build",
    "ClusterOptions": "fleursr.jobs.batch.cluster",
    "publish": "fleursr.jobs.publish.publish",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fleursr' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
