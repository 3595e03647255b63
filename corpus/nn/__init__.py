"""Neural building blocks shared by every package (restoration, ASR, TTS).

They live under ``corpus`` because it is the one floor every package may import
(``jobs -> {tts, quality, restore} -> corpus``); importing ``corpus`` alone never imports torch.
"""

from corpus.nn.conformer import ConformerBlock, ConformerStack, lengths_to_mask
from corpus.nn.runtime import resolve_device, seed_everything
from corpus.nn.spectral import MelConfig, MelSpectrogram, mel_power, stft_magnitude

__all__ = [
    "ConformerBlock",
    "ConformerStack",
    "MelConfig",
    "MelSpectrogram",
    "lengths_to_mask",
    "mel_power",
    "resolve_device",
    "seed_everything",
    "stft_magnitude",
]
