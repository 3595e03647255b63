"""Restorer settings and the three sizes: ``tiny`` (tests), ``embedded`` (CPU), ``full`` (GPU).

A size is a ``RestorerConfig``; an experiment is a short override of one (a dict or a YAML file:
``{"size": "embedded", "cleaner": {"depth": 6}}``), never a copied file. The vocoder's feature
width, hop and gain mode are derived from the feature extractor, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleursr.corpus.config import Config, resolve_size
from fleursr.restore.cleaner import CleanerConfig


@dataclass
class RestorerConfig(Config):
    features: dict[str, Any] = field(default_factory=lambda: {"kind": "mel"})
    cleaner: CleanerConfig = field(default_factory=CleanerConfig)
    # WaveFit settings: ``size`` picks a preset, other keys override it; feature width, hop
    # and gain mode are filled in from the features.
    vocoder: dict[str, Any] = field(default_factory=lambda: {"size": "embedded"})
    window_seconds: float = 20.0  # longer input is restored in overlapping windows
    overlap_seconds: float = 0.5  # cross-fade length between windows
    window_batch: int = 4  # windows restored together (memory ~ window_batch x window)
    seed: int = 0  # WaveFit's initial noise: the same input always gives the same output
    half_precision: bool = True  # bf16 autocast on CUDA
    # input sampled higher first passes through this rate (16000: the engine trained on inputs
    # band-limited as FLEURS is, and rebuilds the band above from the cleaned mel); None: off
    input_band_rate: int | None = None
    # the band above input_band_rate / 2 predicted from the cleaned mel below it and written
    # after WaveFit (restore/band.py; ``fleursr train band`` fits it); None: WaveFit's own
    band_extension: dict[str, Any] | None = None
    conceal: bool = False  # lost packets (runs of zeros) interpolated first (restore/conceal.py)
    size: str = "custom"


def _sizes() -> dict[str, RestorerConfig]:
    return {
        "tiny": RestorerConfig(
            features={"kind": "mel", "n_mels": 40},
            cleaner=CleanerConfig(
                model_dim=32, depth=1, heads=2, ff_mult=2, kernel_size=7, dropout=0.0
            ),  # fmt: skip
            vocoder={"size": "tiny", "steps": 2},
            window_seconds=2.0,
            overlap_seconds=0.25,
            size="tiny",
        ),  # fmt: skip
        "embedded": RestorerConfig(
            features={"kind": "mel"},
            # Sized for >= 50x real time on 2 CPU cores (benchmarks/restore_speed.py): WaveFit
            # with 3 steps (the paper's WaveFit-3) and a lean feed-forward in the cleaner.
            cleaner=CleanerConfig(model_dim=192, depth=4, heads=4, ff_mult=2, kernel_size=15),
            vocoder={"size": "embedded", "steps": 3},
            size="embedded",
        ),
        "full": RestorerConfig(
            features={"kind": "ssl", "model": "facebook/w2v-bert-2.0", "layer": 8},
            cleaner=CleanerConfig(model_dim=512, depth=8, heads=8, kernel_size=31),
            vocoder={"size": "full", "steps": 5},
            size="full",
        ),
    }


SIZES = tuple(_sizes())


def restorer_config(size_or_file: str | dict[str, Any] = "embedded") -> RestorerConfig:
    """A size name, a dict of overrides (``size`` key picks the base) or a YAML file of them."""
    sizes = {name: cfg.to_dict() for name, cfg in _sizes().items()}
    return RestorerConfig.from_dict(resolve_size(size_or_file, sizes, "restorer"))
