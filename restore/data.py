"""Training pairs for restoration: clean speech, degraded on the fly by ``fleursr.degrade``.

Each item is a random crop of a clean utterance, degraded with a seed derived from the run seed,
the epoch and the index, so every run sees the same sequence and a resumed run sees what an
uninterrupted one would. Degradation runs at the corpus' own rate (as the damage would have
happened), then the degraded input is resampled to the feature extractor's rate and the clean
target to the 24 kHz output rate (the degraded input too: a vocoder that starts from the input
recording gets it at its own rate). Each pair carries half the source's rate, the band its
target covers: the spectral loss ignores what lies above it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from fleursr.corpus.audio import AudioError, resample
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance
from fleursr.degrade import degrade, utterance_seed


@dataclass
class PairBatch:
    """A padded batch. ``degraded``/``clean_in``: ``(batch, samples)`` at the input rate;
    ``clean_out``/``degraded_out``: ``(batch, out_samples)`` at 24 kHz; ``lengths``/
    ``out_lengths``: ``(batch,)``; ``band_hz`` ``(batch,)``: half the clean source's own rate,
    the band its target really covers."""

    degraded: torch.Tensor
    clean_in: torch.Tensor
    clean_out: torch.Tensor
    lengths: torch.Tensor
    out_lengths: torch.Tensor
    degraded_out: torch.Tensor
    band_hz: torch.Tensor

    def to(self, device: torch.device | str) -> PairBatch:
        return PairBatch(*(t.to(device) for t in vars(self).values()))


class DegradedPairs(Dataset):
    """Clean utterances of a corpus split, cropped and degraded on the fly.

    Args:
        corpus_dir: a corpus of clean speech (``manifest.parquet``).
        input_sr: the feature extractor's rate; ``output_sr``: the vocoder's.
        segment_seconds: crop length (shorter utterances are used whole).
        preset: degradation chain (a preset name or a ``ChainConfig``/dict).
        length: items per epoch (default: the number of utterances).
        cache: keep decoded clean audio in memory (the embedded corpus fits easily).
        degraded_rate: pass every degraded crop through this rate (e.g. 16000, as FLEURS is
            recorded) when its source is sampled higher, so the model learns to restore the
            band above ``degraded_rate / 2`` from the clean target; ``None``: off.
    """

    def __init__(
        self,
        corpus_dir: str | os.PathLike,
        input_sr: int,
        output_sr: int = 24000,
        split: str | None = "train",
        segment_seconds: float = 2.0,
        preset: object = "default",
        seed: int = 0,
        length: int | None = None,
        cache: bool = True,
        degraded_rate: int | None = None,
    ) -> None:
        self.corpus = Corpus(corpus_dir)
        self.utts: list[Utterance] = [
            u for u in self.corpus if u.ok and (split is None or u.split == split)
        ]
        if not self.utts:
            raise ValueError(f"{corpus_dir}: no usable utterances in split {split!r}")
        self.input_sr, self.output_sr = input_sr, output_sr
        self.segment_seconds, self.preset, self.seed = segment_seconds, preset, seed
        self.length = length or len(self.utts)
        self.degraded_rate = degraded_rate
        self.epoch = 0
        self._cache: dict[str, tuple[np.ndarray, int]] | None = {} if cache else None

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _clean(self, utt: Utterance) -> tuple[np.ndarray, int]:
        if self._cache is not None and utt.id in self._cache:
            return self._cache[utt.id]
        wave, sr = self.corpus.load_audio(utt)
        if self._cache is not None:
            self._cache[utt.id] = (wave, sr)
        return wave, sr

    def __getitem__(self, index: int) -> dict[str, np.ndarray | float]:
        utt = self.utts[index % len(self.utts)]
        seed = utterance_seed(self.seed, f"{self.epoch}:{index}:{utt.id}")
        rng = np.random.default_rng(seed)
        try:
            wave, sr = self._clean(utt)
        except AudioError:  # an unreadable file never stops training: take a neighbour
            return self[(index + 1) % len(self)]
        seg = int(self.segment_seconds * sr)
        if len(wave) > seg:
            start = int(rng.integers(0, len(wave) - seg + 1))
            wave = wave[start : start + seg]
        degraded, _ = degrade(wave, sr, rng, config=self.preset)
        if self.degraded_rate and self.degraded_rate < sr:
            n = len(degraded)
            degraded = resample(resample(degraded, sr, self.degraded_rate), self.degraded_rate, sr)
            degraded = np.pad(degraded[:n], (0, max(0, n - len(degraded))))
        return {
            "degraded": resample(degraded, sr, self.input_sr),
            "clean_in": resample(wave, sr, self.input_sr),
            "clean_out": resample(wave, sr, self.output_sr),
            "degraded_out": resample(degraded, sr, self.output_sr),
            "band_hz": sr / 2,  # a 16 kHz source has nothing above 8 kHz to teach
        }


def _pad(waves: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(w) for w in waves])
    out = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        out[i, : len(w)] = torch.from_numpy(np.ascontiguousarray(w))
    return out, lengths


def collate_pairs(items: list[dict]) -> PairBatch:
    """Pad a list of ``DegradedPairs`` items into a :class:`PairBatch`."""
    for item in items:  # resampling may leave a pair a sample apart: trim to the shorter
        for a, b in (("degraded", "clean_in"), ("degraded_out", "clean_out")):
            m = min(len(item[a]), len(item[b]))
            item[a], item[b] = item[a][:m], item[b][:m]
    degraded, lengths = _pad([i["degraded"] for i in items])
    clean_in, _ = _pad([i["clean_in"] for i in items])
    clean_out, out_lengths = _pad([i["clean_out"] for i in items])
    degraded_out, _ = _pad([i["degraded_out"] for i in items])
    band = torch.tensor([float(i["band_hz"]) for i in items])
    return PairBatch(degraded, clean_in, clean_out, lengths, out_lengths, degraded_out, band)
