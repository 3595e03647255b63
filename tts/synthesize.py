"""Text to speech: a trained voice plus a mel vocoder, and the file-writing forms the CLI uses.

    from fleursr.tts import Synthesizer
    synth = Synthesizer.load("runs/tts")              # Griffin-Lim; or a MelVocoder of any Vocoder
    waves = synth.say(["Bonjour à tous."], "fr_fr")   # float32 at synth.sample_rate

``fleursr.jobs.vocoders.load_synthesizer(voice, "runs/restorer")`` pairs a voice with the
WaveFit of a restoration checkpoint (``fleursr tts say --vocoder``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from fleursr.corpus.audio import write_audio
from fleursr.tts.pretrained import TTS
from fleursr.tts.vocoder import GriffinLimVocoder, MelVocoder


class Synthesizer:
    """A voice and the vocoder that renders its log-mel."""

    def __init__(self, voice: TTS, vocoder: MelVocoder | GriffinLimVocoder) -> None:
        self.voice, self.vocoder = voice, vocoder
        self.sample_rate = vocoder.sample_rate

    @classmethod
    def load(
        cls, model: str | os.PathLike, vocoder: MelVocoder | GriffinLimVocoder | None = None,
        device: str | torch.device = "cpu",
    ) -> Synthesizer:  # fmt: skip
        """A voice checkpoint directory (or ``"embedded"``) and a renderer (``None``:
        Griffin-Lim with the voice's mel)."""
        voice = TTS.from_pretrained(model, device)
        return cls(voice, vocoder if vocoder is not None else GriffinLimVocoder(voice.mel_config))

    def say(
        self, texts: Sequence[str], language: str | Sequence[str],
        speaker: str | None | Sequence[str | None] = None, length_scale: float = 1.0,
        batch_size: int = 8,
    ) -> list[np.ndarray]:  # fmt: skip
        """One float32 wave per text, at :attr:`sample_rate`. ``language`` and ``speaker`` are
        one value for all texts or one per text (speaker ``None``: the language's default)."""
        n = len(texts)
        langs = [language] * n if isinstance(language, str) else list(language)
        spks = [speaker] * n if speaker is None or isinstance(speaker, str) else list(speaker)
        if len(langs) != n or len(spks) != n:
            raise ValueError(f"{n} texts but {len(langs)} languages and {len(spks)} speakers")
        order = sorted(range(n), key=lambda i: len(texts[i]))  # similar lengths share a batch
        waves: list[np.ndarray | None] = [None] * n
        for b in range(0, n, batch_size):
            idx = order[b : b + batch_size]
            mels = self.voice.text_to_mel([texts[i] for i in idx], [langs[i] for i in idx],
                                          [spks[i] for i in idx], length_scale)  # fmt: skip
            for i, wave in zip(idx, self.vocoder(mels)):
                waves[i] = wave
        return [w for w in waves if w is not None]


def say_to_file(
    synth: Synthesizer, text: str, language: str, out: str | os.PathLike,
    speaker: str | None = None, length_scale: float = 1.0,
) -> tuple[Path, float]:  # fmt: skip
    """Synthesize one text into ``out`` (any soundfile format); returns the path and seconds."""
    wave = synth.say([text], language, speaker, length_scale)[0]
    write_audio(out, wave, synth.sample_rate)
    return Path(out), len(wave) / synth.sample_rate


def say_lines(
    synth: Synthesizer, text_file: str | os.PathLike, language: str,
    out_dir: str | os.PathLike, speaker: str | None = None, length_scale: float = 1.0,
    suffix: str = ".wav",
) -> list[Path]:  # fmt: skip
    """Synthesize every non-blank line of a UTF-8 text file into ``out_dir/NNNN.wav`` (``NNNN``
    the 1-based line number); returns the written paths in line order."""
    lines = Path(text_file).read_text(encoding="utf-8").splitlines()
    todo = [(k + 1, line.strip()) for k, line in enumerate(lines) if line.strip()]
    if not todo:
        raise ValueError(f"{text_file}: no sentences (every line is blank)")
    waves = synth.say([t for _, t in todo], language, speaker, length_scale)
    width = max(4, len(str(len(lines))))
    paths = []
    for (number, _), wave in zip(todo, waves):
        path = Path(out_dir) / f"{number:0{width}d}{suffix}"
        write_audio(path, wave, synth.sample_rate)
        paths.append(path)
    return paths
