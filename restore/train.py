"""Training the restoration model, the Miipher recipe:

1. ``train_vocoder(..., vocoder_input="clean")``: WaveFit learns to render clean features;
2. ``train_cleaner``: the cleaner learns degraded features -> clean features;
3. ``train_vocoder(..., vocoder_input="cleaned")``: WaveFit is fine-tuned on the cleaner's
   output, so it learns to render what it will really be given.

Each stage reads a corpus of clean speech, degrades it on the fly, writes a complete Restorer
checkpoint (``config.json`` + ``model.safetensors``) into ``out`` and resumes from the
training state it finds there. Losses go to ``train_log.csv``; validation audio (degraded,
restored, clean) to ``val/step_NNNNNN/``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader
from tqdm import tqdm

from corpus.audio import write_audio
from corpus.nn import lengths_to_mask, resolve_device, seed_everything
from corpus.nn.checkpoint import (
    has_training_state,
    load_training_state,
    save_training_state,
    training_extra,
)
from corpus.nn.training import append_csv, endless
from restore.cleaner import cleaner_loss
from restore.config import restorer_config
from restore.data import DegradedPairs, PairBatch, collate_pairs
from restore.discriminators import (
    DiscriminatorConfig,
    WaveFitDiscriminator,
    discriminator_loss,
    generator_loss,
)
from restore.model import Restorer

DISC_NAME = "discriminator.safetensors"


@dataclass
class TrainConfig:
    corpus: str
    out: str
    model: Any = "embedded"  # size name, YAML file or dict of overrides (fresh start only)
    init: str | None = None  # start from this checkpoint directory instead
    steps: int = 1000
    batch_size: int = 8
    lr: float = 2e-4
    segment_seconds: float = 1.5
    preset: str = "default"
    seed: int = 0
    device: str = "auto"
    grad_clip: float = 5.0
    log_every: int = 10
    val_every: int = 250
    save_every: int = 250
    val_items: int = 3
    loader_workers: int = 0
    vocoder_input: str = "clean"  # "clean" (stage 1) or "cleaned" (stage 3)
    adversarial_from: int = 0  # vocoder: STFT loss only before this step
    extra: dict[str, Any] = field(default_factory=dict)


def load_or_build(cfg: TrainConfig, device: torch.device) -> Restorer:
    """The model to train: the checkpoint in ``out`` (resume), else ``init``, else fresh."""
    for source in (cfg.out, cfg.init):
        if source and (Path(source) / "model.safetensors").exists():
            return Restorer.from_pretrained(source).to(device)
    return Restorer(restorer_config(cfg.model).to_dict()).to(device)


def _validate(model: Restorer, data: DegradedPairs, out: Path, step: int, n: int) -> None:
    """Restore a few fixed dev crops and write degraded / restored / clean audio."""
    folder = out / "val" / f"step_{step:06d}"
    model.eval()
    for i in range(min(n, len(data))):
        item = data[i]
        restored, sr = model.restore(item["degraded"], data.input_sr)
        write_audio(folder / f"{i}_degraded.flac", item["degraded"], data.input_sr)
        write_audio(folder / f"{i}_restored.flac", restored, sr)
        write_audio(folder / f"{i}_clean.flac", item["clean_out"], data.output_sr)
    model.train()


class _Stage:
    """What differs between stages: which parameters train and how a batch gives losses."""

    def __init__(self, model: Restorer, cfg: TrainConfig, device: torch.device) -> None:
        self.model, self.cfg, self.device = model, cfg, device

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def step(self, batch: PairBatch, step: int) -> dict[str, float]:
        raise NotImplementedError

    def save_extra(self, out: Path) -> None:
        """Training-only weights (discriminators)."""

    def features(self, waves: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            feats, frames = self.model.features(waves, lengths)
        return feats, lengths_to_mask(frames, feats.shape[1])

    def _update(self, opt: torch.optim.Optimizer, loss: torch.Tensor, params: list) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        opt.step()

    def autocast(self) -> torch.autocast:
        cuda = self.device.type == "cuda"
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cuda)


class CleanerStage(_Stage):
    def __init__(self, model: Restorer, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(model, cfg, device)
        self.params = list(model.cleaner.parameters())
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr, betas=(0.9, 0.98))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"cleaner": self.opt}

    def step(self, batch: PairBatch, step: int) -> dict[str, float]:
        noisy, mask = self.features(batch.degraded, batch.lengths)
        clean, _ = self.features(batch.clean_in, batch.lengths)
        with self.autocast():
            pred = self.model.cleaner(noisy, mask)
        loss, parts = cleaner_loss(pred.float(), clean, mask)
        self._update(self.opt, loss, self.params)
        return parts


class VocoderStage(_Stage):
    def __init__(self, model: Restorer, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(model, cfg, device)
        size = model.cfg.vocoder.get("size", "embedded")
        self.disc = WaveFitDiscriminator(getattr(DiscriminatorConfig, size)()).to(device)
        disc_path = Path(cfg.out) / DISC_NAME
        if disc_path.exists():
            self.disc.load_state_dict(load_file(str(disc_path), device=str(device)))
        self.g_params = list(model.vocoder.parameters())
        betas = (0.8, 0.99)
        self.opt_g = torch.optim.AdamW(self.g_params, lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), lr=cfg.lr, betas=betas)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vocoder": self.opt_g, "discriminator": self.opt_d}

    def save_extra(self, out: Path) -> None:
        state = {k: v.detach().contiguous() for k, v in self.disc.state_dict().items()}
        save_file(state, str(out / DISC_NAME))

    def step(self, batch: PairBatch, step: int) -> dict[str, float]:
        if self.cfg.vocoder_input == "cleaned":
            feats, mask = self.features(batch.degraded, batch.lengths)
            with torch.no_grad():
                feats = self.model.cleaner(feats, mask)
        else:
            feats, mask = self.features(batch.clean_in, batch.lengths)
        target = batch.clean_out
        adversarial = step >= self.cfg.adversarial_from
        with self.autocast():
            fakes = [f.float() for f in self.model.vocoder(feats, mask, return_all=True)]
        parts: dict[str, float] = {"d_total": 0.0}  # same log columns before and after warm-up
        if adversarial:
            d_loss, d_parts = discriminator_loss(self.disc, [f.detach() for f in fakes], target)
            self._update(self.opt_d, d_loss, list(self.disc.parameters()))
            parts.update(d_parts)
        disc = self.disc if adversarial else None
        g_loss, g_parts = generator_loss(self.model.vocoder, disc, feats, mask, target, fakes)
        self._update(self.opt_g, g_loss, self.g_params)
        parts.update(g_parts)
        return parts


def _train(stage_cls: type[_Stage], cfg: TrainConfig, name: str, progress: bool) -> Path:
    if cfg.vocoder_input not in ("clean", "cleaned"):
        raise ValueError(f"vocoder_input must be 'clean' or 'cleaned', got {cfg.vocoder_input!r}")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    model = load_or_build(cfg, device).train()
    model.features.eval()
    stage = stage_cls(model, cfg, device)
    start = 0
    if has_training_state(out):
        found = training_extra(out).get("stage")
        if found != name:
            raise ValueError(f"{out}: holds a {found!r} run, not {name!r}: use another --out, "
                             "or --init to start from its weights")  # fmt: skip
        start, _ = load_training_state(out, stage.optimizers())
    kw = dict(input_sr=model.input_sample_rate, output_sr=model.sample_rate,
              segment_seconds=cfg.segment_seconds, preset=cfg.preset, seed=cfg.seed)  # fmt: skip
    data = DegradedPairs(cfg.corpus, split="train", **kw)
    try:
        val = DegradedPairs(cfg.corpus, split="dev", **{**kw, "seed": cfg.seed + 1})
    except ValueError:
        val = data
    loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate_pairs,
                        num_workers=cfg.loader_workers, drop_last=len(data) >= cfg.batch_size,
                        generator=torch.Generator().manual_seed(cfg.seed + start))  # fmt: skip
    batches = endless(loader, data, start_epoch=start // max(1, len(loader)))
    bar = tqdm(range(start, cfg.steps), desc=f"train {name}", unit="step", disable=not progress,
               initial=start, total=cfg.steps)  # fmt: skip
    t0 = time.perf_counter()
    for step in bar:
        parts = stage.step(next(batches).to(device), step)
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            row = {"step": done, "seconds": round(time.perf_counter() - t0, 2)}
            append_csv(out / "train_log.csv", row | {k: round(v, 5) for k, v in parts.items()})
            bar.set_postfix({k: f"{v:.3f}" for k, v in list(parts.items())[:3]})
        if done % cfg.save_every == 0 or done == cfg.steps:
            model.save_pretrained(out)
            stage.save_extra(out)
            save_training_state(out, done, stage.optimizers(),
                                 {"stage": name, "config": asdict(cfg)})  # fmt: skip
        if done % cfg.val_every == 0 or done == cfg.steps:
            _validate(model, val, out, done, cfg.val_items)
    return out


def train_cleaner(cfg: TrainConfig, progress: bool = True) -> Path:
    """Stage 2 of the recipe: train the feature cleaner; writes a checkpoint into ``cfg.out``."""
    return _train(CleanerStage, cfg, "cleaner", progress)


def train_vocoder(cfg: TrainConfig, progress: bool = True) -> Path:
    """Stages 1 and 3: train WaveFit on clean (or cleaned) features."""
    name = "vocoder" if cfg.vocoder_input == "clean" else "vocoder-finetune"
    return _train(VocoderStage, cfg, name, progress)
