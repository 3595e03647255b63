"""The data model every fleursr stage shares: utterances, manifests, audio I/O, readers."""

from fleursr.corpus.audio import (
    AudioError,
    CorruptAudioError,
    EmptyAudioError,
    MissingAudioError,
    NonFiniteAudioError,
    SampleRateError,
    TooShortAudioError,
    read_audio,
    resample,
    write_audio,
)
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance

__all__ = [
    "AudioError",
    "CorruptAudioError",
    "Corpus",
    "EmptyAudioError",
    "MissingAudioError",
    "NonFiniteAudioError",
    "SampleRateError",
    "TooShortAudioError",
    "Utterance",
    "read_audio",
    "resample",
    "write_audio",
    "write_manifest",
]
