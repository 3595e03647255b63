"""Feature extractors: the log-mel (no weights) and frozen self-supervised speech encoders.

``MelFeatures`` is the project's one log-mel (``fleursr.nn.spectral``) laid out as frames;
``SSLFeatures`` (``fleursr.restore.ssl``) runs the first layers of a transformers speech encoder.
``build_features`` rebuilds either from its ``config()``.
"""

from __future__ import annotations

from typing import Any

import torch

from fleursr.nn.conformer import lengths_to_mask
from fleursr.nn.spectral import MelConfig, MelSpectrogram
from fleursr.restore.base import FeatureExtractor, check_batch
from fleursr.restore.ssl import DEFAULT_SSL_LAYER, DEFAULT_SSL_MODEL, SSLFeatures

__all__ = ["MelFeatures", "SSLFeatures", "build_features"]


class MelFeatures(FeatureExtractor):
    """The project's log-mel as features: ``(batch, frames, n_mels)``, no weights.

    Frames of a row of ``n`` samples: ``n // hop + 1`` (centered STFT); frames past a row's
    length are zero. The STFT reflects the signal at its ends, so in a padded batch the last
    ``n_fft // (2 * hop)`` or so valid frames of a shorter row see zeros instead of reflected
    audio and differ slightly from that row run alone; all earlier frames are identical.
    """

    def __init__(self, config: MelConfig | None = None) -> None:
        super().__init__()
        self.mel = MelSpectrogram(config or MelConfig())
        self.mel_config = self.mel.config
        self.sample_rate = self.mel_config.sample_rate
        self.hop_length = self.mel_config.hop_length
        self.dim = self.mel_config.n_mels

    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        waves, lengths = check_batch(waves, lengths)
        feats = self.mel(waves.float()).transpose(1, 2)
        frame_lengths = lengths // self.hop_length + 1
        mask = lengths_to_mask(frame_lengths, feats.shape[1])
        return feats * mask[..., None].to(feats.dtype), frame_lengths

    def num_frames(self, num_samples: int) -> int:
        return self.mel.num_frames(num_samples)

    def config(self) -> dict[str, Any]:
        return {"kind": "mel", **self.mel_config.to_dict()}


def build_features(config: dict[str, Any]) -> FeatureExtractor:
    """Rebuild a feature extractor from its ``config()`` (missing keys take defaults)."""
    settings = dict(config)
    kind = settings.pop("kind", None)
    if kind == "mel":
        return MelFeatures(MelConfig(**settings))
    if kind == "ssl":
        return SSLFeatures(
            model_id_or_path=settings.pop("model", DEFAULT_SSL_MODEL),
            layer=settings.pop("layer", DEFAULT_SSL_LAYER),
            sample_rate=settings.pop("sample_rate", 16000),
            dtype=settings.pop("dtype", None),
        )
    raise ValueError(f"unknown feature kind {kind!r}: expected 'mel' or 'ssl'")
