"""Training the embedded ASR on a corpus' train split, with noise augmentation on the fly.

The vocabulary and the language list come from the train split (status not ``error``, a
non-empty normalized transcription). Each item is an utterance at 16 kHz, degraded by
``fleursr.degrade`` with probability ``augment_prob`` (the seed derives from the run seed, the
epoch and the index, so a resumed run sees what an uninterrupted one would), then SpecAugment
masks its log-mel. Training is CTC (blank 0) with AdamW, linear warm-up then cosine decay to
``min_lr_ratio * lr``, gradient clipping and bfloat16 autocast on CUDA.

``out`` receives a complete checkpoint (``config.json`` + ``model.safetensors``) and the
training state every ``save_every`` steps and at the end; a run finding a training state in
``out`` resumes from it. ``train_log.csv`` gets ``step, loss, lr, seconds, skipped, dev_cer``
(``dev_cer``: corpus CER of greedy transcriptions of up to ``eval_items`` clean dev utterances,
every ``eval_every`` steps and at the end). Audio that cannot be read is skipped and counted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from fleursr.corpus.audio import AudioError
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.record import Utterance
from fleursr.degrade import degrade, utterance_seed
from fleursr.nn.trainer import Trainer, TrainerSettings, warmup_cosine
from fleursr.quality.asr.embedded import (
    SAMPLE_RATE,
    WEIGHTS_NAME,
    EmbeddedASR,
    asr_config,
    ctc_feasible,
    pad_waves,
    text_to_chars,
    vocab_from_texts,
)
from fleursr.quality.cer import corpus_cer

STAGE = "embedded-asr"
LOG_FIELDS = ("step", "loss", "lr", "seconds", "skipped", "dev_cer")
_COLUMNS = ["id", "path", "language", "num_samples", "sampling_rate", "transcription",
            "raw_transcription", "split", "status", "audio"]  # fmt: skip


@dataclass
class ASRTrainConfig:
    """Settings of :func:`train_asr`.

    ``size``: ``"tiny"`` or ``"embedded"``, with ``model`` overriding single fields (fresh
    start only). ``init``: start from this checkpoint's weights, vocabulary and languages.
    ``augment``: a ``fleursr.degrade`` preset (or ``None``), applied with ``augment_prob``.
    ``max_seconds``: longer utterances are skipped (a CTC target cannot be cropped).
    ``lang_dropout``: share of items trained with the unknown-language embedding, so languages
    never seen in training still get a useful one.
    """

    corpus: str
    out: str
    size: str = "embedded"
    model: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    steps: int = 20000
    batch_size: int = 16
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 1000
    weight_decay: float = 0.01
    grad_clip: float = 5.0
    seed: int = 0
    augment: str | None = "default"
    augment_prob: float = 0.5
    spec_augment: bool = True
    lang_dropout: float = 0.1
    max_seconds: float = 20.0
    min_count: int = 1
    log_every: int = 50
    eval_every: int = 1000
    eval_items: int = 200
    save_every: int = 1000
    loader_workers: int = 0
    device: str = "auto"


def lr_at(step: int, cfg: ASRTrainConfig) -> float:
    """Learning rate of step ``step`` (0-based): warm-up, then cosine decay (``warmup_cosine``)."""
    return warmup_cosine(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio)


def _text(utt: Utterance) -> str:
    return utt.transcription or utt.raw_transcription or ""


def split_utterances(corpus: Corpus, split: str) -> list[Utterance]:
    """Usable utterances of a split: not failed, with a non-empty normalized transcription."""
    columns = [c for c in _COLUMNS if c in corpus.columns]
    return [
        u
        for batch in corpus.iter_batches(columns=columns)
        for u in batch
        if u.ok and u.split == split and text_to_chars(_text(u))
    ]


def spec_augment(
    feats: torch.Tensor, frames: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """SpecAugment on normalized log-mel ``(batch, frames, mels)``: two frequency masks up to 15
    bands, and one time mask up to 0.4 s per second of speech (at most 10). Masked values
    become 0, the utterance mean."""
    feats = feats.clone()
    b, _, mels = feats.shape

    def draw(high: int) -> int:
        return int(torch.randint(0, max(1, high), (1,), generator=generator))

    for i in range(b):
        t = int(frames[i])
        for _ in range(2):
            width = draw(16)
            start = draw(mels - width + 1)
            feats[i, :, start : start + width] = 0
        for _ in range(min(10, t // 100)):
            width = draw(min(41, t // 5 + 1))
            start = draw(t - width + 1)
            feats[i, start : start + width] = 0
    return feats


class ASRItems(Dataset):
    """Utterances of a split with their target ids, degraded on the fly.

    An item is ``None`` when its audio cannot be read or is longer than ``max_seconds``.
    """

    def __init__(
        self,
        corpus: Corpus,
        utts: list[Utterance],
        asr: EmbeddedASR,
        cfg: ASRTrainConfig,
    ) -> None:
        self.corpus, self.cfg = corpus, cfg
        self.items: list[tuple[Utterance, list[int], int]] = []
        for u in utts:
            if u.duration > cfg.max_seconds:
                continue
            targets = asr.encode_text(_text(u))
            if u.num_samples and not ctc_feasible(int(u.duration * SAMPLE_RATE), targets):
                continue
            self.items.append((u, targets, asr.language_id(u.language)))
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        utt, targets, lang = self.items[index]
        try:
            wave, _ = self.corpus.load_audio(utt, target_sr=SAMPLE_RATE)
        except AudioError as e:
            warnings.warn(f"skipping unreadable audio: {e}", stacklevel=1)
            return None
        if len(wave) > self.cfg.max_seconds * SAMPLE_RATE or not ctc_feasible(len(wave), targets):
            return None
        rng = np.random.default_rng(utterance_seed(self.cfg.seed, f"{self.epoch}:{utt.id}"))
        if self.cfg.augment and rng.random() < self.cfg.augment_prob:
            wave, _ = degrade(wave, SAMPLE_RATE, rng, config=self.cfg.augment)
        if rng.random() < self.cfg.lang_dropout:
            lang = 0
        return {"wave": wave, "targets": targets, "language": lang}


def collate_items(items: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Pad the readable items of a batch; ``skipped`` counts the others."""
    good = [i for i in items if i is not None]
    batch: dict[str, Any] = {"skipped": len(items) - len(good), "size": len(good)}
    if not good:
        return batch
    batch["waves"], batch["lengths"] = pad_waves([i["wave"] for i in good])
    targets, batch["target_lengths"] = pad_waves([np.asarray(i["targets"]) for i in good])
    batch["targets"] = targets.long()
    batch["languages"] = torch.tensor([i["language"] for i in good], dtype=torch.long)
    return batch


class _DevSet:
    """Up to ``n`` clean dev utterances, read once."""

    def __init__(self, corpus: Corpus, utts: list[Utterance], n: int) -> None:
        self.waves: list[np.ndarray] = []
        self.languages: list[str] = []
        self.texts: list[str] = []
        for u in utts:
            if len(self.waves) >= n:
                break
            try:
                wave, _ = corpus.load_audio(u, target_sr=SAMPLE_RATE)
            except AudioError:
                continue
            self.waves.append(wave)
            self.languages.append(u.language)
            self.texts.append(_text(u))

    def cer(self, asr: EmbeddedASR) -> float | None:
        if not self.waves:
            return None
        hyps = asr.transcribe(self.waves, self.languages, batch_size=16)
        return corpus_cer(zip(self.texts, hyps))


def _build(cfg: ASRTrainConfig, train: list[Utterance], device: torch.device) -> EmbeddedASR:
    """Resume from ``out``, else start from ``init``, else a fresh model sized by ``size``."""
    for source in (cfg.out, cfg.init):
        if source and (Path(source) / WEIGHTS_NAME).exists():
            return EmbeddedASR.from_pretrained(source, device=device)
    vocab = vocab_from_texts((_text(u) for u in train), cfg.min_count)
    languages = sorted({u.language for u in train})
    config = asr_config({"size": cfg.size, **cfg.model})
    return EmbeddedASR(config, vocab, languages, device=device)


class ASRTrainer(Trainer):
    """CTC on the train split; ``dev_cer`` every ``eval_every`` steps; ``loss`` is the mean over
    the steps since the last row, ``skipped`` the items left out meanwhile."""

    name, desc, log_fields = STAGE, "train asr", LOG_FIELDS
    collate = staticmethod(collate_items)

    def __init__(self, cfg: ASRTrainConfig) -> None:
        if not 0.0 <= cfg.augment_prob <= 1.0:
            raise ValueError(f"augment_prob {cfg.augment_prob} outside [0, 1]")
        super().__init__(TrainerSettings.of(cfg, val_every=cfg.eval_every), cfg)
        self.losses: list[float] = []
        self.skipped = 0

    def build(self) -> EmbeddedASR:
        cfg = self.config
        self.corpus = Corpus(cfg.corpus)
        self.train_utts = split_utterances(self.corpus, "train")
        if not self.train_utts:
            raise ValueError(f"{cfg.corpus}: no usable utterances with text in split 'train'")
        asr = _build(cfg, self.train_utts, self.device)
        asr.model.train()
        return asr

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        self.opt = torch.optim.AdamW(self.model.model.parameters(), lr=cfg.lr, betas=(0.9, 0.98),
                                     weight_decay=cfg.weight_decay)  # fmt: skip
        return {"asr": self.opt}

    def dataset(self) -> ASRItems:
        cfg = self.config
        data = ASRItems(self.corpus, self.train_utts, self.model, cfg)
        if not len(data):
            raise ValueError(f"{cfg.corpus}: no train utterance fits max_seconds={cfg.max_seconds}")
        self.dev = _DevSet(self.corpus, split_utterances(self.corpus, "dev"), cfg.eval_items)
        self.ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
        self.gen = torch.Generator().manual_seed(cfg.seed + self.start)  # SpecAugment's
        return data

    def fetch(self, batches: Any) -> dict[str, Any]:
        batch = next(batches)
        self.skipped += batch["skipped"]
        while not batch["size"]:  # every item of the batch was unreadable
            batch = next(batches)
            self.skipped += batch["skipped"]
        return batch

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        """``waves (batch, samples)`` -> log-mel, SpecAugment -> CTC over ``targets``."""
        model, device = self.model.model, self.device
        feats, frames = model.features(batch["waves"].to(device), batch["lengths"].to(device))
        if self.config.spec_augment:
            feats = spec_augment(feats, frames, self.gen)
        with self.autocast():
            logits, out_frames = model.encode(feats, frames, batch["languages"].to(device))
        log_probs = logits.float().log_softmax(-1).transpose(0, 1)
        loss = self.ctc(log_probs, batch["targets"].to(device), out_frames,
                        batch["target_lengths"].to(device))  # fmt: skip
        if torch.isfinite(loss):
            self.update(self.opt, loss, model.parameters())
            self.losses.append(loss.item())
        return {}

    def log_values(self, parts: dict[str, float]) -> dict[str, Any]:
        mean = float(np.mean(self.losses)) if self.losses else float("nan")
        values = {"loss": mean, "skipped": self.skipped}
        self.losses, self.skipped = [], 0
        return values

    def validate(self, step: int) -> dict[str, Any]:
        cer = self.dev.cer(self.model)
        self.model.model.train()
        return {"dev_cer": "" if cer is None else cer}

    def finish(self) -> None:
        self.model.model.eval()


def train_asr(cfg: ASRTrainConfig, progress: bool = True) -> Path:
    """Train (or resume training) the embedded ASR; returns the checkpoint directory ``out``."""
    return ASRTrainer(cfg).run(progress)
