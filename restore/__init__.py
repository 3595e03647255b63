"""Speech restoration: features -> feature cleaner -> WaveFit vocoder, 24 kHz out.

``Restorer`` is the project's model; inference code touches it, or any other restorer, through
``SpeechRestorer`` (``load_restorer`` names them all; ``fleursr.restore.peers`` holds the
others). Importing this package loads torch.
"""

from fleursr.restore.apply import load_restorer, restore_path, restorer_choices
from fleursr.restore.base import FeatureCleaner, FeatureExtractor, SpeechRestorer, Vocoder
from fleursr.restore.config import RestorerConfig, restorer_config
from fleursr.restore.corpus import restore_utterances
from fleursr.restore.model import Restorer

__all__ = [
    "FeatureCleaner",
    "FeatureExtractor",
    "Restorer",
    "RestorerConfig",
    "SpeechRestorer",
    "Vocoder",
    "load_restorer",
    "restore_path",
    "restore_utterances",
    "restorer_choices",
    "restorer_config",
]
