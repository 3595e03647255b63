"""Shared fixtures of the TTS tests: a tiny generated corpus, a voice trained on it for a few
steps, and a tiny randomly initialized restoration checkpoint whose WaveFit renders its mel."""

import pytest
import torch

from fleursr.corpus.testing import make_corpus
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer
from fleursr.tts.train import TTSTrainConfig, train_tts

LANGUAGES = ("en_us", "fr_fr")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("tts_corpus")
    return make_corpus(root, languages=LANGUAGES, per_language=6, duration=1.0)


@pytest.fixture(scope="session")
def trained_voice(tiny_corpus, tmp_path_factory):
    """A tiny voice trained for 40 steps (long enough for durations to follow the data)."""
    out = tmp_path_factory.mktemp("tts_voice")
    cfg = TTSTrainConfig(data=str(tiny_corpus), out=str(out), config="tiny", steps=40,
                         batch_size=4, lr=3e-3, save_every=20, device="cpu")  # fmt: skip
    return train_tts(cfg, progress=False)


@pytest.fixture(scope="session")
def tiny_vocoder(tmp_path_factory):
    """A tiny Restorer (40-band log-mel, WaveFit) with random weights, saved as a checkpoint."""
    out = tmp_path_factory.mktemp("tts_vocoder")
    torch.manual_seed(0)
    Restorer(restorer_config("tiny").to_dict()).save_pretrained(out)
    return out
