"""A multilingual grapheme TTS: a voice (``TTS``) and a ``Synthesizer`` that renders its log-mel
with any mel ``Vocoder``."""

from fleursr.tts.pretrained import TTS
from fleursr.tts.synthesize import Synthesizer

__all__ = ["TTS", "Synthesizer"]
