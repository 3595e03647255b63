"""Rendering the acoustic model's log-mel: any mel-conditioned ``Vocoder`` (:class:`MelVocoder`),
or Griffin-Lim (no weights) until trained vocoder weights are at hand.

A vocoder renders a voice only when its ``mel_config`` equals the voice's, field for field;
otherwise :class:`VocoderMismatchError` says which fields differ. Both renderers take log-mels
``(frames, n_mels)`` and return float32 waves of ``frames * hop_length`` samples. Where a vocoder
comes from (the WaveFit of a restoration checkpoint) is decided above this package, in
``fleursr.jobs.vocoders``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import librosa
import numpy as np
import torch

from fleursr.nn import lengths_to_mask
from fleursr.nn.spectral import MelConfig, MelSpectrogram
from fleursr.nn.vocoder import Vocoder


class VocoderMismatchError(ValueError):
    """The vocoder is not conditioned on the log-mel the voice predicts."""


def check_mel_match(voice: MelConfig, vocoder: MelConfig | None, where: str) -> None:
    """Raise :class:`VocoderMismatchError` naming every field where the two configs differ."""
    if vocoder is None:
        raise VocoderMismatchError(
            f"{where}: this vocoder is conditioned on SSL features, not on a log-mel; use a "
            "restoration checkpoint whose features are the log-mel (kind 'mel', e.g. --model "
            "tiny/embedded)"
        )
    a, b = asdict(voice), asdict(vocoder)
    diffs = [f"{k}: voice {a[k]!r} vs vocoder {b[k]!r}" for k in a if a[k] != b[k]]
    if diffs:
        raise VocoderMismatchError(
            f"{where}: the vocoder's mel conditioning does not match the voice's "
            f"({'; '.join(diffs)}); "
            "train the voice with the same mel as the vocoder (the TTS size of the same name)"
        )


class MelVocoder:
    """Renders log-mels ``(frames, n_mels)`` with any :class:`~fleursr.nn.vocoder.Vocoder` whose
    ``mel_config`` is the voice's (WaveFit of a restoration checkpoint, for one). Each mel is
    rendered alone, from a random start drawn from ``seed`` alone: the same mel gives the same
    wave whatever else is in the call (measured before this was so: the batch's shared random
    start moved the English DNSMOS of the same sentences by ~0.1). On a CPU, one at a time costs
    nothing: a padded batch computes its padding too."""

    def __init__(
        self, vocoder: Vocoder, mel: MelConfig, seed: int = 0, where: str = "vocoder",
    ) -> None:  # fmt: skip
        check_mel_match(mel, vocoder.mel_config, where)
        self.vocoder = vocoder.eval()
        self.device = next(vocoder.parameters()).device
        self.seed = seed
        self.mel_config = mel
        self.sample_rate = vocoder.sample_rate
        self.hop_length = vocoder.hop_length

    @torch.inference_mode()
    def __call__(self, mels: Sequence[np.ndarray]) -> list[np.ndarray]:
        waves: list[np.ndarray] = []
        for m in mels:
            feats = torch.from_numpy(np.asarray(m, dtype=np.float32)).to(self.device)[None]
            mask = lengths_to_mask(torch.tensor([len(m)], device=self.device), len(m))
            generator = torch.Generator(device=self.device).manual_seed(self.seed)
            out = self.vocoder(feats, mask, generator=generator).float().cpu().numpy()
            waves.append(out[0, : len(m) * self.hop_length])
        return waves


class GriffinLimVocoder:
    """Phase reconstruction from the log-mel by Griffin-Lim (librosa); no weights, no training,
    audibly phasey: a stand-in to listen to and score the acoustic model before a vocoder is
    trained, never a quality claim."""

    def __init__(self, mel: MelConfig, iterations: int = 32, seed: int = 0) -> None:
        self.mel_config = mel
        self.sample_rate = mel.sample_rate
        self.hop_length = mel.hop_length
        self.iterations = iterations
        self.seed = seed
        # Linear magnitude from mel magnitude: the filterbank's pseudo-inverse, clipped at 0
        # (measured as close to librosa's non-negative least squares, ~100x faster).
        self.inverse = np.linalg.pinv(MelSpectrogram(mel).fb.numpy())

    def __call__(self, mels: Sequence[np.ndarray]) -> list[np.ndarray]:
        c, waves = self.mel_config, []
        for m in mels:
            magnitude = np.maximum(self.inverse @ np.exp(np.asarray(m, dtype=np.float32).T), 0)
            wave = librosa.griffinlim(
                magnitude, n_iter=self.iterations, hop_length=c.hop_length,
                win_length=c.win_length, n_fft=c.n_fft, random_state=self.seed,
            )  # fmt: skip
            n = len(m) * c.hop_length  # the WaveFit length convention
            waves.append(np.pad(wave, (0, max(0, n - len(wave))))[:n].astype(np.float32))
        return waves
