"""Training the acoustic model on a corpus' train split: multi-speaker, multi-language.

``train_tts`` builds the vocabulary, the language list and the speakers from the train split
(or takes them from the checkpoint it resumes), computes the corpus' per-band mel statistics,
and trains with AdamW (linear warm-up, then cosine decay), gradient clipping and bfloat16
autocast on CUDA. ``out`` receives a complete voice (``config.json`` + ``model.safetensors``)
and the training state (``corpus.nn.checkpoint``) every ``save_every`` steps and at the end; a
run finding a training state in ``out`` resumes from it. ``train_log.csv`` gets ``step,
seconds, lr, loss, mel, prior, duration``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from corpus.manifest import Corpus
from corpus.nn import resolve_device, seed_everything
from corpus.nn.checkpoint import (
    has_training_state,
    load_training_state,
    save_training_state,
    training_extra,
)
from corpus.nn.training import append_csv, endless, warmup_cosine
from tts.config import tts_config
from tts.data import TTSDataset, collate, read_rows, speaker_keys, utterance_text
from tts.pretrained import CONFIG_NAME, TTS
from tts.tokenizer import GraphemeTokenizer

STAGE = "tts"
LOG_NAME = "train_log.csv"
LOG_FIELDS = ("step", "seconds", "lr", "loss", "mel", "prior", "duration")


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
    """Warm-up, then a cosine to ``min_lr_ratio * lr`` (``corpus.nn.training.warmup_cosine``)."""
    return warmup_cosine(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio)


def build_voice(cfg: TTSTrainConfig, corpus: Corpus, device: torch.device) -> TTS:
    """The voice to train: the checkpoint in ``out`` (resume) or a fresh one for the corpus."""
    if (Path(cfg.out) / CONFIG_NAME).exists():
        return TTS.from_pretrained(cfg.out, device)
    rows = read_rows(corpus, "train")
    tokenizer = GraphemeTokenizer.from_texts(utterance_text(u) for u in rows)
    speakers = {key: u.language for key, u in zip(speaker_keys(rows), rows)}
    return TTS(tts_config(cfg.config), tokenizer.vocab, speakers, device)


def train_tts(cfg: TTSTrainConfig, progress: bool = True) -> Path:
    """Train (or resume) a voice on ``cfg.data``'s train split; returns ``cfg.out``."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    corpus = Corpus(cfg.data)
    fresh = not (out / CONFIG_NAME).exists()
    voice = build_voice(cfg, corpus, device)
    rows = read_rows(corpus, "train")
    language_ids = {code: voice.language_id(code) for code in voice.languages}
    speaker_ids = {spk: voice.speaker_id(spk, lang) for spk, lang in voice.speakers.items()}
    data = TTSDataset(corpus, rows, voice.tokenizer, language_ids, speaker_ids, voice.mel_config,
                      cfg.max_seconds, cache=cfg.loader_workers == 0)  # fmt: skip
    model = voice.model.train()
    if fresh:
        mean, std = data.mel_statistics(cfg.stats_items, cfg.seed)
        model.mel_mean.copy_(torch.from_numpy(mean))
        model.mel_std.copy_(torch.from_numpy(std))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98),
                            weight_decay=cfg.weight_decay)  # fmt: skip
    start = 0
    if has_training_state(out):
        found = training_extra(out).get("stage")
        if found != STAGE:
            raise ValueError(f"{out}: holds a {found!r} training state, not a TTS run")
        start, _ = load_training_state(out, {STAGE: opt})
    loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate,
                        num_workers=cfg.loader_workers, drop_last=len(data) > cfg.batch_size,
                        generator=torch.Generator().manual_seed(cfg.seed + start))  # fmt: skip
    batches = endless(loader)  # a resumed run reshuffles from a generator seeded with its step
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    bar = tqdm(range(start, cfg.steps), desc="train tts", unit="step", disable=not progress,
               initial=start, total=cfg.steps)  # fmt: skip
    t0 = time.perf_counter()
    for step in bar:
        batch = next(batches).to(device)
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, cfg)
        with autocast:
            losses = model(batch.tokens, batch.token_lengths, batch.mels, batch.mel_lengths,
                           batch.languages, batch.speakers)  # fmt: skip
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            parts = {k: round(float(losses[k].detach()), 5) for k in LOG_FIELDS[3:]}
            row = {"step": done, "seconds": round(time.perf_counter() - t0, 2),
                   "lr": f"{learning_rate(step, cfg):.3g}", **parts}  # fmt: skip
            append_csv(out / LOG_NAME, row, LOG_FIELDS)
            bar.set_postfix({k: f"{v:.3f}" for k, v in parts.items()})
        if done % cfg.save_every == 0 or done == cfg.steps:
            voice.save_pretrained(out)
            save_training_state(out, done, {STAGE: opt}, {"stage": STAGE, "config": asdict(cfg)})
    if start >= cfg.steps and not (out / "model.safetensors").exists():
        voice.save_pretrained(out)
    if data.skipped or voice.tokenizer.unknown:
        (out / "data_report.txt").write_text(
            f"left out: {dict(data.skipped)}\n{voice.tokenizer.unknown_report()}\n",
            encoding="utf-8",
        )
    voice.model.eval()
    return out
