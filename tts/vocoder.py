"""Mel vocoders that render the acoustic model's log-mel: WaveFit from a restoration checkpoint,
or Griffin-Lim (no weights) until trained vocoder weights are at hand.

The WaveFit vocoder of a ``Restorer`` checkpoint (``restore.model``) is conditioned on the
project's log-mel when the checkpoint's features are ``MelFeatures`` at 24 kHz; its
``MelConfig`` must equal the voice's, field for field, or :class:`VocoderMismatchError` says
which fields differ. Both vocoders take log-mels ``(frames, n_mels)`` and return float32
waves of ``frames * hop_length`` samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import torch

from corpus.nn import lengths_to_mask
from corpus.nn.spectral import MelConfig

GRIFFIN_LIM = "griffin-lim"
AUTO = "auto"


class VocoderMismatchError(ValueError):
    """The vocoder is not conditioned on the log-mel the voice predicts."""


def check_mel_match(voice: MelConfig, vocoder: MelConfig | None, where: str) -> None:
    """Raise :class:`VocoderMismatchError` naming every field where the two configs differ."""
    if vocoder is None:
        raise VocoderMismatchError(
            f"{where}: this vocoder is conditioned on SSL features, not on a log-mel; use a "
            "checkpoint whose features are the log-mel (kind 'mel', e.g. --model tiny/embedded)"
        )
    a, b = asdict(voice), asdict(vocoder)
    diffs = [f"{k}: voice {a[k]!r} vs vocoder {b[k]!r}" for k in a if a[k] != b[k]]
    if diffs:
        raise VocoderMismatchError(
            f"{where}: the vocoder's mel conditioning does not match the voice's "
            f"({'; '.join(diffs)}); "
            "train the voice with the same mel as the vocoder (the TTS size of the same name)"
        )


class WaveFitMelVocoder:
    """The WaveFit vocoder of a restoration checkpoint directory (or hub id)."""

    def __init__(
        self, checkpoint: str, mel: MelConfig, device: str | torch.device = "cpu",
        batch_size: int = 8,
    ) -> None:  # fmt: skip
        from restore.model import Restorer

        restorer = Restorer.from_pretrained(checkpoint)
        wavefit = restorer.vocoder
        check_mel_match(mel, wavefit.config.mel if wavefit.config.gain == "mel" else None,
                        str(checkpoint))  # fmt: skip
        self.vocoder = wavefit.to(device).eval()
        self.device = torch.device(device)
        self.seed = restorer.cfg.seed
        self.mel_config = mel
        self.sample_rate = wavefit.sample_rate
        self.hop_length = wavefit.hop_length
        self.batch_size = batch_size

    @torch.inference_mode()
    def __call__(self, mels: Sequence[np.ndarray]) -> list[np.ndarray]:
        waves: list[np.ndarray] = []
        for b in range(0, len(mels), self.batch_size):
            group = mels[b : b + self.batch_size]
            frames = torch.tensor([len(m) for m in group], device=self.device)
            feats = torch.zeros(
                len(group), int(frames.max()), group[0].shape[1], device=self.device
            )
            for i, m in enumerate(group):
                feats[i, : len(m)] = torch.from_numpy(np.asarray(m, dtype=np.float32))
            generator = torch.Generator(device=self.device).manual_seed(self.seed + b)
            mask = lengths_to_mask(frames, feats.shape[1])
            out = self.vocoder(feats, mask, generator=generator).float().cpu().numpy()
            waves += [out[i, : int(n) * self.hop_length] for i, n in enumerate(frames.cpu())]
        return waves


class GriffinLimVocoder:
    """Phase reconstruction from the log-mel by Griffin-Lim (librosa); no weights, no training,
    audibly phasey: a stand-in to listen to and score the acoustic model before a vocoder is
    trained, never a quality claim."""

    def __init__(self, mel: MelConfig, iterations: int = 32, seed: int = 0) -> None:
        from corpus.nn.spectral import MelSpectrogram

        self.mel_config = mel
        self.sample_rate = mel.sample_rate
        self.hop_length = mel.hop_length
        self.iterations = iterations
        self.seed = seed
        # Linear magnitude from mel magnitude: the filterbank's pseudo-inverse, clipped at 0
        # (measured as close to librosa's non-negative least squares, ~100x faster).
        self.inverse = np.linalg.pinv(MelSpectrogram(mel).fb.numpy())

    def __call__(self, mels: Sequence[np.ndarray]) -> list[np.ndarray]:
        import librosa

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


def load_vocoder(
    spec: str | None, mel: MelConfig, device: str | torch.device = "cpu"
) -> WaveFitMelVocoder | GriffinLimVocoder:
    """``None`` or ``"griffin-lim"`` -> :class:`GriffinLimVocoder`; ``"auto"`` -> the shipped
    restorer's WaveFit where it renders ``mel``, else Griffin-Lim; ``"embedded"`` -> the shipped
    restorer's WaveFit; anything else is a restoration checkpoint (directory or hub id) ->
    :class:`WaveFitMelVocoder`."""
    from restore.apply import PACKAGED

    shipped = PACKAGED / "embedded"
    if spec == AUTO:
        if not (shipped / "model.safetensors").exists():
            return GriffinLimVocoder(mel)
        try:
            return WaveFitMelVocoder(str(shipped), mel, device)
        except VocoderMismatchError:
            return GriffinLimVocoder(mel)
    if spec is None or spec == GRIFFIN_LIM:
        return GriffinLimVocoder(mel)
    if spec == "embedded":
        if not (shipped / "model.safetensors").exists():
            raise FileNotFoundError(
                "this installation ships no embedded restorer (its WaveFit is the vocoder): "
                "pass --vocoder DIR or griffin-lim"
            )
        spec = str(shipped)
    return WaveFitMelVocoder(spec, mel, device)
