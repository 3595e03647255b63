"""Whisper through transformers, with the language forced from the FLEURS code.

Each utterance's language goes into its own decoder prompt
(``<|startoftranscript|><|fr|><|transcribe|><|notimestamps|>``): a batch may mix languages,
and Whisper never guesses the language or translates. Greedy decoding, no temperature fallback,
so a transcript is reproducible. Audio up to the feature extractor's window (30 s) is padded
to it as Whisper was trained; a batch whose longest wave is longer runs Whisper's sequential
long-form decoding (timestamps predicted, then dropped from the text) instead of being cut.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import torch

from fleursr.quality.asr.base import (
    ASR,
    UnsupportedLanguageError,
    resolve_device,
    resolve_dtype,
)
from fleursr.quality.asr.languages import whisper_language, whisper_supported

DEFAULT_WHISPER_MODEL = "openai/whisper-large-v3"


class _DropLengthNotice(logging.Filter):
    """Drop transformers' per-call notice that ``max_new_tokens`` overrides the checkpoint's
    ``max_length``: that is what ``max_new_tokens`` is for, and it would repeat every batch."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Both `max_new_tokens`")


def _quiet_length_notice() -> None:
    log = logging.getLogger("transformers.generation.utils")
    if not any(isinstance(f, _DropLengthNotice) for f in log.filters):
        log.addFilter(_DropLengthNotice())


class WhisperASR(ASR):
    """Whisper (``WhisperForConditionalGeneration`` + ``WhisperProcessor``).

    Args:
        model: hub id or local directory of a Whisper checkpoint.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda:1"``, ...
        dtype: weights and compute dtype; ``None`` -> float16 on CUDA, float32 on CPU.
        max_new_tokens: generated tokens per utterance (per 30 s window in long-form).
        **load_kwargs: passed to both ``from_pretrained`` calls (``revision``, ``cache_dir``,
            ``local_files_only``, ...).
    """

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_WHISPER_MODEL,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        max_new_tokens: int = 225,
        **load_kwargs: Any,
    ) -> None:
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        dev = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        processor = WhisperProcessor.from_pretrained(str(model), **load_kwargs)
        net = WhisperForConditionalGeneration.from_pretrained(
            str(model), dtype=torch_dtype, **load_kwargs
        )
        self._setup(net.to(dev), processor, max_new_tokens, str(model))

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        processor: Any,
        max_new_tokens: int = 225,
        device: str | torch.device | None = None,
    ) -> WhisperASR:
        """Wrap an already loaded model and processor (``device=None`` keeps the model's)."""
        self = cls.__new__(cls)
        if device is not None:
            model = model.to(resolve_device(device))
        self._setup(model, processor, max_new_tokens, getattr(model, "name_or_path", "") or "")
        return self

    def _setup(self, model: Any, processor: Any, max_new_tokens: int, source: str) -> None:
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        _quiet_length_notice()
        self.model = model.eval()
        self.processor = processor
        self.max_new_tokens = max_new_tokens
        self.source = source
        gen = model.generation_config
        self._lang_to_id: dict[str, int] = dict(getattr(gen, "lang_to_id", None) or {})
        self._multilingual = bool(getattr(gen, "is_multilingual", bool(self._lang_to_id)))
        fe = processor.feature_extractor
        self._window = int(fe.n_samples)  # samples Whisper sees at once (30 s)

    @property
    def name(self) -> str:
        return f"WhisperASR({self.source})" if self.source else "WhisperASR"

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _check_language(self, code: str) -> None:
        whisper = whisper_language(code)  # raises for the 19 FLEURS languages Whisper lacks
        if not self._multilingual:
            if whisper != "en":
                raise UnsupportedLanguageError(
                    self.name, code, "English only", "this is an English-only Whisper model"
                )
            return
        if f"<|{whisper}|>" not in self._lang_to_id:
            have = [
                c for c in whisper_supported() if f"<|{whisper_language(c)}|>" in self._lang_to_id
            ]
            raise UnsupportedLanguageError(
                self.name,
                code,
                f"{len(have)} FLEURS languages: {', '.join(have)}",
                f"the model's generation config has no <|{whisper}|> token (Cantonese needs "
                "large-v3 or later)",
            )

    def _transcribe_batch(self, waves: list[np.ndarray], languages: list[str]) -> list[str]:
        ids = self.generate_ids(waves, languages)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return [text.strip() for text in texts]

    @torch.inference_mode()
    def generate_ids(self, waves: list[np.ndarray], languages: list[str]) -> torch.Tensor:
        """Token ids Whisper generates for 16 kHz ``waves`` in FLEURS ``languages`` (checked)."""
        long_form = max(len(w) for w in waves) > self._window
        features = self.processor.feature_extractor(
            waves,
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            return_attention_mask=True,
            device=str(self.device) if self.device.type == "cuda" else "cpu",  # STFT on the GPU
            **({"truncation": False, "padding": "longest"} if long_form else {}),
        )
        kwargs: dict[str, Any] = {}
        if self._multilingual:
            tokens = [f"<|{whisper_language(code)}|>" for code in languages]
            kwargs["language"] = tokens[0] if len(set(tokens)) == 1 else tokens
            kwargs["task"] = "transcribe"
        if long_form:
            kwargs["return_timestamps"] = True
        return self.model.generate(
            features.input_features.to(self.device, self.model.dtype),
            attention_mask=features.attention_mask.to(self.device),
            max_new_tokens=self.max_new_tokens,
            num_beams=1,
            do_sample=False,
            **kwargs,
        )
