"""Training the acoustic model on a corpus' train split: multi-speaker, multi-language.

``train_tts`` builds the vocabulary, the language list and the speakers from the train split
(or takes them from the checkpoint it resumes), computes the corpus' per-band mel statistics,
and trains with AdamW (linear warm-up, then cosine decay), gradient clipping and bfloat16
autocast on CUDA. ``out`` receives a complete voice (``config.json`` + ``model.safetensors``)
and the training state (``fleursr.nn.checkpoint``) every ``save_every`` steps and at the end; a
run finding a training state in ``out`` resumes from it. ``train_log.csv`` gets ``step,
seconds, lr, loss, mel, prior, duration, total``.

The finished voice is calibrated (:func:`calibrate_durations`): a duration predictor fitted in
log frames speaks short (the mean of a log is below the log of the mean), so each language's
predicted speaking time on train-split sentences is set against the recordings', and the
voice multiplies its durations by the ratio.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fleursr.corpus.manifest import Corpus
from fleursr.nn.trainer import Trainer, TrainerSettings, warmup_cosine
from fleursr.tts.config import tts_config
from fleursr.tts.data import TTSDataset, mel_frames, read_rows, speaker_keys, utterance_text
from fleursr.tts.data import collate as collate_batch
from fleursr.tts.pretrained import CONFIG_NAME, TTS
from fleursr.tts.tokenizer import GraphemeTokenizer

STAGE = "tts"
LOG_FIELDS = ("step", "seconds", "lr", "loss", "mel", "prior", "duration", "total")


@dataclass
class TTSTrainConfig:
    """Settings of :func:`train_tts`. ``config``: a size name, a YAML file or a dict of
    overrides (fresh start only; a resumed run keeps its checkpoint's settings)."""

    data: str
    out: str
    config: Any = "embedded"
    steps: int = 20000
    batch_size: int = 16
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 500
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "auto"
    max_seconds: float = 15.0
    stats_items: int = 200
    log_every: int = 50
    save_every: int = 1000
    loader_workers: int = 0


def learning_rate(step: int, cfg: TTSTrainConfig) -> float:
    """Warm-up, then a cosine to ``min_lr_ratio * lr`` (``fleursr.nn.trainer.warmup_cosine``)."""
    return warmup_cosine(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio)


def build_voice(cfg: TTSTrainConfig, corpus: Corpus, device: torch.device) -> TTS:
    """The voice to train: the checkpoint in ``out`` (resume) or a fresh one for the corpus."""
    if (Path(cfg.out) / CONFIG_NAME).exists():
        return TTS.from_pretrained(cfg.out, device)
    rows = read_rows(corpus, "train")
    tokenizer = GraphemeTokenizer.from_texts(utterance_text(u) for u in rows)
    speakers = {key: u.language for key, u in zip(speaker_keys(rows), rows)}
    return TTS(tts_config(cfg.config), tokenizer.vocab, speakers, device)


def calibrate_durations(
    voice: TTS, corpus: Corpus, split: str = "train", per_language: int = 50, seed: int = 0,
    batch_size: int = 16, max_seconds: float = 15.0,
) -> dict[str, float]:  # fmt: skip
    """Each language's ratio of the recordings' frames to the voice's predicted frames (at
    scale 1) over up to ``per_language`` utterances of ``split`` no longer than
    ``max_seconds`` (a seeded pick), the speakers their own; sets ``voice.duration_scale`` to
    it and returns it. Languages or speakers the voice does not know are passed over.

    Each language's default speaker (``voice.default_speakers``) is set too: the one with the
    most utterances in ``split``, the best-trained voice of the language."""
    mel = voice.mel_config
    rows = read_rows(corpus, split)
    by_language: dict[str, list[tuple[str, str, int]]] = {}
    for u, key in zip(rows, speaker_keys(rows)):
        if u.language in voice.languages and key in voice.speakers and u.duration <= max_seconds:
            by_language.setdefault(u.language, []).append(
                (utterance_text(u), key, mel_frames(u, mel))
            )
    if not by_language:
        raise ValueError(f"{corpus.root}: no {split!r} utterance in a language and speaker of "
                         "the voice to calibrate its durations on")  # fmt: skip
    voice.default_speakers = {
        language: Counter(key for _, key, _ in items).most_common(1)[0][0]
        for language, items in sorted(by_language.items())
    }
    rng = np.random.default_rng(seed)
    scales = {}
    model = voice.model.eval()
    for language, items in sorted(by_language.items()):
        picked = [items[i] for i in sorted(rng.permutation(len(items))[:per_language])]
        predicted = recorded = 0
        for k in range(0, len(picked), batch_size):
            chunk = picked[k : k + batch_size]
            tokens, lengths, langs, spks = voice.batch_inputs(
                [t for t, _, _ in chunk], [language] * len(chunk), [s for _, s, _ in chunk]
            )
            with torch.no_grad():
                _, _, log_dur, mask = model.encode(tokens, lengths, langs, spks)
            predicted += int(model.predict_durations(log_dur, mask).sum())
            recorded += sum(f for _, _, f in chunk)
        scales[language] = round(recorded / predicted, 4)
    voice.duration_scale = scales
    return scales


class TTSTrainer(Trainer):
    """The acoustic model's loss (mel, prior, duration) on batches of the train split."""

    name, desc, log_fields = STAGE, "train tts", LOG_FIELDS
    collate = staticmethod(collate_batch)

    def __init__(self, cfg: TTSTrainConfig) -> None:
        super().__init__(TrainerSettings.of(cfg), cfg)

    def build(self) -> TTS:
        """The voice, and its dataset (a fresh voice takes its mel statistics from it)."""
        cfg = self.config
        corpus = Corpus(cfg.data)
        fresh = not (self.out / CONFIG_NAME).exists()
        voice = build_voice(cfg, corpus, self.device)
        rows = read_rows(corpus, "train")
        language_ids = {code: voice.language_id(code) for code in voice.languages}
        speaker_ids = {spk: voice.speaker_id(spk, lang) for spk, lang in voice.speakers.items()}
        self.data = TTSDataset(corpus, rows, voice.tokenizer, language_ids, speaker_ids,
                               voice.mel_config, cfg.max_seconds,
                               cache=cfg.loader_workers == 0)  # fmt: skip
        model = voice.model.train()
        if fresh:
            mean, std = self.data.mel_statistics(cfg.stats_items, cfg.seed)
            model.mel_mean.copy_(torch.from_numpy(mean))
            model.mel_std.copy_(torch.from_numpy(std))
        return voice

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        self.opt = torch.optim.AdamW(self.model.model.parameters(), lr=cfg.lr, betas=(0.9, 0.98),
                                     weight_decay=cfg.weight_decay)  # fmt: skip
        return {STAGE: self.opt}

    def dataset(self) -> TTSDataset:
        return self.data

    def item_lengths(self) -> list[int]:
        """Mel frames per item: the decoder attends over frames, so batches of similar length
        (measured: attention was half of a step at batch 16 of random lengths)."""
        return self.data.frames

    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """``tokens (batch, tokens)`` and ``mels (batch, frames, n_mels)`` -> the losses."""
        model = self.model.model
        with self.autocast():
            losses = model(batch.tokens, batch.token_lengths, batch.mels, batch.mel_lengths,
                           batch.languages, batch.speakers)  # fmt: skip
        self.update(self.opt, losses["loss"], model.parameters())
        return {k: float(losses[k].detach()) for k in LOG_FIELDS[3:]}

    def foreign_state(self, found: Any) -> str:
        return f"{self.out}: holds a {found!r} training state, not a TTS run"

    def finish(self) -> None:
        """The calibrated voice (:func:`calibrate_durations`); the report of what was left
        out."""
        voice, out = self.model, self.out
        cfg = self.config
        calibrate_durations(voice, Corpus(cfg.data), seed=cfg.seed, max_seconds=cfg.max_seconds)
        voice.save_pretrained(out)
        if self.data.skipped or voice.tokenizer.unknown:
            (out / "data_report.txt").write_text(
                f"left out: {dict(self.data.skipped)}\n{voice.tokenizer.unknown_report()}\n",
                encoding="utf-8",
            )
        voice.model.eval()


def train_tts(cfg: TTSTrainConfig, progress: bool = True) -> Path:
    """Train (or resume) a voice on ``cfg.data``'s train split; returns ``cfg.out``."""
    return TTSTrainer(cfg).run(progress)
