"""Speech restoration: features -> feature cleaner -> WaveFit vocoder, 24 kHz out.

``Restorer`` is the only class inference code touches; importing this package loads torch.
"""

from fleursr.restore.apply import load_restorer, restore_path
from fleursr.restore.base import FeatureCleaner, FeatureExtractor, Vocoder
from fleursr.restore.config import RestorerConfig, restorer_config
from fleursr.restore.corpus import restore_utterances
from fleursr.restore.model import Restorer

__all__ = [
    "FeatureCleaner",
    "FeatureExtractor",
    "Restorer",
    "RestorerConfig",
    "Vocoder",
    "load_restorer",
    "restore_path",
    "restore_utterances",
    "restorer_config",
]
