"""DNSMOS P.835 (SIG, BAK, OVRL) and P.808 with the ONNX models of the ``speechmos`` wheel.

Offline: the weights ship inside the ``speechmos`` wheel. ``speechmos.dnsmos.run`` loads its
sessions into a module global with default threading and feeds windows one at a time; this
module reads the same model files, opens the two onnxruntime sessions once per predictor (with
a chosen number of intra-op threads) and runs many windows per call, with the computation of
Microsoft's ``dnsmos_local.py`` (which ``speechmos`` copies):

- the clip (16 kHz) is cut into 9.01 s windows at 1 s hops;
- SIG/BAK/OVRL: the raw window into ``sig_bak_ovr.onnx``, then the published polynomial maps
  (the personalized ones for ``personalized=True``, which also swaps in the pDNSMOS model);
- P.808: a 120-band log-mel of the window minus its last 160 samples (librosa, ``n_fft=321``,
  hop 160, dB relative to the window's maximum, ``(dB + 40) / 40``) into ``model_v8.onnx``;
- a clip's score is the mean over its windows.

Short and long clips (``exact_reference=True``, the default) are handled exactly as the
reference does, so the numbers match published DNSMOS values: a clip shorter than 9.01 s is
doubled (appended to itself) until it is at least 9.01 s long, so a 4 s clip becomes 16 s and
is scored on 7 overlapping windows of the looped audio, a 5 s clip becomes 10 s and is scored on
one. The reference also computes window ends in floating point (``int((idx + 9.01) * 16000)``),
which makes every window starting at 7 s or later one sample short, and it skips those: a clip
is scored on its first ~16 s only. ``exact_reference=False`` keeps the looping idea but tiles a
short clip once to exactly 9.01 s (one window, about 7x cheaper for clips under 8 s) and scores
every full window of a long clip; its scores are close to, not equal to, the reference's.
Whichever mode is used, score originals and restorations with the same one.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fleursr.quality.mos.base import MOSBackendUnavailable, MOSPredictor

SR = 16000
INPUT_LENGTH = 9.01  # seconds per window, as in dnsmos_local.py
WINDOW = int(INPUT_LENGTH * SR)  # 144160 samples
HOP = SR  # 1 s between window starts

# Polynomial maps from the raw P.835 outputs to MOS, from dnsmos_local.py.
_POLY = {
    False: {
        "sig": (-0.08397278, 1.22083953, 0.0052439),
        "bak": (-0.13166888, 1.60915514, -0.39604546),
        "ovrl": (-0.06766283, 1.11546468, 0.04602535),
    },
    True: {
        "sig": (-0.01019296, 0.02751166, 1.19576786, -0.24348726),
        "bak": (-0.04976499, 0.44276479, -0.1644611, 0.96883132),
        "ovrl": (-0.00533021, 0.005101, 1.18058466, -0.11236046),
    },
}


def model_dir() -> Path:
    """The folder of the ``speechmos`` package, which holds the DNSMOS ONNX files."""
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise MOSBackendUnavailable(
            "DNSMOS", "the speechmos package (which ships the ONNX weights) is not installed",
            "pip install speechmos",
        )  # fmt: skip
    return Path(next(iter(spec.submodule_search_locations)))


def window_starts(n: int, exact_reference: bool = True) -> tuple[int, list[int]]:
    """``(looped_length, starts)`` for a clip of ``n`` samples at 16 kHz (``n >= 1``).

    The clip is looped to ``looped_length`` samples (see the module docstring) and scored on
    the windows ``looped[s : s + WINDOW]`` for each ``s`` in ``starts``.
    """
    if n < 1:
        raise ValueError("cannot window an empty clip")
    if not exact_reference:
        length = max(n, WINDOW)
        return length, list(range(0, length - WINDOW + 1, HOP))
    length = n
    while length < WINDOW:  # np.append(audio, audio) in the reference
        length *= 2
    num_hops = int(np.floor(length / SR) - INPUT_LENGTH) + 1
    starts = []
    for idx in range(num_hops):
        start, end = int(idx * HOP), int((idx + INPUT_LENGTH) * HOP)
        if min(end, length) - start >= WINDOW:  # the reference skips short segments
            starts.append(start)
    return length, starts


def _loop(wave: np.ndarray, length: int) -> np.ndarray:
    if wave.size >= length:
        return wave
    return np.tile(wave, -(-length // wave.size))[:length]


def p808_features(windows: np.ndarray) -> np.ndarray:
    """``(n, WINDOW)`` float32 windows -> ``(n, 900, 120)`` P.808 log-mel input."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=windows[:, :-160], sr=SR, n_fft=321, hop_length=160, n_mels=120
    )
    db = np.stack([(librosa.power_to_db(m, ref=np.max) + 40) / 40 for m in mel])
    return np.ascontiguousarray(db.transpose(0, 2, 1), dtype=np.float32)


class DNSMOS(MOSPredictor):
    """DNSMOS P.835 + P.808 (Microsoft, MIT-licensed weights from the ``speechmos`` wheel).

    Args:
        personalized: use the personalized DNSMOS model (pDNSMOS, which penalises interfering
            talkers) and its polynomial maps; score names then start with ``pdnsmos_``.
        device: ``"cpu"``, or ``"cuda"`` / ``"cuda:N"`` (needs ``onnxruntime-gpu``).
        num_threads: onnxruntime intra-op threads per session; ``None``: torch's thread count,
            which a dask worker sets to its own threads (one per worker process: the workers do
            not oversubscribe the cores) and a plain process leaves at one per core.
        exact_reference: window short and long clips exactly as ``dnsmos_local.py`` does
            (see the module docstring).

    ``batch_size`` in :meth:`predict` counts 9.01 s windows per onnxruntime call.
    """

    sample_rate = SR

    def __init__(
        self,
        personalized: bool = False,
        device: str = "cpu",
        num_threads: int | None = None,
        exact_reference: bool = True,
    ) -> None:
        if num_threads is None:
            import torch

            num_threads = torch.get_num_threads()
        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        self.personalized = personalized
        self.device = device
        self.num_threads = num_threads
        self.exact_reference = exact_reference
        prefix = "pdnsmos" if personalized else "dnsmos"
        self.names = tuple(f"{prefix}_{k}" for k in ("sig", "bak", "ovrl", "p808"))
        root = model_dir()
        primary = (
            root / ("pdnsmos_models" if personalized else "dnsmos_models") / "sig_bak_ovr.onnx"
        )
        p808 = root / "dnsmos_models" / "model_v8.onnx"
        for path in (primary, p808):
            if not path.is_file():
                raise MOSBackendUnavailable(
                    "DNSMOS", f"{path} is missing from the installed speechmos package",
                    "pip install --force-reinstall speechmos",
                )  # fmt: skip
        self.primary_session = self._session(primary)
        self.p808_session = self._session(p808)

    def _session(self, path: Path):  # -> onnxruntime.InferenceSession
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise MOSBackendUnavailable(
                "DNSMOS", f"onnxruntime does not import ({err})", "pip install onnxruntime"
            ) from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers: list = ["CPUExecutionProvider"]
        if self.device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise MOSBackendUnavailable(
                    f"DNSMOS on {self.device}", "onnxruntime has no CUDAExecutionProvider here",
                    "pip uninstall -y onnxruntime && pip install onnxruntime-gpu",
                )  # fmt: skip
            index = int(self.device.partition(":")[2] or 0)
            providers = [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
        elif self.device != "cpu":
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        return ort.InferenceSession(str(path), options, providers=providers)

    def __reduce__(self):  # sessions do not pickle: rebuild them where the predictor lands
        return (type(self), (self.personalized, self.device, self.num_threads,
                             self.exact_reference))  # fmt: skip

    def _windows(self, waves: list[np.ndarray], batch_size: int) -> Iterator[tuple[list, list]]:
        """Yield ``(owners, windows)`` with at most ``batch_size`` windows each."""
        owners: list[int] = []
        chunk: list[np.ndarray] = []
        for i, wave in enumerate(waves):
            length, starts = window_starts(wave.size, self.exact_reference)
            looped = _loop(wave, length)
            for start in starts:
                owners.append(i)
                chunk.append(looped[start : start + WINDOW])
                if len(chunk) == batch_size:
                    yield owners, chunk
                    owners, chunk = [], []
        if chunk:
            yield owners, chunk

    def _predict(self, waves: list[np.ndarray], batch_size: int) -> list[dict[str, float]]:
        per_wave: list[list[np.ndarray]] = [[] for _ in waves]
        for owners, chunk in self._windows(waves, batch_size):
            windows = np.stack(chunk).astype(np.float32, copy=False)
            raw = self.primary_session.run(None, {"input_1": windows})[0]  # (n, 3)
            p808 = self.p808_session.run(None, {"input_1": p808_features(windows)})[0][:, 0]
            polys = _POLY[self.personalized]
            rows = np.stack(
                [np.polyval(polys[k], raw[:, j]) for j, k in enumerate(("sig", "bak", "ovrl"))]
                + [p808.astype(np.float64)],
                axis=1,
            )
            for owner, row in zip(owners, rows):
                per_wave[owner].append(row)
        results = []
        for rows in per_wave:
            mean = np.mean(np.stack(rows), axis=0)
            results.append(dict(zip(self.names, (float(v) for v in mean))))
        return results

    def __repr__(self) -> str:
        return (
            f"DNSMOS(personalized={self.personalized}, device={self.device!r}, "
            f"num_threads={self.num_threads}, exact_reference={self.exact_reference})"
        )
