"""Feature cleaners: predict clean features from degraded ones.

``ConformerCleaner`` is Miipher's feature cleaner without text or speaker conditioning (as
FLEURS-R used it): input norm and projection, a Conformer stack, an output projection added to
the input (the network predicts a correction). Trained with L1 + L2 + spectral convergence
between predicted and clean features (Miipher).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fleursr.corpus.config import Config
from fleursr.nn import ConformerStack
from fleursr.restore.base import FeatureCleaner


@dataclass
class CleanerConfig(Config):
    kind: str = "conformer"
    model_dim: int = 256
    depth: int = 4
    heads: int = 4
    ff_mult: int = 4
    kernel_size: int = 15
    dropout: float = 0.1


class ConformerCleaner(FeatureCleaner):
    """``(batch, frames, dim)`` degraded features -> clean features of the same shape."""

    def __init__(self, dim: int, config: CleanerConfig) -> None:
        super().__init__()
        self.dim = dim
        self.inp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, config.model_dim))
        self.stack = ConformerStack(
            config.model_dim, config.depth, config.heads, config.ff_mult, config.kernel_size,
            config.dropout,
        )  # fmt: skip
        self.out = nn.Linear(config.model_dim, dim)
        nn.init.zeros_(self.out.weight)  # starts as the identity: cleaned == degraded
        nn.init.zeros_(self.out.bias)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = features + self.out(self.stack(self.inp(features), mask))
        return y if mask is None else y * mask[..., None]


def build_cleaner(dim: int, config: CleanerConfig) -> FeatureCleaner:
    if config.kind == "conformer":
        return ConformerCleaner(dim, config)
    raise ValueError(f"unknown cleaner kind {config.kind!r}; available: 'conformer'")


def cleaner_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    dims: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Miipher's loss: L1 + L2 + spectral convergence, over valid frames.

    ``pred``, ``target``: ``(batch, frames, dim)``; ``mask``: ``(batch, frames)``; ``dims``
    ``(batch, dim)``: the feature dimensions each item's target really has (log-mel bands below
    half its clean source's rate: a 16 kHz recording says nothing of the band above 8 kHz, and
    learning its floor there would teach the cleaner to empty that band for every input).
    Spectral convergence is ``||target - pred||_F / ||target||_F`` per utterance, averaged.
    """
    if mask is None:
        mask = torch.ones(pred.shape[:2], dtype=torch.bool, device=pred.device)
    m = mask[..., None].to(pred.dtype)
    if dims is not None:
        m = m * dims[:, None, :].to(pred.dtype)
    n = m.sum().clamp_min(1.0) if dims is not None else (m.sum() * pred.shape[-1]).clamp_min(1.0)
    diff = (pred - target) * m
    l1 = diff.abs().sum() / n
    l2 = diff.pow(2).sum() / n
    # + eps inside the root: an untouched item (the simulator leaves a share clean) fed to an
    # untrained cleaner (zero correction) gives diff == 0, where sqrt's gradient is infinite
    sc = (
        diff.pow(2).sum(dim=(1, 2)).add(1e-12).sqrt()
        / (target * m).pow(2).sum(dim=(1, 2)).sqrt().clamp_min(1e-6)
    ).mean()
    total = l1 + l2 + sc
    return total, {"l1": l1.item(), "l2": l2.item(), "sc": sc.item(), "total": total.item()}
