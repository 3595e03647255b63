"""TTS model settings and the three sizes: ``tiny`` (tests), ``embedded`` (CPU), ``full`` (GPU).

A size is a :class:`TTSConfig`; an experiment is a short override of one (a dict or a YAML
file: ``{"size": "embedded", "decoder_depth": 6}``), never a copied file. ``mel`` is the log-mel
the model predicts: it must be the conditioning of the vocoder that renders it, so each size
uses the mel of the restoration model of the same size (``fleursr.restore.config``: 100 bands for
``embedded`` and ``full``, 40 for ``tiny``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleursr.corpus.config import Config, resolve_size
from fleursr.nn.spectral import MelConfig


@dataclass
class TTSConfig(Config):
    dim: int = 192  # width of encoder, decoder and embeddings
    encoder_depth: int = 4  # Conformer blocks over text tokens
    decoder_depth: int = 4  # Conformer blocks over mel frames
    heads: int = 2
    ff_mult: int = 2
    kernel_size: int = 9
    dropout: float = 0.1
    duration_channels: int = 192  # duration predictor: convolutions over tokens
    duration_kernel: int = 3
    duration_layers: int = 2
    mel: dict[str, Any] = field(default_factory=lambda: MelConfig().to_dict())
    size: str = "custom"

    def mel_config(self) -> MelConfig:
        return MelConfig(**self.mel)

    def __post_init__(self) -> None:
        self.mel = MelConfig(**self.mel).to_dict()  # fills defaults, rejects unknown keys
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not divisible by heads {self.heads}")


def _sizes() -> dict[str, TTSConfig]:
    return {
        "tiny": TTSConfig(
            dim=32,
            encoder_depth=1,
            decoder_depth=1,
            heads=2,
            ff_mult=2,
            kernel_size=5,
            dropout=0.0,
            duration_channels=32,
            mel=MelConfig(n_mels=40).to_dict(),
            size="tiny",
        ),  # fmt: skip
        # About 2.2M parameters (4.4 MB shipped in float16, within the package's weight budget
        # beside the restorer and the ASR); trains on a CPU.
        "embedded": TTSConfig(dim=128, duration_channels=128, size="embedded"),
        "full": TTSConfig(
            dim=384,
            encoder_depth=6,
            decoder_depth=6,
            heads=6,
            ff_mult=4,
            kernel_size=15,
            duration_channels=256,
            size="full",
        ),  # fmt: skip
    }


SIZES = tuple(_sizes())


def tts_config(size_or_file: str | dict[str, Any] = "embedded") -> TTSConfig:
    """A size name, a dict of overrides (``size`` key picks the base) or a YAML file of them."""
    sizes = {name: cfg.to_dict() for name, cfg in _sizes().items()}
    return TTSConfig.from_dict(resolve_size(size_or_file, sizes, "TTS"))
