"""The MOS predictor role: waves in, named predicted-quality scores out, one dict per wave.

Every predictor works at one sample rate (``sample_rate``); :meth:`MOSPredictor.predict` checks
each wave (1-D, non-empty, finite), resamples it with :func:`fleursr.corpus.audio.resample` and
hands the
backend float32 audio at that rate. The scores are relative measures: score the original and the
restored audio with the same predictor and compare (see ``FIELD_NOTES.md``: none of these
predictors is validated on ~100 languages).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from fleursr.corpus.audio import resample


class MOSBackendUnavailable(RuntimeError):
    """A MOS backend cannot load here: a package (extra) or network access is missing.

    The message names the backend, what is missing and the exact command that fixes it.
    """

    def __init__(
        self, backend: str, missing: str, install: str | None = None, note: str | None = None
    ) -> None:
        self.backend = backend
        self.missing = missing
        self.install = install
        self.note = note
        message = f"{backend} is unavailable: {missing}."
        if install:
            message += f" Install it with: {install}"
        if note:
            message += f" ({note})"
        super().__init__(message)

    def __reduce__(self):  # keep the fields when sent between dask workers
        return (type(self), (self.backend, self.missing, self.install, self.note))


class MOSPredictor(ABC):
    """Base of the MOS predictors.

    Subclasses set ``names`` (the score names every result dict holds, e.g. ``"dnsmos_ovrl"``)
    and ``sample_rate`` (the rate the model works at), load their model once in ``__init__``
    and implement :meth:`_predict` on checked, resampled waves.
    """

    names: tuple[str, ...] = ()
    sample_rate: int = 16000

    def predict(
        self, waves: Sequence[np.ndarray], sr: int, batch_size: int = 16
    ) -> list[dict[str, float]]:
        """Score ``waves`` (each 1-D float audio at ``sr`` Hz).

        Returns one ``{name: score}`` dict per wave, in input order, with every name of
        ``names``. ``batch_size`` bounds how much one model call processes (the meaning of one
        batch item is the backend's: DNSMOS counts 9.01 s windows, the others counts waves).
        Raises ``ValueError`` for a wave that is not 1-D, is empty or holds NaN/infinity.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if sr <= 0:
            raise ValueError(f"sample rate must be positive, got {sr}")
        ready = [self._prepare(wave, sr, i) for i, wave in enumerate(waves)]
        if not ready:
            return []
        scores = self._predict(ready, batch_size)
        if len(scores) != len(ready):
            raise RuntimeError(f"{type(self).__name__} returned {len(scores)} results for "
                               f"{len(ready)} waves")  # fmt: skip
        return [{name: float(s[name]) for name in self.names} for s in scores]

    def _prepare(self, wave: np.ndarray, sr: int, index: int) -> np.ndarray:
        wave = np.asarray(wave)
        if wave.ndim != 1:
            raise ValueError(f"wave {index}: expected 1-D audio, got shape {wave.shape}")
        if wave.size == 0:
            raise ValueError(f"wave {index}: empty audio cannot be scored")
        if not np.issubdtype(wave.dtype, np.floating):
            raise ValueError(f"wave {index}: expected float audio, got {wave.dtype}")
        if not np.isfinite(wave).all():
            raise ValueError(f"wave {index}: holds NaN or infinite samples")
        out = resample(np.ascontiguousarray(wave, dtype=np.float32), sr, self.sample_rate)
        if out.size == 0:
            raise ValueError(f"wave {index}: {wave.size} samples at {sr} Hz is empty at "
                             f"{self.sample_rate} Hz")  # fmt: skip
        return np.ascontiguousarray(out, dtype=np.float32)

    @abstractmethod
    def _predict(self, waves: list[np.ndarray], batch_size: int) -> list[dict[str, float]]:
        """Score checked 1-D float32 waves at ``sample_rate``; one dict per wave, in order."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(names={self.names}, sample_rate={self.sample_rate})"
