"""A small multilingual character CTC recognizer, trained on the corpus it checks.

``EmbeddedASR`` turns 16 kHz audio into text in any language of its training set:

1. 80-band log-mel (the project's one :class:`corpus.nn.MelSpectrogram`, 25 ms windows every
   10 ms), normalized per utterance and per band to zero mean and unit variance;
2. two stride-2 3x3 convolutions (x4 in time, 100 Hz -> 25 Hz) and a linear projection;
3. a language embedding added to every frame (the FLEURS language code is known when training
   and when checking; a language the model never saw gets the shared ``<unk>`` embedding, which
   training keeps useful by dropping the language now and then);
4. the project's one :class:`corpus.nn.ConformerStack`;
5. a linear CTC head over characters (index 0 is the CTC blank, index 1 ``<unk>``), decoded
   greedily (best class per frame, repeats collapsed, blanks dropped).

The character vocabulary comes from the training transcriptions after
:func:`corpus.text.normalize_text`, so combining marks (Devanagari matras, Arabic harakat) are
characters of their own and Han text is one character per ideograph.

A transcription never depends on the other utterances of its batch: every wave gets its own
log-mel and padded frames are masked at every layer.

Checkpoints are a directory with ``config.json`` (model settings, vocabulary, languages) and
``model.safetensors``; loading never unpickles and refuses weights that do not match the config.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from corpus.nn import ConformerStack, MelConfig, MelSpectrogram, lengths_to_mask
from corpus.text import normalize_text
from quality.asr.base import ASR

SAMPLE_RATE = 16000
MEL_CONFIG = MelConfig(sample_rate=16000, n_fft=400, hop_length=160, win_length=400, n_mels=80)
SUBSAMPLING = 4
BLANK = "<blank>"
UNK = "<unk>"
BLANK_ID = 0
UNK_ID = 1
UNKNOWN_LANGUAGE = "<unk>"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "fleursr-embedded-asr"
FORMAT_VERSION = 1


# ------------------------------------------------------------------------------- vocabulary
def text_to_chars(text: str) -> str:
    """The character sequence a transcription is trained on: normalized, NFC."""
    return unicodedata.normalize("NFC", normalize_text(text))


def vocab_from_texts(texts: Iterable[str], min_count: int = 1) -> list[str]:
    """Character vocabulary of normalized transcriptions.

    Returns ``[BLANK, UNK, *characters]``: every character (space included) seen at least
    ``min_count`` times after :func:`text_to_chars`, sorted by code point so the same texts
    always give the same vocabulary.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text_to_chars(text))
    chars = sorted(ch for ch, n in counts.items() if n >= max(1, min_count))
    return [BLANK, UNK, *chars]


def collapse_ctc(ids: Sequence[int], blank: int = BLANK_ID) -> list[int]:
    """Greedy CTC collapse of a per-frame class sequence: merge repeats, then drop blanks."""
    out: list[int] = []
    prev = None
    for i in ids:
        i = int(i)
        if i != prev and i != blank:
            out.append(i)
        prev = i
    return out


def greedy_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor | None, vocab: Sequence[str]
) -> list[str]:
    """``(batch, frames, classes)`` scores -> one string per row (argmax, collapse, join).

    ``<unk>`` outputs are dropped and whitespace is collapsed.
    """
    best = log_probs.argmax(dim=-1).cpu()
    frames = [best.shape[1]] * best.shape[0] if lengths is None else lengths.cpu().tolist()
    texts = []
    for row, n in zip(best.tolist(), frames):
        chars = (vocab[i] for i in collapse_ctc(row[: int(n)]) if i != UNK_ID and i < len(vocab))
        texts.append(" ".join("".join(chars).split()))
    return texts


# ------------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class EmbeddedASRConfig:
    """Size of the recognizer. ``tiny`` is for tests; ``embedded`` (~3.5M parameters before
    the head) for real checks on a CPU."""

    dim: int = 144
    depth: int = 6
    heads: int = 4
    ff_mult: int = 4
    kernel_size: int = 15
    dropout: float = 0.1
    subsample_channels: int = 128

    @classmethod
    def tiny(cls, **overrides: Any) -> EmbeddedASRConfig:
        base = dict(dim=64, depth=2, heads=2, ff_mult=2, kernel_size=15, subsample_channels=32)
        return cls(**{**base, **overrides})

    @classmethod
    def embedded(cls, **overrides: Any) -> EmbeddedASRConfig:
        return cls(**overrides)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> EmbeddedASRConfig:
        if name not in ("tiny", "embedded"):
            raise ValueError(f"unknown ASR size {name!r}: expected 'tiny' or 'embedded'")
        return getattr(cls, name)(**overrides)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EmbeddedASRConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ASR config keys {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mel_frames(num_samples: int | torch.Tensor) -> int | torch.Tensor:
    """Log-mel frames (100 Hz) of ``num_samples`` samples at 16 kHz."""
    return num_samples // MEL_CONFIG.hop_length + 1


def _halve(frames: int | torch.Tensor) -> int | torch.Tensor:
    return (frames + 1) // 2  # a stride-2, kernel-3, padding-1 convolution


def encoder_frames(num_samples: int | torch.Tensor) -> int | torch.Tensor:
    """Encoder frames (25 Hz) of ``num_samples`` samples at 16 kHz."""
    return _halve(_halve(mel_frames(num_samples)))


class EmbeddedASRNet(nn.Module):
    """The network: ``(waves, lengths, language_ids)`` -> ``(logits, frame_lengths)``."""

    def __init__(self, config: EmbeddedASRConfig, vocab_size: int, num_languages: int) -> None:
        super().__init__()
        c = config
        self.config = c
        self.mel = MelSpectrogram(MEL_CONFIG)
        ch = c.subsample_channels
        self.conv1 = nn.Conv2d(1, ch, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        freq = _halve(_halve(MEL_CONFIG.n_mels))
        self.proj = nn.Linear(ch * freq, c.dim)
        # index 0 is the shared unknown language; starting at zero it adds nothing until trained
        self.language = nn.Embedding(num_languages + 1, c.dim)
        nn.init.zeros_(self.language.weight)
        self.encoder = ConformerStack(c.dim, c.depth, c.heads, c.ff_mult, c.kernel_size, c.dropout)
        self.head = nn.Linear(c.dim, vocab_size)

    def features(
        self, waves: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` -> normalized log-mel ``(batch, frames, 80)`` (zeros on padding)
        and frame lengths ``(batch,)``. Each wave is analysed alone, so its features do not
        depend on the padding of its batch."""
        lengths = lengths.to(waves.device)
        frames = mel_frames(lengths)
        feats = waves.new_zeros(waves.shape[0], int(frames.max()), MEL_CONFIG.n_mels)
        min_samples = MEL_CONFIG.n_fft + 1  # reflect padding needs more than n_fft // 2
        for i, (n, t) in enumerate(zip(lengths.tolist(), frames.tolist())):
            w = waves[i, :n]
            if n < min_samples:
                w = torch.nn.functional.pad(w, (0, min_samples - n))
            feats[i, :t] = self.mel(w[None].float())[0, :, :t].T
        mask = lengths_to_mask(frames, feats.shape[1])[..., None]
        count = frames[:, None, None].to(feats.dtype)
        mean = (feats * mask).sum(1, keepdim=True) / count
        var = (((feats - mean) * mask) ** 2).sum(1, keepdim=True) / count
        feats = (feats - mean) * torch.rsqrt(var + 1e-5) * mask
        return feats, frames

    def encode(
        self, feats: torch.Tensor, frames: torch.Tensor, language_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalized log-mel ``(batch, frames, 80)`` -> logits ``(batch, frames / 4, vocab)``
        and their lengths."""
        x = feats.transpose(1, 2)[:, None]  # (batch, 1, mels, frames)
        f1 = _halve(frames)
        x = torch.relu(self.conv1(x))
        x = x * lengths_to_mask(f1, x.shape[-1])[:, None, None]
        f2 = _halve(f1)
        x = torch.relu(self.conv2(x))
        x = x * lengths_to_mask(f2, x.shape[-1])[:, None, None]
        b, ch, freq, t = x.shape
        x = self.proj(x.permute(0, 3, 1, 2).reshape(b, t, ch * freq))
        x = x + self.language(language_ids)[:, None, :]
        mask = lengths_to_mask(f2, t)
        x = self.encoder(x, mask)
        return self.head(x), f2

    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor, language_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        feats, frames = self.features(waves, lengths)
        return self.encode(feats, frames, language_ids)


# ------------------------------------------------------------------------------- the recognizer
def pad_waves(waves: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad 1-D waves into ``(batch, samples)`` float32 and their lengths ``(batch,)``."""
    lengths = torch.tensor([len(w) for w in waves], dtype=torch.long)
    out = torch.zeros(len(waves), max(1, int(lengths.max()) if len(waves) else 1))
    for i, w in enumerate(waves):
        if len(w):
            out[i, : len(w)] = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
    return out, lengths


class EmbeddedASR(ASR):
    """Character CTC recognizer for the languages of its training corpus.

    Args:
        config: network size (an :class:`EmbeddedASRConfig` or its dict).
        vocab: ``[BLANK, UNK, *characters]`` (see :func:`vocab_from_texts`).
        languages: language codes known to the model; any other code uses the shared
            unknown-language embedding.
    """

    sample_rate = SAMPLE_RATE

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
    def config_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": self.config.to_dict(),
            "mel": MEL_CONFIG.to_dict(),
            "subsampling": SUBSAMPLING,
            "vocab": self.vocab,
            "languages": self.languages,
        }

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (each atomically); returns the dir."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (WEIGHTS_NAME + ".tmp")
        save_file(self.state_dict(), str(tmp), metadata={"format": "pt", "library": "fleursr"})
        os.replace(tmp, directory / WEIGHTS_NAME)
        tmp = directory / (CONFIG_NAME + ".tmp")
        tmp.write_text(json.dumps(self.config_dict(), ensure_ascii=False, indent=1) + "\n")
        os.replace(tmp, directory / CONFIG_NAME)
        return directory

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load a safetensors file; every tensor must exist with the config's shape."""
        state = load_file(str(path), device="cpu")
        expected = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        wrong = sorted(
            f"{k} {tuple(state[k].shape)} != {expected[k]}"
            for k in set(state) & set(expected)
            if tuple(state[k].shape) != expected[k]
        )
        if missing or unexpected or wrong:
            raise ValueError(
                f"{path}: weights do not match config.json (missing {missing}, "
                f"unexpected {unexpected}, wrong shape {wrong})"
            )
        self.model.load_state_dict(state)

    @classmethod
    def from_pretrained(
        cls, path_or_hub_id: str | os.PathLike, device: str | torch.device = "cpu"
    ) -> EmbeddedASR:
        """Load a checkpoint directory (or a Hugging Face Hub model id holding one)."""
        root = Path(path_or_hub_id)
        hub_id = re.fullmatch(r"[\w-][\w.-]*/[\w.-]+", str(path_or_hub_id))
        if root.is_dir() or root.exists() or not hub_id:
            config_path, weights_path = root / CONFIG_NAME, root / WEIGHTS_NAME
        else:
            from huggingface_hub import hf_hub_download

            repo = str(path_or_hub_id)
            config_path = Path(hf_hub_download(repo, CONFIG_NAME))
            weights_path = Path(hf_hub_download(repo, WEIGHTS_NAME))
        if not config_path.exists():
            raise FileNotFoundError(f"{config_path}: missing; not an embedded ASR checkpoint")
        if not weights_path.exists():
            raise FileNotFoundError(f"{weights_path}: checkpoint weights are missing")
        meta = json.loads(config_path.read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"{config_path}: not an embedded ASR checkpoint ({meta.get('format')})"
            )
        if meta.get("version", 0) > FORMAT_VERSION:
            raise ValueError(f"{config_path}: format version {meta['version']} is newer than this "
                             f"code ({FORMAT_VERSION})")  # fmt: skip
        asr = cls(meta["model"], meta["vocab"], meta["languages"])
        asr.load_weights(weights_path)
        return asr.to(device)


def frame_rate() -> float:
    """Output frames per second (25)."""
    return SAMPLE_RATE / MEL_CONFIG.hop_length / SUBSAMPLING


def ctc_feasible(num_samples: int, targets: Sequence[int]) -> bool:
    """Whether a target sequence fits in the frames of ``num_samples`` samples at 16 kHz: CTC
    needs one frame per character plus a blank between each pair of equal neighbours."""
    repeats = sum(1 for a, b in zip(targets, targets[1:]) if a == b)
    return len(targets) + repeats <= encoder_frames(int(num_samples))
