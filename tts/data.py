"""Training data for the acoustic model: (graphemes, language, speaker, log-mel) from a corpus.

Text is ``raw_transcription`` (case and punctuation kept; the normalized ``transcription`` when
it is empty). Audio is resampled to the model's mel rate and turned into the project's log-mel
(``fleursr.nn.MelSpectrogram``) with the model's ``MelConfig``. Rows with status ``error``, no
text, more than ``max_seconds`` of audio or fewer mel frames than tokens (no monotonic
alignment exists) are left out and counted; audio that cannot be read is skipped at load time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from fleursr.corpus.audio import AudioError
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance
from fleursr.nn.spectral import MelConfig, MelSpectrogram
from fleursr.tts.tokenizer import GraphemeTokenizer, normalize_graphemes

COLUMNS = ["id", "path", "language", "num_samples", "sampling_rate", "transcription",
           "raw_transcription", "gender", "split", "speaker_id", "status", "audio"]  # fmt: skip


def utterance_text(utt: Utterance) -> str:
    return normalize_graphemes(utt.raw_transcription or utt.transcription)


def mel_frames(utt: Utterance, mel: MelConfig) -> int:
    """The log-mel frames of ``utt``'s recording at ``mel``'s rate and hop."""
    return int(utt.duration * mel.sample_rate) // mel.hop_length + 1


def speaker_keys(rows: Sequence[Utterance]) -> list[str]:
    """One speaker key per row: ``speaker_id`` (``language_gender`` when empty), prefixed with
    ``language:`` where the same id occurs in several languages."""
    raw = [u.speaker_id or f"{u.language}_{u.gender}" for u in rows]
    langs: dict[str, set[str]] = {}
    for key, u in zip(raw, rows):
        langs.setdefault(key, set()).add(u.language)
    return [key if len(langs[key]) == 1 else f"{u.language}:{key}" for key, u in zip(raw, rows)]


def read_rows(corpus: Corpus, split: str) -> list[Utterance]:
    """Usable rows of ``split``: status not ``error`` and some text."""
    columns = [c for c in COLUMNS if c in corpus.columns]
    rows = [u for batch in corpus.iter_batches(columns=columns) for u in batch
            if u.split == split and u.ok and utterance_text(u)]  # fmt: skip
    if not rows:
        raise ValueError(f"{corpus.root}: no usable {split!r} utterances with text")
    return rows


@dataclass
class TTSBatch:
    """Padded tensors: tokens ``(batch, tokens)``, mels ``(batch, frames, n_mels)``, lengths,
    language and speaker ids ``(batch,)``."""

    tokens: torch.Tensor
    token_lengths: torch.Tensor
    mels: torch.Tensor
    mel_lengths: torch.Tensor
    languages: torch.Tensor
    speakers: torch.Tensor

    def to(self, device: torch.device) -> TTSBatch:
        return TTSBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


class TTSDataset(Dataset):
    """Items ``(token ids, log-mel (frames, n_mels), language id, speaker id)``; ``None`` for
    audio that cannot be read (the collate function drops it)."""

    def __init__(
        self, corpus: Corpus, rows: Sequence[Utterance], tokenizer: GraphemeTokenizer,
        language_ids: dict[str, int], speaker_ids: dict[str, int], mel: MelConfig,
        max_seconds: float = 15.0, cache: bool = True,
    ) -> None:  # fmt: skip
        self.corpus, self.tokenizer, self.mel_config = corpus, tokenizer, mel
        self.mel = MelSpectrogram(mel)
        self.skipped: Counter[str] = Counter()
        self.items: list[tuple[Utterance, list[int], int, int]] = []
        self.frames: list[int] = []  # mel frames per item, for batches of similar length
        for utt, spk in zip(rows, speaker_keys(rows)):
            ids = tokenizer.encode(utterance_text(utt))
            frames = mel_frames(utt, mel)
            if utt.duration > max_seconds:
                self.skipped["too long"] += 1
            elif frames < len(ids):
                self.skipped["fewer frames than characters"] += 1
            elif utt.language not in language_ids or spk not in speaker_ids:
                self.skipped["unknown language or speaker"] += 1
            else:
                self.items.append((utt, ids, language_ids[utt.language], speaker_ids[spk]))
                self.frames.append(frames)
        if not self.items:
            raise ValueError(f"{corpus.root}: no utterance left to train on ({dict(self.skipped)})")
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.items)

    def log_mel(self, index: int) -> np.ndarray | None:
        """Log-mel ``(frames, n_mels)`` float32 of item ``index`` (None if unreadable)."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        utt = self.items[index][0]
        try:
            wave, _ = self.corpus.load_audio(utt, target_sr=self.mel_config.sample_rate)
        except AudioError:
            self.skipped["unreadable audio"] += 1
            return None
        with torch.no_grad():
            mel = self.mel(torch.from_numpy(wave)[None])[0].T.contiguous().numpy()
        if self._cache is not None:
            self._cache[index] = mel
        return mel

    def __getitem__(self, index: int) -> tuple | None:
        _, ids, lang, spk = self.items[index]
        mel = self.log_mel(index)
        return None if mel is None else (ids, mel, lang, spk)

    def mel_statistics(self, items: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Per-band mean and standard deviation ``(n_mels,)`` over up to ``items`` utterances."""
        rng = np.random.default_rng(seed)
        picks = rng.permutation(len(self))[:items]
        mels = [m for m in (self.log_mel(int(i)) for i in picks) if m is not None]
        if not mels:
            raise ValueError(f"{self.corpus.root}: no readable audio for mel statistics")
        frames = np.concatenate(mels, axis=0)
        return frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-2)


def collate(items: Sequence[tuple | None]) -> TTSBatch | None:
    """Pad a list of dataset items into a :class:`TTSBatch` (None when all were unreadable)."""
    items = [x for x in items if x is not None]
    if not items:
        return None
    n_tok = max(len(x[0]) for x in items)
    n_frames = max(len(x[1]) for x in items)
    tokens = torch.zeros(len(items), n_tok, dtype=torch.long)
    mels = torch.zeros(len(items), n_frames, items[0][1].shape[1])
    for i, (ids, mel, _, _) in enumerate(items):
        tokens[i, : len(ids)] = torch.tensor(ids)
        mels[i, : len(mel)] = torch.from_numpy(mel)
    return TTSBatch(tokens, torch.tensor([len(x[0]) for x in items]), mels,
                    torch.tensor([len(x[1]) for x in items]), torch.tensor([x[2] for x in items]),
                    torch.tensor([x[3] for x in items]))  # fmt: skip
