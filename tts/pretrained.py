"""A trained voice: the acoustic model with its tokenizer, languages and speakers.

A checkpoint is a directory with ``config.json`` (model settings, vocabulary, languages,
speakers and each speaker's language) and ``model.safetensors``. Loading never unpickles and
refuses weights that do not match the config. This module is all inference needs; it does
not import the training code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from corpus.languages import get_language
from corpus.nn.spectral import MelConfig
from tts.config import TTSConfig
from tts.model import TTSModel
from tts.tokenizer import GraphemeTokenizer

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "fleursr-tts"
FORMAT_VERSION = 1
#: The shipped voice (``recipes/embedded.sh tts ship-tts``), loaded by the name ``embedded``.
PACKAGED = Path(__file__).parent / "weights" / "embedded"


def resolve_voice(spec: str | os.PathLike) -> Path:
    """``"embedded"`` -> the shipped voice's directory (a clear error where none is installed);
    anything else is a voice directory."""
    if str(spec) != "embedded":
        return Path(spec)
    if not (PACKAGED / WEIGHTS_NAME).exists():
        raise FileNotFoundError(
            f"this installation ships no embedded voice ({PACKAGED}); train one with "
            "`fleursr tts train --data CORPUS --out DIR` and pass --model DIR"
        )
    return PACKAGED


class TTS:
    """Acoustic model + tokenizer + the languages and speakers it was trained on.

    Args:
        config: model settings.
        vocab: the tokenizer's vocabulary (``[<pad>, <unk>, *chars]``).
        speakers: speaker id -> FLEURS language code, for every training speaker.
    """

    def __init__(
        self, config: TTSConfig, vocab: Sequence[str], speakers: dict[str, str],
        device: str | torch.device = "cpu",
    ) -> None:  # fmt: skip
        self.config = config
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
        """The speaker's index; ``None`` picks the first speaker (by id) of ``language``."""
        code = get_language(language).code
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
        """One log-mel ``(frames, n_mels)`` float32 per text (batched, padding cut off)."""
        tokens, lengths, langs, spks = self.batch_inputs(texts, languages, speakers)
        mels, frames = self.model.synthesize(tokens, lengths, langs, spks, length_scale)
        mels = mels.cpu().numpy()
        return [mels[i, : int(n)] for i, n in enumerate(frames.cpu())]

    # ------------------------------------------------------------------------ checkpoints
    def config_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "model": self.config.to_dict(),
                "vocab": self.tokenizer.vocab, "speakers": self.speakers}  # fmt: skip

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (each atomically) into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(out / (WEIGHTS_NAME + ".tmp")), metadata={"format": "pt"})
        os.replace(out / (WEIGHTS_NAME + ".tmp"), out / WEIGHTS_NAME)
        text = json.dumps(self.config_dict(), indent=2, ensure_ascii=False)
        (out / (CONFIG_NAME + ".tmp")).write_text(text, encoding="utf-8")
        os.replace(out / (CONFIG_NAME + ".tmp"), out / CONFIG_NAME)
        return out

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, device: str | torch.device = "cpu"
    ) -> TTS:
        """Load a checkpoint directory written by :meth:`save_pretrained` (``"embedded"``: the
        shipped voice)."""
        root = resolve_voice(directory)
        config_path = root / CONFIG_NAME
        if not config_path.exists():
            raise FileNotFoundError(f"{root}: no {CONFIG_NAME}: not a fleursr TTS checkpoint")
        meta = json.loads(config_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{config_path}: format {meta.get('format')!r} is not {FORMAT!r}")
        voice = cls(TTSConfig.from_dict(meta["model"]), meta["vocab"], meta["speakers"], device)
        weights = root / WEIGHTS_NAME
        if not weights.exists():
            raise FileNotFoundError(f"{weights}: checkpoint weights are missing")
        state = load_file(str(weights), device=str(voice.device))
        expected = set(voice.model.state_dict())
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            names = f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
            raise ValueError(f"{weights}: weights do not match the config ({names})")
        voice.model.load_state_dict(state)
        return voice
