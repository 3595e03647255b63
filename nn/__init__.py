"""The shared neural code of restoration, ASR and TTS: Conformer blocks, STFT and log-mel, the
vocoder role, the checkpoint mixin (``pretrained``), training state (``checkpoint``), the trainer
base, device and seeding. It imports only the data model (``fleursr.corpus``) beneath it.
"""

from fleursr.nn.conformer import ConformerBlock, ConformerStack, lengths_to_mask
from fleursr.nn.runtime import resolve_device, seed_everything
from fleursr.nn.spectral import MelConfig, MelSpectrogram, mel_power, mel_stft, stft_magnitude
from fleursr.nn.trainer import Trainer, TrainerSettings
from fleursr.nn.vocoder import Vocoder

__all__ = [
    "ConformerBlock",
    "ConformerStack",
    "MelConfig",
    "MelSpectrogram",
    "lengths_to_mask",
    "mel_power",
    "mel_stft",
    "resolve_device",
    "seed_everything",
    "stft_magnitude",
    "Trainer",
    "TrainerSettings",
    "Vocoder",
]
