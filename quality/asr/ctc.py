"""CTC speech recognition through transformers: MMS with per-language adapters, or any CTC model.

MMS (``facebook/mms-1b-all``, 1,162 languages) is one wav2vec 2.0 encoder with a small
attention adapter in every layer and a CTC head per language; its tokenizer holds one
vocabulary per language. Before a batch in a new language, ``CTCASR`` switches both:
``processor.tokenizer.set_target_lang(code)`` and ``model.load_adapter(code)`` (which reads
``adapter.<code>.safetensors`` from the model's repo or directory, ~8 MB). Batches hold one
language each (``group_by_language``), so every language's adapter loads once per
``transcribe`` call. A model without adapters and a single vocabulary (a plain wav2vec2 / HuBERT
/ WavLM / w2v-BERT CTC fine-tune) ignores the language.

Decoding is greedy CTC: the most likely token per frame, repeats merged, blanks dropped, over
the frames that belong to the wave (frames computed from padding are cut off first).

Padding. Encoders whose front end normalizes with group norm over time
(``feat_extract_norm="group"``, e.g. wav2vec2-base) and those whose convolutions carry padded
frames into valid ones (data2vec-audio, wav2vec2-conformer) give a wave a different transcript
depending on what it is batched with; those run one wave at a time, unpadded. MMS uses layer
norm and attention masks and is batched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from fleursr.corpus.languages import get_language
from fleursr.quality.asr.base import (
    ASR,
    UnsupportedLanguageError,
    resolve_device,
    resolve_dtype,
)
from fleursr.quality.asr.languages import mms_language

DEFAULT_CTC_MODEL = "facebook/mms-1b-all"
# Model types whose padded frames leak into valid ones even with an attention mask (measured
# in fleursr.restore.features on tiny random models).
_PADDING_LEAKS = ("data2vec-audio", "wav2vec2-conformer")


class CTCASR(ASR):
    """Greedy CTC decoding with ``AutoModelForCTC`` (``Wav2Vec2ForCTC`` for MMS) and
    ``AutoProcessor``.

    Args:
        model: hub id or local directory of a CTC checkpoint.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda:1"``, ...
        dtype: weights and compute dtype; ``None`` -> float16 on CUDA, float32 on CPU.
        adapters: FLEURS code -> adapter / vocabulary name, overriding
            :data:`fleursr.quality.asr.languages.MMS_LANGUAGES` (e.g.
            ``{"sr_rs": "srp-script_latin"}``).
        **load_kwargs: passed to both ``from_pretrained`` calls (``revision``, ``cache_dir``,
            ``local_files_only``, ...).
    """

    group_by_language = True

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_CTC_MODEL,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype | None = None,
        adapters: Mapping[str, str] | None = None,
        **load_kwargs: Any,
    ) -> None:
        from transformers import AutoModelForCTC, AutoProcessor

        dev = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        processor = AutoProcessor.from_pretrained(str(model), **load_kwargs)
        net = AutoModelForCTC.from_pretrained(str(model), dtype=torch_dtype, **load_kwargs)
        self._setup(net.to(dev), processor, adapters, str(model))

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        processor: Any,
        adapters: Mapping[str, str] | None = None,
        device: str | torch.device | None = None,
    ) -> CTCASR:
        """Wrap an already loaded model and processor (``device=None`` keeps the model's).
        Adapters load from ``model.config._name_or_path``, as ``load_adapter`` does."""
        self = cls.__new__(cls)
        if device is not None:
            model = model.to(resolve_device(device))
        self._setup(model, processor, adapters, getattr(model, "name_or_path", "") or "")
        return self

    def _setup(
        self, model: Any, processor: Any, adapters: Mapping[str, str] | None, source: str
    ) -> None:
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.source = source
        self.adapters = {get_language(k).code: v for k, v in (adapters or {}).items()}
        vocab = getattr(self.tokenizer, "vocab", None)
        #: The tokenizer holds one vocabulary per language (MMS): the language matters.
        self.multilingual = isinstance(vocab, dict) and bool(vocab)
        self.multilingual = self.multilingual and all(isinstance(v, dict) for v in vocab.values())
        #: The model swaps per-language adapter weights (``config.adapter_attn_dim`` is set).
        self.has_adapters = (
            self.multilingual
            and getattr(model.config, "adapter_attn_dim", None) is not None
            and hasattr(model, "load_adapter")
        )
        # The adapter the weights hold now; None = whatever the checkpoint was saved with.
        self.current_language: str | None = None
        config = model.config
        self.padding_invariant = (
            getattr(config, "feat_extract_norm", "layer") != "group"
            and config.model_type not in _PADDING_LEAKS
        )
        kernels = getattr(config, "conv_kernel", None)
        strides = getattr(config, "conv_stride", None)
        self._min_samples = 1
        if kernels and strides:  # the front end's receptive field (400 samples in wav2vec2)
            for kernel, stride in zip(reversed(kernels), reversed(strides)):
                self._min_samples = (self._min_samples - 1) * stride + kernel

    @property
    def name(self) -> str:
        return f"CTCASR({self.source})" if self.source else "CTCASR"

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def language_code(self, code: str) -> str:
        """The adapter / vocabulary name used for a canonical FLEURS code."""
        return self.adapters.get(code) or mms_language(code)

    def _check_language(self, code: str) -> None:
        if not self.multilingual:
            return
        target = self.language_code(code)
        if target not in self.tokenizer.vocab:
            raise UnsupportedLanguageError(
                self.name,
                code,
                f"{len(self.tokenizer.vocab)} languages, the keys of processor.tokenizer.vocab",
                f"the tokenizer has no vocabulary {target!r}",
            )

    def set_language(self, code: str) -> None:
        """Switch tokenizer vocabulary and adapter weights to a (canonical) FLEURS language."""
        if not self.multilingual or code == self.current_language:
            return
        self._check_language(code)
        target = self.language_code(code)
        if self.has_adapters:
            try:
                self.model.load_adapter(target)
            except OSError as err:
                filename = f"adapter.{target}.safetensors"
                raise UnsupportedLanguageError(
                    self.name,
                    code,
                    f"the languages whose adapter.<code>.safetensors is in "
                    f"{self.model.config._name_or_path or 'the model repository'}",
                    f"could not load the adapter {filename!r} ({err})",
                ) from err
        self.tokenizer.set_target_lang(target)
        self.current_language = code

    def _transcribe_batch(self, waves: list[np.ndarray], languages: list[str]) -> list[str]:
        texts: list[str] = [""] * len(waves)
        for language in dict.fromkeys(languages):  # one language at a time
            rows = [i for i, lang in enumerate(languages) if lang == language]
            self.set_language(language)
            groups = [rows] if self.padding_invariant else [[i] for i in rows]
            for group in groups:
                for i, text in zip(group, self._decode([waves[i] for i in group])):
                    texts[i] = text
        return texts

    @torch.inference_mode()
    def logits(self, waves: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """CTC logits ``(batch, frames, vocab)`` of 16 kHz waves and each row's valid frames."""
        waves = [
            np.pad(w, (0, self._min_samples - len(w))) if len(w) < self._min_samples else w
            for w in waves
        ]
        features = self.processor.feature_extractor(
            waves, sampling_rate=self.sample_rate, return_tensors="pt", padding=True
        )
        inputs = {
            k: v.to(self.device, self.model.dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in features.items()
        }
        logits = self.model(**inputs).logits
        if "attention_mask" in inputs:
            lengths = inputs["attention_mask"].sum(-1)
        else:
            key = "input_values" if "input_values" in inputs else next(iter(inputs))
            lengths = torch.tensor([len(w) for w in waves], device=self.device)
            if key != "input_values":  # feature frames, not samples: all rows are full
                lengths = torch.full((len(waves),), inputs[key].shape[1], device=self.device)
        if hasattr(self.model, "_get_feat_extract_output_lengths"):
            frames = self.model._get_feat_extract_output_lengths(lengths)
        else:
            frames = torch.full_like(lengths, logits.shape[1])
        return logits, frames.clamp(max=logits.shape[1]).long()

    def _decode(self, waves: list[np.ndarray]) -> list[str]:
        logits, frames = self.logits(waves)
        ids = logits.argmax(-1).cpu()
        rows = [ids[i, : int(n)].tolist() for i, n in enumerate(frames.cpu())]
        texts = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
        return [text.strip() for text in texts]
