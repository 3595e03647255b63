"""A small multilingual character CTC recognizer, trained on the corpus it checks.

``EmbeddedASR`` turns 16 kHz audio into text in any language of its training set:

1. 80-band log-mel (the project's one :class:`fleursr.nn.MelSpectrogram`, 25 ms windows every
   10 ms), normalized per utterance and per band to zero mean and unit variance;
2. two stride-2 3x3 convolutions (x4 in time, 100 Hz -> 25 Hz) and a linear projection;
3. a language embedding added to every frame (the FLEURS language code is known when training
   and when checking; a language the model never saw gets the shared ``<unk>`` embedding, which
   training keeps useful by dropping the language now and then);
4. the project's one :class:`fleursr.nn.ConformerStack`;
5. a linear CTC head over characters (index 0 is the CTC blank, index 1 ``<unk>``), decoded
   greedily (best class per frame, repeats collapsed, blanks dropped).

The character vocabulary comes from the training transcriptions after
:func:`fleursr.corpus.text.normalize_text`, so combining marks (Devanagari matras, Arabic harakat)
are
characters of their own and Han text is one character per ideograph.

A transcription never depends on the other utterances of its batch: every wave gets its own
log-mel and padded frames are masked at every layer.

Checkpoints are a directory with ``config.json`` (model settings, vocabulary, languages) and
``model.safetensors``, through the project's one mechanism (``fleursr.nn.pretrained``). The
network, its size and the vocabulary helpers are in ``fleursr.quality.asr.embedded_net``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fleursr.nn.pretrained import CONFIG_NAME, WEIGHTS_NAME, Pretrained
from fleursr.quality.asr.base import ASR
from fleursr.quality.asr.embedded_net import (
    BLANK,
    BLANK_ID,
    FORMAT,
    MEL_CONFIG,
    SAMPLE_RATE,
    SUBSAMPLING,
    UNK,
    UNK_ID,
    UNKNOWN_LANGUAGE,
    EmbeddedASRConfig,
    EmbeddedASRNet,
    asr_config,
    collapse_ctc,
    ctc_feasible,
    encoder_frames,
    frame_rate,
    greedy_decode,
    mel_frames,
    text_to_chars,
    vocab_from_texts,
)

__all__ = [
    "BLANK", "BLANK_ID", "CONFIG_NAME", "FORMAT", "MEL_CONFIG", "SAMPLE_RATE", "SUBSAMPLING",
    "UNK", "UNK_ID", "UNKNOWN_LANGUAGE", "WEIGHTS_NAME", "EmbeddedASR", "EmbeddedASRConfig",
    "EmbeddedASRNet", "asr_config", "collapse_ctc", "ctc_feasible", "encoder_frames", "frame_rate",
    "greedy_decode", "mel_frames", "pad_waves", "text_to_chars", "vocab_from_texts",
]  # fmt: skip


# ------------------------------------------------------------------------------- the recognizer
def pad_waves(waves: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad 1-D waves into ``(batch, samples)`` float32 and their lengths ``(batch,)``."""
    lengths = torch.tensor([len(w) for w in waves], dtype=torch.long)
    out = torch.zeros(len(waves), max(1, int(lengths.max()) if len(waves) else 1))
    for i, w in enumerate(waves):
        if len(w):
            out[i, : len(w)] = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
    return out, lengths


class EmbeddedASR(ASR, Pretrained):
    """Character CTC recognizer for the languages of its training corpus.

    Args:
        config: network size (an :class:`EmbeddedASRConfig` or its dict).
        vocab: ``[BLANK, UNK, *characters]`` (see :func:`vocab_from_texts`).
        languages: language codes known to the model; any other code uses the shared
            unknown-language embedding.
    """

    sample_rate = SAMPLE_RATE
    checkpoint_format = FORMAT
    # No weights ship (the 3.6M-parameter model trained on espeak-ng speech recognized nothing
    # of real speech); the class stays the tiny, trainable test model. `embedded` names none.
    shipped_dir = None

    @property
    def name(self) -> str:
        return f"EmbeddedASR({len(self.languages)} languages)"

    def __init__(
        self,
        config: EmbeddedASRConfig | dict[str, Any],
        vocab: Sequence[str],
        languages: Sequence[str],
        device: str | torch.device = "cpu",
    ) -> None:
        if isinstance(config, dict):
            config = EmbeddedASRConfig.from_dict(config)
        vocab = list(vocab)
        if len(vocab) < 3 or vocab[BLANK_ID] != BLANK or vocab[UNK_ID] != UNK:
            raise ValueError(f"vocab must start with {BLANK!r}, {UNK!r} and hold characters")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocab has duplicate entries")
        languages = list(languages)
        if len(set(languages)) != len(languages) or UNKNOWN_LANGUAGE in languages:
            raise ValueError(f"languages must be distinct codes other than {UNKNOWN_LANGUAGE!r}")
        self.config = config
        self.vocab = vocab
        self.languages = languages
        self._char_ids = {ch: i for i, ch in enumerate(vocab) if i > UNK_ID}
        self._lang_ids = {code: i + 1 for i, code in enumerate(languages)}
        self.model = EmbeddedASRNet(config, len(vocab), len(languages)).to(device).eval()

    def __repr__(self) -> str:
        return (f"EmbeddedASR({self.num_parameters() / 1e6:.2f}M parameters, "
                f"{len(self.vocab)} symbols, {len(self.languages)} languages)")  # fmt: skip

    # --------------------------------------------------------------------------- helpers
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> EmbeddedASR:
        self.model.to(device)
        return self

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def encode_text(self, text: str) -> list[int]:
        """Target ids of a transcription (normalized; unknown characters -> ``<unk>``)."""
        return [self._char_ids.get(ch, UNK_ID) for ch in text_to_chars(text)]

    def decode_ids(self, ids: Sequence[int]) -> str:
        """Text of already-collapsed ids (``<blank>`` and ``<unk>`` are dropped)."""
        return "".join(self.vocab[i] for i in ids if i > UNK_ID)

    def language_id(self, language: str) -> int:
        """Embedding index of a language code; 0 (shared unknown) for a code not trained on."""
        return self._lang_ids.get(language, 0)

    def language_ids(self, languages: Sequence[str]) -> torch.Tensor:
        return torch.tensor([self.language_id(x) for x in languages], dtype=torch.long)

    @staticmethod
    def num_frames(num_samples: int) -> int:
        """Output frames (25 Hz) for ``num_samples`` samples at 16 kHz."""
        return int(encoder_frames(int(num_samples)))

    @torch.inference_mode()
    def log_probs(
        self, waves_at_16k: Sequence[np.ndarray], languages: Sequence[str]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """CTC log-probabilities ``(batch, frames, vocab)`` and frame lengths ``(batch,)``."""
        self.model.eval()
        x, lengths = pad_waves(waves_at_16k)
        device = self.device
        logits, frames = self.model(
            x.to(device), lengths.to(device), self.language_ids(languages).to(device)
        )
        return logits.float().log_softmax(-1), frames

    # --------------------------------------------------------------------------- transcription
    def _transcribe_batch(self, waves_at_16k: list[np.ndarray], languages: list[str]) -> list[str]:
        log_probs, frames = self.log_probs(waves_at_16k, languages)
        return greedy_decode(log_probs, frames, self.vocab)

    # --------------------------------------------------------------------------- checkpoints
    @property
    def pretrained_module(self) -> torch.nn.Module:
        return self.model

    def pretrained_config(self) -> dict[str, Any]:
        return {"model": self.config.to_dict(), "mel": MEL_CONFIG.to_dict(),
                "subsampling": SUBSAMPLING, "vocab": self.vocab,
                "languages": self.languages}  # fmt: skip

    def config_dict(self) -> dict[str, Any]:
        """What ``config.json`` holds (format and version included)."""
        return {"format": FORMAT, "version": self.format_version, **self.pretrained_config()}

    @classmethod
    def from_pretrained_config(cls, config: dict[str, Any]) -> EmbeddedASR:
        missing = [k for k in ("model", "vocab", "languages") if k not in config]
        if missing:
            raise ValueError(f"embedded ASR checkpoint config lacks {missing}")
        return cls(config["model"], config["vocab"], config["languages"])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The network's tensors (CPU): what ``model.safetensors`` holds."""
        return self.pretrained_state()
