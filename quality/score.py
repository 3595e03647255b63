"""Score the audio of a corpus or run: ASR transcript and CER, predicted MOS.

Scores are written into the manifest next to the audio they describe, under a label:
``score_cer_<label>``, ``score_dnsmos_ovrl_<label>``, ... and the transcript as
``asr_<label>``. Score a run twice, once with ``label="original"`` on ``original_path`` and once
with ``label="restored"`` on ``path``, and the two sit side by side. The same ASR and MOS
predictor must score both: what matters is the difference.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fleursr.corpus.audio import AudioError
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance
from fleursr.corpus.validate import open_corpus
from fleursr.quality.asr.base import ASR, UnsupportedLanguageError
from fleursr.quality.cer import cer
from fleursr.quality.mos.base import MOSPredictor

SCORE_RATE = 16000  # DNSMOS and the ASR backends all work at 16 kHz
_log = logging.getLogger(__name__)
_REFUSED: set[tuple[str, str]] = set()  # (backend, language) pairs already logged


def score_batch(
    utts: list[Utterance], waves: list[np.ndarray], label: str, asr: ASR | None,
    mos: MOSPredictor | None, batch_size: int = 16,
) -> None:  # fmt: skip
    """Add ``label`` scores to ``utts`` (in place) from their 16 kHz ``waves``. Utterances in a
    language the ASR cannot transcribe get no transcript and no CER (logged once)."""
    if asr is not None:
        fit = [i for i, u in enumerate(utts) if _asr_knows(asr, u.language)]
        texts = asr.transcribe([waves[i] for i in fit], [utts[i].language for i in fit],
                               SCORE_RATE, batch_size)  # fmt: skip
        for utt, text in zip([utts[i] for i in fit], texts):
            utt.extra[f"asr_{label}"] = text
            if utt.transcription or utt.raw_transcription:
                ref = utt.transcription or utt.raw_transcription
                utt.scores[f"cer_{label}"] = cer(ref, text, language=utt.language)
    if mos is not None:
        for utt, scores in zip(utts, mos.predict(waves, SCORE_RATE, batch_size)):
            utt.scores.update({f"{name}_{label}": value for name, value in scores.items()})


def _asr_knows(asr: ASR, language: str) -> bool:
    try:
        asr.check_language(language)
    except UnsupportedLanguageError as err:
        if (asr.name, err.code) not in _REFUSED:
            _REFUSED.add((asr.name, err.code))
            _log.warning("no transcript or CER for %s: %s", err.code, err)
        return False
    return True


def _scored(
    corpus: Corpus, label: str, audio: str, asr: ASR | None, mos: MOSPredictor | None,
    batch_size: int, progress: bool,
) -> Iterator[Utterance]:  # fmt: skip
    bar = tqdm(total=len(corpus), desc=f"score {label}", unit="utt", disable=not progress)
    for batch in corpus.iter_batches(batch_size):
        ready: list[Utterance] = []
        waves: list[np.ndarray] = []
        for i, utt in enumerate(batch):
            if asr is not None:
                utt.extra.setdefault(f"asr_{label}", None)
            if not utt.ok:
                continue
            try:
                waves.append(corpus.load_column(utt, audio, SCORE_RATE)[0])
                ready.append(utt)
            except AudioError as err:
                batch[i] = utt.with_error(err)
        if ready:
            score_batch(ready, waves, label, asr, mos, batch_size)
        bar.update(len(batch))
        yield from batch
    bar.close()


def score_corpus(
    run_dir: str | os.PathLike, label: str, audio: str = "path", asr: ASR | None = None,
    mos: MOSPredictor | None = None, batch_size: int = 16, progress: bool = True,
    external_paths: bool = False,
) -> Path:  # fmt: skip
    """Score every utterance of ``run_dir`` whose audio is in column ``audio`` (``path``, or a
    reference column such as ``original_path`` / ``clean_path``) and rewrite its manifest.
    Unreadable audio turns the row into an error row; nothing is dropped. The manifest is
    validated first (:func:`fleursr.corpus.validate.open_corpus`; ``external_paths``)."""
    if asr is None and mos is None:
        raise ValueError("nothing to score: give an ASR, a MOS predictor or both")
    if not label.isidentifier():
        raise ValueError(f"label {label!r} must be a simple name like 'original' or 'restored'")
    corpus = open_corpus(run_dir, external_paths)
    return write_manifest(corpus.root, _scored(corpus, label, audio, asr, mos, batch_size,
                                               progress))  # fmt: skip
