"""The embedded corpus: FLEURS-style parallel sentences spoken by espeak-ng in many languages.

Like FLEURS, sentence ``k`` is the same sentence in every language (see
``fleursr.synth.sentences``) and
splits are made by sentence, 7:1:2 into train/dev/test, so a sentence never crosses splits and
the same sentence ids form each split in every language. Each language has several speakers
(espeak-ng voice variants, male and female, with their own pitch and rate); each sentence is
read by one of them. Everything is a function of the seed.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from fleursr.corpus.audio import write_audio
from fleursr.corpus.languages import EMBEDDED_LANGUAGES, get_language
from fleursr.corpus.manifest import write_manifest
from fleursr.corpus.record import Utterance
from fleursr.synth.espeak import SPEAKER_VARIANTS, EspeakError, speak
from fleursr.synth.sentences import make_sentence

SPLIT_SHARES = (("train", 0.7), ("dev", 0.1), ("test", 0.2))


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker of a language: an espeak-ng variant with its own pitch and rate."""

    speaker_id: str
    variant: str
    gender: str
    pitch: int
    rate: int


def split_sentences(n_sentences: int, seed: int) -> dict[int, str]:
    """Sentence id -> split, 7:1:2 by sentence, the same for every language."""
    ids = list(range(n_sentences))
    random.Random(f"splits-{seed}").shuffle(ids)
    n_train = round(SPLIT_SHARES[0][1] * n_sentences)
    n_dev = round(SPLIT_SHARES[1][1] * n_sentences)
    out = {}
    for rank, sid in enumerate(ids):
        out[sid] = "train" if rank < n_train else "dev" if rank < n_train + n_dev else "test"
    return out


def language_speakers(language: str, n_speakers: int, seed: int) -> list[Speaker]:
    """``n_speakers`` speakers for a language, alternating male and female, jittered per seed."""
    rng = random.Random(f"speakers-{language}-{seed}")
    males = [v for v in SPEAKER_VARIANTS if v.gender == "male"]
    females = [v for v in SPEAKER_VARIANTS if v.gender == "female"]
    rng.shuffle(males)
    rng.shuffle(females)
    speakers = []
    for k in range(n_speakers):
        pool = males if k % 2 == 0 else females
        base = pool[(k // 2) % len(pool)]
        speakers.append(
            Speaker(
                speaker_id=f"{language}_spk{k}",
                variant=base.variant,
                gender=base.gender,
                pitch=max(0, min(99, base.pitch + rng.randint(-6, 6))),
                rate=max(80, base.rate + rng.randint(-15, 15)),
            )
        )
    return speakers


def plan_corpus(
    languages: Sequence[str], per_language: int, seed: int, n_speakers: int = 4
) -> list[tuple[Utterance, Speaker]]:
    """Every utterance to speak, with its speaker; audio paths relative to the corpus root."""
    splits = split_sentences(per_language, seed)
    plan = []
    for language in languages:
        lang = get_language(language)
        if not lang.espeak_voice:
            raise ValueError(f"{language}: espeak-ng has no voice for {lang.name}")
        speakers = language_speakers(language, n_speakers, seed)
        # Balanced: every speaker reads about the same number of sentences, in a seeded order.
        readers = [speakers[k % len(speakers)] for k in range(per_language)]
        random.Random(f"readers-{language}-{seed}").shuffle(readers)
        for sid, spk in enumerate(readers):
            raw, norm = make_sentence(language, sid, seed)
            uid = f"{language}_{sid:05d}"
            split = splits[sid]
            utt = Utterance(
                id=uid,
                path=f"audio/{language}/{split}/{uid}.flac",
                language=language,
                sampling_rate=16000,
                transcription=norm,
                raw_transcription=raw,
                gender=spk.gender,
                split=split,
                speaker_id=spk.speaker_id,
                sentence_id=sid,
            )
            plan.append((utt, spk))
    return plan


def _speak_one(root: Path, utt: Utterance, spk: Speaker) -> Utterance:
    voice = get_language(utt.language).espeak_voice
    assert voice is not None
    try:
        wave = speak(
            utt.raw_transcription,
            voice,
            variant=spk.variant,
            pitch=spk.pitch,
            rate=spk.rate,
            sample_rate=utt.sampling_rate,
        )
    except EspeakError as err:
        return utt.with_error(err)
    write_audio(root / utt.path, wave, utt.sampling_rate)
    utt.num_samples = len(wave)
    return utt


def synth_corpus(
    out_dir: str | os.PathLike,
    languages: Sequence[str] | None = None,
    per_language: int = 20,
    seed: int = 0,
    speakers_per_language: int = 4,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Speak the embedded corpus into ``out_dir`` (FLAC, 16 kHz) and write its manifest.

    espeak-ng runs as separate processes, so threads give real parallelism. An utterance that
    espeak-ng fails on stays in the manifest with ``status="error"``.
    """
    root = Path(out_dir)
    plan = plan_corpus(languages or EMBEDDED_LANGUAGES, per_language, seed, speakers_per_language)
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = pool.map(lambda job: _speak_one(root, *job), plan)
        done = list(tqdm(jobs, total=len(plan), desc="synth", unit="utt", disable=not progress))
    return write_manifest(root, done)
