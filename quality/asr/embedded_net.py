"""The embedded CTC recognizer's network, its size and its character vocabulary.

``EmbeddedASRNet`` maps ``(waves (batch, samples) at 16 kHz, lengths (batch,), language ids
(batch,))`` to CTC logits ``(batch, frames / 4, vocab)`` and their lengths; ``EmbeddedASR``
(``fleursr.quality.asr.embedded``) wraps it as an ``ASR`` backend with its checkpoints.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fleursr.corpus.config import Config, resolve_size
from fleursr.corpus.text import normalize_text
from fleursr.nn import ConformerStack, MelConfig, MelSpectrogram, lengths_to_mask

SAMPLE_RATE = 16000
MEL_CONFIG = MelConfig(sample_rate=16000, n_fft=400, hop_length=160, win_length=400, n_mels=80)
SUBSAMPLING = 4
BLANK = "<blank>"
UNK = "<unk>"
BLANK_ID = 0
UNK_ID = 1
UNKNOWN_LANGUAGE = "<unk>"
FORMAT = "fleursr-embedded-asr"


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
class EmbeddedASRConfig(Config):
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
        """``asr_config({"size": "tiny", **overrides})``."""
        return asr_config({"size": "tiny", **overrides})

    @classmethod
    def embedded(cls, **overrides: Any) -> EmbeddedASRConfig:
        """``asr_config({"size": "embedded", **overrides})``."""
        return asr_config({"size": "embedded", **overrides})


#: The sizes: ``tiny`` (tests) and ``embedded`` (CPU checks).
ASR_SIZES: dict[str, dict[str, Any]] = {
    "tiny": dict(dim=64, depth=2, heads=2, ff_mult=2, kernel_size=15, subsample_channels=32),
    "embedded": {},
}


def asr_config(size_or_file: str | dict[str, Any] = "embedded") -> EmbeddedASRConfig:
    """A size name, a dict of overrides (``size`` picks the base) or a YAML file of them: the
    project's one size resolver (``fleursr.corpus.config.resolve_size``)."""
    sizes = {name: EmbeddedASRConfig(**base).to_dict() for name, base in ASR_SIZES.items()}
    settings = resolve_size(size_or_file, sizes, "ASR")
    settings.pop("size")
    return EmbeddedASRConfig.from_dict(settings)


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


def frame_rate() -> float:
    """Output frames per second (25)."""
    return SAMPLE_RATE / MEL_CONFIG.hop_length / SUBSAMPLING


def ctc_feasible(num_samples: int, targets: Sequence[int]) -> bool:
    """Whether a target sequence fits in the frames of ``num_samples`` samples at 16 kHz: CTC
    needs one frame per character plus a blank between each pair of equal neighbours."""
    repeats = sum(1 for a, b in zip(targets, targets[1:]) if a == b)
    return len(targets) + repeats <= encoder_frames(int(num_samples))
