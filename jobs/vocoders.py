"""Which vocoder renders a TTS voice: the wiring between ``fleursr.tts`` and ``fleursr.restore``.

The TTS package renders with any mel-conditioned ``Vocoder``; the restoration package owns the
trained WaveFit. This module, on the floor above both, turns a vocoder spec into a renderer:

- ``None`` or ``"griffin-lim"``: Griffin-Lim (no weights);
- ``"auto"``: the shipped restorer's WaveFit where it renders the voice's mel, else Griffin-Lim;
- ``"embedded"``: the shipped restorer's WaveFit (an error where it is not installed);
- anything else: a restoration checkpoint directory or hub id, whose WaveFit must be conditioned
  on the voice's log-mel (``VocoderMismatchError`` otherwise).
"""

from __future__ import annotations

import os

import torch

from fleursr.nn.pretrained import SHIPPED, WEIGHTS_NAME
from fleursr.nn.spectral import MelConfig
from fleursr.restore.model import Restorer
from fleursr.tts.synthesize import Synthesizer
from fleursr.tts.vocoder import GriffinLimVocoder, MelVocoder, VocoderMismatchError

GRIFFIN_LIM = "griffin-lim"
AUTO = "auto"


def restorer_vocoder(
    checkpoint: str | os.PathLike, mel: MelConfig, device: str | torch.device = "cpu"
) -> MelVocoder:
    """The WaveFit of a restoration checkpoint (``"embedded"``: the shipped one), rendering
    ``mel`` with the checkpoint's seed."""
    restorer = Restorer.from_pretrained(checkpoint, device)
    return MelVocoder(restorer.vocoder, mel, seed=restorer.cfg.seed, where=str(checkpoint))


def load_mel_vocoder(
    spec: str | None, mel: MelConfig, device: str | torch.device = "cpu"
) -> MelVocoder | GriffinLimVocoder:
    """The renderer a vocoder spec names (see the module docstring)."""
    if spec is None or spec == GRIFFIN_LIM:
        return GriffinLimVocoder(mel)
    if spec == AUTO:
        if Restorer.shipped_dir is None or not (Restorer.shipped_dir / WEIGHTS_NAME).exists():
            return GriffinLimVocoder(mel)
        try:
            return restorer_vocoder(SHIPPED, mel, device)
        except VocoderMismatchError:
            return GriffinLimVocoder(mel)
    return restorer_vocoder(spec, mel, device)


def load_synthesizer(
    voice: str | os.PathLike, vocoder: str | None = AUTO, device: str | torch.device = "cpu"
) -> Synthesizer:
    """A voice checkpoint (or ``"embedded"``) with the renderer ``vocoder`` names."""
    synth = Synthesizer.load(voice, device=device)
    return Synthesizer(synth.voice, load_mel_vocoder(vocoder, synth.voice.mel_config, device))
