"""The ASR interface every backend implements: waves and FLEURS language codes in, text out.

``ASR.transcribe`` does the work all backends share: it checks the waves (1-D float), resamples
them to 16 kHz with ``fleursr.corpus.audio.resample``, resolves the FLEURS codes (one for all waves
or
one per wave), rejects a language the backend cannot handle before any audio is processed,
sorts the waves by length (longest first, so the largest batch runs first and an out-of-memory
error shows at once) to cut padding, and returns the texts in input order. Backends that must
switch weights per language (MMS adapters) set ``group_by_language`` so that each batch holds
one language and each language's weights load once per call.

A backend implements ``_transcribe_batch(waves_at_16k, languages)`` and, if it cannot handle
every FLEURS language, ``_check_language(code)``, raising :class:`UnsupportedLanguageError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch

from fleursr.corpus.audio import resample
from fleursr.corpus.languages import get_language
from fleursr.nn.runtime import resolve_device  # noqa: F401 - part of this module's API


class UnsupportedLanguageError(ValueError):
    """A FLEURS language the ASR backend cannot transcribe.

    Attributes:
        backend: the backend that refused, e.g. ``"WhisperASR(openai/whisper-large-v3)"``.
        code: the FLEURS code, e.g. ``"kam_ke"``.
        supported: what the backend supports, in words.
        reason: why this language is refused (empty when the default reason applies).
    """

    def __init__(self, backend: str, code: str, supported: str, reason: str = "") -> None:
        self.backend = backend
        self.code = code
        self.supported = supported
        self.reason = reason
        try:
            name = f" ({get_language(code).name})"
        except (KeyError, ValueError):
            name = ""
        why = reason or "the backend has no model for this language"
        super().__init__(
            f"{backend} cannot transcribe FLEURS language {code!r}{name}: {why}. "
            f"{backend} supports {supported}"
        )

    def __reduce__(self):  # keep the fields when sent between dask workers
        return (type(self), (self.backend, self.code, self.supported, self.reason))


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """``None`` -> float16 on CUDA, float32 elsewhere; ``"bfloat16"`` etc. -> the torch dtype."""
    if dtype is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(resolved, torch.dtype):
            raise ValueError(f"unknown dtype {dtype!r}; use e.g. 'float16', 'bfloat16', 'float32'")
        return resolved
    return dtype


class ASR(ABC):
    """Speech recognition on 16 kHz mono float waves, one FLEURS language code per wave.

    Subclasses implement :meth:`_transcribe_batch` and, when some FLEURS languages are out of
    reach, :meth:`_check_language`.
    """

    #: Rate the backend works at; ``transcribe`` resamples to it.
    sample_rate: int = 16000
    #: Batches hold a single language (for backends that swap weights per language).
    group_by_language: bool = False

    @property
    def name(self) -> str:
        """How messages name this backend, e.g. ``"WhisperASR(openai/whisper-large-v3)"``."""
        return type(self).__name__

    def transcribe(
        self,
        waves: Sequence[np.ndarray],
        language: str | Sequence[str],
        sr: int = 16000,
        batch_size: int = 8,
    ) -> list[str]:
        """Transcribe ``waves`` (each 1-D float at ``sr`` Hz) and return one text per wave.

        Args:
            waves: the utterances; any length, any order.
            language: a FLEURS code (``"fr_fr"``) for all waves or one code per wave.
            sr: sample rate of ``waves``; they are resampled to :attr:`sample_rate`.
            batch_size: waves per forward pass.

        Returns:
            The transcripts, stripped, in the order of ``waves``; ``""`` for an empty wave.

        Raises:
            UnsupportedLanguageError: a language the backend cannot handle (before any work).
            fleursr.corpus.languages.UnknownLanguageError: a code that is not a FLEURS code.
            ValueError: a wave that is not 1-D, or mismatched ``language`` length.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n = len(waves)
        if isinstance(language, str):
            languages = [language] * n
        else:
            languages = list(language)
            if len(languages) != n:
                raise ValueError(f"got {n} waves but {len(languages)} languages")
        canonical = {code: self.check_language(code) for code in dict.fromkeys(languages)}
        languages = [canonical[code] for code in languages]
        prepared = [self._prepare(wave, sr, i) for i, wave in enumerate(waves)]

        texts = [""] * n
        todo = [i for i in range(n) if prepared[i].size > 0]
        if self.group_by_language:
            todo.sort(key=lambda i: (languages[i], -prepared[i].size))
        else:
            todo.sort(key=lambda i: -prepared[i].size)
        start = 0
        while start < len(todo):
            batch = todo[start : start + batch_size]
            if self.group_by_language:  # cut the batch where the language changes
                batch = [i for i in batch if languages[i] == languages[batch[0]]]
            start += len(batch)
            out = self._transcribe_batch(
                [prepared[i] for i in batch], [languages[i] for i in batch]
            )
            if len(out) != len(batch):
                raise RuntimeError(f"{self.name} returned {len(out)} texts for {len(batch)} waves")
            for i, text in zip(batch, out):
                texts[i] = text.strip()
        return texts

    def check_language(self, language: str) -> str:
        """Return the canonical FLEURS code of ``language`` (``"en-US"`` -> ``"en_us"``).

        Raises:
            UnsupportedLanguageError: the backend cannot transcribe it.
            fleursr.corpus.languages.UnknownLanguageError: not a FLEURS code.
        """
        code = get_language(language).code
        self._check_language(code)
        return code

    def supports(self, language: str) -> bool:
        """Tell whether this backend can transcribe a FLEURS language (False for unknown codes)."""
        try:
            self.check_language(language)
        except (UnsupportedLanguageError, KeyError, ValueError):
            return False
        return True

    def _check_language(self, code: str) -> None:  # noqa: B027 - optional hook
        """Raise :class:`UnsupportedLanguageError` if ``code`` is out of reach (default: never)."""

    def _prepare(self, wave: np.ndarray, sr: int, index: int) -> np.ndarray:
        wave = np.asarray(wave)
        if wave.ndim != 1:
            raise ValueError(f"wave {index} must be 1-D (mono samples), got shape {wave.shape}")
        if not np.issubdtype(wave.dtype, np.floating):
            raise ValueError(f"wave {index} must be float samples in [-1, 1], got {wave.dtype}")
        wave = np.ascontiguousarray(wave, dtype=np.float32)
        if wave.size and sr != self.sample_rate:
            wave = resample(wave, sr, self.sample_rate)
        return wave

    @abstractmethod
    def _transcribe_batch(self, waves: list[np.ndarray], languages: list[str]) -> list[str]:
        """Transcribe non-empty 1-D float32 waves at :attr:`sample_rate`, one FLEURS code each
        (already checked by :meth:`_check_language`); return one text per wave, in order."""
