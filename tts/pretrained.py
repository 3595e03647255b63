"""A trained voice: the acoustic model with its tokenizer, languages and speakers.

A checkpoint is a directory with ``config.json`` (model settings, vocabulary, languages,
speakers and each speaker's language, and each language's duration calibration) and
``model.safetensors``, written and read by the
project's one checkpoint mechanism (``fleursr.nn.pretrained.Pretrained``). This module is all
inference needs; it does
not import the training code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fleursr.corpus.languages import get_language
from fleursr.nn.pretrained import CONFIG_NAME, Pretrained
from fleursr.nn.spectral import MelConfig
from fleursr.tts.config import TTSConfig
from fleursr.tts.model import TTSModel
from fleursr.tts.tokenizer import GraphemeTokenizer

#: The shipped voice (``recipes/embedded.sh tts ship-tts``), loaded by the name ``embedded``.
PACKAGED = Path(__file__).parent / "weights" / "embedded"


class TTS(Pretrained):
    """Acoustic model + tokenizer + the languages and speakers it was trained on.

    Args:
        config: model settings.
        vocab: the tokenizer's vocabulary (``[<pad>, <unk>, *chars]``).
        speakers: speaker id -> FLEURS language code, for every training speaker.
        duration_scale: FLEURS language code -> the factor its predicted durations are
            multiplied by (``fleursr.tts.train.calibrate_durations``; 1 where absent).
        default_speakers: FLEURS language code -> the speaker a request without one gets (the
            one with the most training speech, ``fleursr.tts.train.calibrate_durations``; the
            language's first speaker by id where absent).
    """

    checkpoint_format = "fleursr-tts"
    shipped_dir = PACKAGED
    shipped_what = "embedded voice"
    shipped_hint = "train one with `fleursr tts train --data CORPUS --out DIR` and pass --model DIR"

    def __init__(
        self, config: TTSConfig, vocab: Sequence[str], speakers: dict[str, str],
        device: str | torch.device = "cpu", duration_scale: dict[str, float] | None = None,
        default_speakers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.duration_scale = dict(sorted((duration_scale or {}).items()))
        self.default_speakers = dict(sorted((default_speakers or {}).items()))
        self.tokenizer = GraphemeTokenizer(vocab)
        self.speakers = dict(sorted(speakers.items()))
        self.languages = sorted(set(self.speakers.values()))
        self._lang_ids = {code: i + 1 for i, code in enumerate(self.languages)}
        self._spk_ids = {spk: i + 1 for i, spk in enumerate(self.speakers)}
        self.model = TTSModel(config, len(vocab), len(self.languages), len(self.speakers))
        self.model.to(device).eval()

    @property
    def device(self) -> torch.device:
        return self.model.mel_mean.device

    @property
    def mel_config(self) -> MelConfig:
        return self.config.mel_config()

    def language_id(self, language: str) -> int:
        code = get_language(language).code
        if code not in self._lang_ids:
            raise ValueError(f"this voice was not trained on {code!r}; it knows {self.languages}")
        return self._lang_ids[code]

    def speaker_id(self, speaker: str | None, language: str) -> int:
        """The speaker's index; ``None`` picks the language's default speaker, else its first
        (by id)."""
        code = get_language(language).code
        if speaker is None and code in self.default_speakers:
            speaker = self.default_speakers[code]
        if speaker is None:
            own = [s for s, lang in self.speakers.items() if lang == code]
            if not own:
                raise ValueError(f"this voice has no speaker of {code!r}")
            return self._spk_ids[own[0]]
        if speaker not in self._spk_ids:
            own = [s for s, lang in self.speakers.items() if lang == code]
            raise ValueError(f"unknown speaker {speaker!r}; speakers of {code}: {own}")
        return self._spk_ids[speaker]

    def batch_inputs(
        self, texts: Sequence[str], languages: Sequence[str], speakers: Sequence[str | None]
    ) -> tuple[torch.Tensor, ...]:
        """Token ids ``(batch, tokens)``, token lengths, language and speaker ids ``(batch,)``."""
        ids = [self.tokenizer.encode(t) for t in texts]
        for text, row in zip(texts, ids):
            if not row:
                raise ValueError(f"nothing to say: {text!r} has no characters after normalization")
        lengths = torch.tensor([len(r) for r in ids])
        tokens = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = torch.tensor(row)
        langs = torch.tensor([self.language_id(lang) for lang in languages])
        spks = torch.tensor([self.speaker_id(s, lang) for s, lang in zip(speakers, languages)])
        return tuple(x.to(self.device) for x in (tokens, lengths, langs, spks))

    def text_to_mel(
        self, texts: Sequence[str], languages: Sequence[str], speakers: Sequence[str | None],
        length_scale: float = 1.0,
    ) -> list[np.ndarray]:  # fmt: skip
        """One log-mel ``(frames, n_mels)`` float32 per text (batched, padding cut off), at
        ``length_scale`` times each language's calibrated speaking time."""
        tokens, lengths, langs, spks = self.batch_inputs(texts, languages, speakers)
        scales = torch.tensor([length_scale * self.duration_scale.get(get_language(lang).code, 1.0)
                               for lang in languages])  # fmt: skip
        mels, frames = self.model.synthesize(tokens, lengths, langs, spks, scales)
        mels = mels.cpu().numpy()
        return [mels[i, : int(n)] for i, n in enumerate(frames.cpu())]

    # ------------------------------------------------------------------------ checkpoints
    @property
    def pretrained_module(self) -> torch.nn.Module:
        return self.model

    def pretrained_config(self) -> dict[str, Any]:
        return {"model": self.config.to_dict(), "vocab": self.tokenizer.vocab,
                "speakers": self.speakers, "duration_scale": self.duration_scale,
                "default_speakers": self.default_speakers}  # fmt: skip

    @classmethod
    def from_pretrained_config(cls, config: dict[str, Any]) -> TTS:
        missing = [k for k in ("model", "vocab", "speakers") if k not in config]
        if missing:
            raise ValueError(f"TTS checkpoint config lacks {missing}")
        return cls(TTSConfig.from_dict(config["model"]), config["vocab"], config["speakers"],
                   duration_scale=config.get("duration_scale"),
                   default_speakers=config.get("default_speakers"))  # fmt: skip


def resolve_voice(spec: str | os.PathLike) -> Path:
    """``"embedded"`` -> the shipped voice's directory (a clear error where none is installed);
    anything else is a voice directory."""
    return TTS.checkpoint_files(spec)[0].parent


__all__ = ["CONFIG_NAME", "PACKAGED", "TTS", "resolve_voice"]
