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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from fleursr.corpus.audio import write_audio
from fleursr.nn import lengths_to_mask
from fleursr.nn.trainer import Trainer, TrainerSettings, autocast, clipped_step
from fleursr.restore.cleaner import cleaner_loss
from fleursr.restore.config import restorer_config
from fleursr.restore.data import DegradedPairs, PairBatch, collate_pairs
from fleursr.restore.discriminators import PRESETS as DISCRIMINATOR_PRESETS
from fleursr.restore.discriminators import (
    DiscriminatorConfig,
    WaveFitDiscriminator,
    discriminator_loss,
    generator_loss,
)
from fleursr.restore.features import MelFeatures
from fleursr.restore.model import Restorer

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
    # vocoder: the STFT loss ignores bins above half each clean source's own rate (a 16 kHz
    # corpus never shows what lies above 8 kHz); None: only for a vocoder that starts from the
    # degraded input (start="degraded"), which would otherwise learn to remove high bands.
    # cleaner: the same for log-mel bands (None: on for log-mel features, off for SSL ones)
    band_limited_loss: bool | None = None
    discriminator: str | None = None  # vocoder: a DiscriminatorConfig preset; None: its size
    adversarial_on: str = "all"  # vocoder: "all" WaveFit steps judged (the paper) or "last"
    degraded_rate: int | None = None  # DegradedPairs: degraded crops pass through this rate
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
        clipped_step(opt, loss, params, self.cfg.grad_clip)


class CleanerStage(_Stage):
    def __init__(self, model: Restorer, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(model, cfg, device)
        self.params = list(model.cleaner.parameters())
        self.opt = torch.optim.AdamW(self.params, lr=cfg.lr, betas=(0.9, 0.98))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"cleaner": self.opt}

    def target_bands(self, batch: PairBatch) -> torch.Tensor | None:
        """The log-mel bands each clean target covers (``cleaner_loss``'s ``dims``)."""
        features = self.model.features
        if not isinstance(features, MelFeatures) or self.cfg.band_limited_loss is False:
            return None
        return features.mel.bands_below(batch.band_hz)

    def step(self, batch: PairBatch, step: int) -> dict[str, float]:
        noisy, mask = self.features(batch.degraded, batch.lengths)
        clean, _ = self.features(batch.clean_in, batch.lengths)
        with autocast(self.device):
            pred = self.model.cleaner(noisy, mask)
        loss, parts = cleaner_loss(pred.float(), clean, mask, self.target_bands(batch))
        self._update(self.opt, loss, self.params)
        return parts


class VocoderStage(_Stage):
    def __init__(self, model: Restorer, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(model, cfg, device)
        preset = cfg.discriminator or model.cfg.vocoder.get("size", "embedded")
        if preset not in DISCRIMINATOR_PRESETS:
            raise ValueError(f"discriminator must be one of {DISCRIMINATOR_PRESETS}: {preset!r}")
        if cfg.adversarial_on not in ("all", "last"):
            raise ValueError(f"adversarial_on must be 'all' or 'last', got {cfg.adversarial_on!r}")
        self.disc = WaveFitDiscriminator(getattr(DiscriminatorConfig, preset)()).to(device)
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
        target, vocoder = batch.clean_out, self.model.vocoder
        reference = batch.degraded_out if vocoder.uses_reference else None
        band = self.cfg.band_limited_loss
        band_hz = batch.band_hz if (vocoder.uses_reference if band is None else band) else None
        adversarial = step >= self.cfg.adversarial_from
        with autocast(self.device):
            outs = vocoder(feats, mask, return_all=True, reference=reference)
            fakes = [f.float() for f in outs]
        parts: dict[str, float] = {"d_total": 0.0}  # same log columns before and after warm-up
        judged = fakes[-1:] if self.cfg.adversarial_on == "last" else fakes
        if adversarial:
            d_loss, d_parts = discriminator_loss(self.disc, [f.detach() for f in judged], target)
            self._update(self.opt_d, d_loss, list(self.disc.parameters()))
            parts.update(d_parts)
        disc = self.disc if adversarial else None
        g_loss, g_parts = generator_loss(vocoder, disc, feats, mask, target, fakes,
                                         band_hz=band_hz, judged=len(judged))  # fmt: skip
        self._update(self.opt_g, g_loss, self.g_params)
        parts.update(g_parts)
        return parts


class RestoreTrainer(Trainer):
    """One stage of the recipe: the shared loop around a :class:`_Stage` named ``name``. Items
    are crops of the train split, degraded on the fly; validation restores ``val_items`` dev
    crops (the train split's when there is no dev split)."""

    collate = staticmethod(collate_pairs)

    def __init__(self, cfg: TrainConfig, stage_cls: type[_Stage], name: str) -> None:
        if cfg.vocoder_input not in ("clean", "cleaned"):
            raise ValueError(
                f"vocoder_input must be 'clean' or 'cleaned', got {cfg.vocoder_input!r}"
            )
        super().__init__(TrainerSettings.of(cfg), cfg)
        self.stage_cls, self.name, self.desc = stage_cls, name, f"train {name}"

    def build(self) -> Restorer:
        model = load_or_build(self.config, self.device).train()
        model.features.eval()
        self.stage = self.stage_cls(model, self.config, self.device)
        return model

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.stage.optimizers()

    def dataset(self) -> DegradedPairs:
        cfg, model = self.config, self.model
        kw = dict(input_sr=model.input_sample_rate, output_sr=model.sample_rate, seed=cfg.seed,
                  segment_seconds=cfg.segment_seconds, preset=cfg.preset,
                  degraded_rate=cfg.degraded_rate)  # fmt: skip
        data = DegradedPairs(cfg.corpus, split="train", **kw)
        try:
            self.val = DegradedPairs(cfg.corpus, split="dev", **{**kw, "seed": cfg.seed + 1})
        except ValueError:
            self.val = data
        return data

    def train_step(self, batch: PairBatch, step: int) -> dict[str, float]:
        return self.stage.step(batch, step)

    def validate(self, step: int) -> None:
        _validate(self.model, self.val, self.out, step, self.config.val_items)

    def save(self, out: Path) -> None:
        super().save(out)
        self.stage.save_extra(out)

    def foreign_state(self, found: Any) -> str:
        return (f"{self.out}: holds a {found!r} run, not {self.name!r}: use another --out, "
                "or --init to start from its weights")  # fmt: skip


def train_cleaner(cfg: TrainConfig, progress: bool = True) -> Path:
    """Stage 2 of the recipe: train the feature cleaner; writes a checkpoint into ``cfg.out``."""
    return RestoreTrainer(cfg, CleanerStage, "cleaner").run(progress)


def train_vocoder(cfg: TrainConfig, progress: bool = True) -> Path:
    """Stages 1 and 3: train WaveFit on clean (or cleaned) features."""
    name = "vocoder" if cfg.vocoder_input == "clean" else "vocoder-finetune"
    return RestoreTrainer(cfg, VocoderStage, name).run(progress)
