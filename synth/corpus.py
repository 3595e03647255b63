"""The embedded corpus: FLEURS-style parallel sentences spoken by espeak-ng in many languages.

Like FLEURS, sentence ``k`` is the same sentence in every language (see
``fleursr.synth.sentences``) and
splits are made by sentence, 7:1:2 into train/dev/test, so a sentence never crosses splits and
the same sentence ids form each split in every language. Each language has several speakers
(espeak-ng voice variants, male and female, with their own pitch and rate); each sentence is
read by one of them. Everything is a function of the seed.

The speech engine is a choice (:data:`ENGINES`): ``espeak`` (every language with an espeak-ng
voice, several speakers each, at espeak-ng's own 22.05 kHz), or a natural voice for one
language: ``piper`` (en_us, the neural voice en_US-joe-medium, one male speaker, 22.05 kHz;
:mod:`fleursr.synth.piper`) and ``festival`` (ca_es, the HTS voice upc_ca_ona_hts, one female
speaker, 16 kHz; :mod:`fleursr.synth.festival`). Sentences, splits and manifests are the same
for every engine; each keeps its native rate.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fleursr.corpus.audio import write_audio
from fleursr.corpus.languages import EMBEDDED_LANGUAGES, get_language
from fleursr.corpus.manifest import write_manifest
from fleursr.corpus.record import Utterance
from fleursr.synth import festival, piper
from fleursr.synth.espeak import SPEAKER_VARIANTS, EspeakError, speak
from fleursr.synth.sentences import NoWordSourceError, make_sentence

SPLIT_SHARES = (("train", 0.7), ("dev", 0.1), ("test", 0.2))
ENGINES = ("espeak", "piper", "festival")
ESPEAK_RATE = 22050  # espeak-ng's own rate: its band up to 11 kHz is a clean target above 8 kHz


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker of a language: an espeak-ng variant with its own pitch and rate,
    or (``engine`` piper/festival) a natural voice named by ``variant``."""

    speaker_id: str
    variant: str
    gender: str
    pitch: int
    rate: int
    engine: str = "espeak"


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


def engine_languages(engine: str) -> tuple[str, ...] | None:
    """FLEURS codes ``engine`` speaks (``None`` for espeak: every language with a voice)."""
    if engine == "espeak":
        return None
    if engine == "piper":
        return piper.LANGUAGES
    if engine == "festival":
        return festival.LANGUAGES
    raise ValueError(f"unknown speech engine {engine!r}; expected one of {ENGINES}")


def default_languages(engine: str) -> tuple[str, ...]:
    """The languages a corpus of ``engine`` speaks when none are named."""
    return engine_languages(engine) or tuple(EMBEDDED_LANGUAGES)


def engine_speakers(engine: str, language: str, n_speakers: int, seed: int) -> list[Speaker]:
    """The speakers of ``language`` for ``engine``; a language it does not speak is an error."""
    spoken = engine_languages(engine)
    if spoken is None:
        lang = get_language(language)
        if not lang.espeak_voice:
            raise ValueError(f"{language}: espeak-ng has no voice for {lang.name}")
        return language_speakers(language, n_speakers, seed)
    if get_language(language).code not in spoken:
        raise ValueError(
            f"{language}: the {engine} engine speaks only {', '.join(spoken)}; "
            "use --engine espeak for other languages"
        )
    if engine == "piper":  # one voice, whatever n_speakers says
        info = piper.voice_info()
        return [Speaker(info.speaker_id, info.name, info.gender, 0, 0, engine="piper")]
    ona = festival.ONA
    return [Speaker(ona.speaker_id, ona.name, ona.gender, 0, 0, engine="festival")]


def engine_rate(engine: str) -> int:
    """The native sample rate of the corpus ``engine`` writes."""
    if engine == "piper":
        return piper.voice_info().sample_rate
    if engine == "festival":
        return festival.SAMPLE_RATE
    engine_languages(engine)  # refuses an unknown engine
    return ESPEAK_RATE


def plan_corpus(
    languages: Sequence[str],
    per_language: int,
    seed: int,
    n_speakers: int = 4,
    engine: str = "espeak",
) -> list[tuple[Utterance, Speaker]]:
    """Every utterance to speak, with its speaker; audio paths relative to the corpus root.

    ``engine`` chooses the speakers (piper and festival have one voice each, so
    ``n_speakers`` is for espeak only) and the sample rate; sentences and splits do not change.
    """
    splits = split_sentences(per_language, seed)
    by_language = {lang: engine_speakers(engine, lang, n_speakers, seed) for lang in languages}
    rate = engine_rate(engine)
    plan = []
    for language, speakers in by_language.items():
        # Balanced: every speaker reads about the same number of sentences, in a seeded order.
        readers = [speakers[k % len(speakers)] for k in range(per_language)]
        random.Random(f"readers-{language}-{seed}").shuffle(readers)
        for sid, spk in enumerate(readers):
            try:
                raw, norm = make_sentence(language, sid, seed)
            except NoWordSourceError as err:
                raise NoWordSourceError(
                    f"{err}: the sentence maker has no words for {language}, so no {engine} "
                    "corpus of it (a list in fleursr.synth.wordlists.WORDS would give it some)"
                ) from err
            uid = f"{language}_{sid:05d}"
            split = splits[sid]
            utt = Utterance(
                id=uid,
                path=f"audio/{language}/{split}/{uid}.flac",
                language=language,
                sampling_rate=rate,
                transcription=norm,
                raw_transcription=raw,
                gender=spk.gender,
                split=split,
                speaker_id=spk.speaker_id,
                sentence_id=sid,
            )
            plan.append((utt, spk))
    return plan


def _speak_espeak(utt: Utterance, spk: Speaker) -> np.ndarray:
    voice = get_language(utt.language).espeak_voice
    assert voice is not None
    return speak(
        utt.raw_transcription,
        voice,
        variant=spk.variant,
        pitch=spk.pitch,
        rate=spk.rate,
        sample_rate=utt.sampling_rate,
    )


def _speak_natural(utt: Utterance, spk: Speaker) -> np.ndarray:
    if spk.engine == "piper":
        wave, rate = piper.speak(utt.raw_transcription)
    else:
        wave, rate = festival.speak(utt.raw_transcription)
    if rate != utt.sampling_rate:
        raise RuntimeError(f"{spk.engine} spoke at {rate} Hz, not the planned {utt.sampling_rate}")
    return wave


def _speaker_function(engine: str) -> Callable[[Utterance, Speaker], np.ndarray]:
    """The speaking function of ``engine``; fails early where the engine is not installed."""
    if engine == "piper":
        piper.load_voice()
    elif engine == "festival":
        festival.check_installed()
    return _speak_espeak if engine == "espeak" else _speak_natural


def _speak_one(
    root: Path, utt: Utterance, spk: Speaker, speak_fn: Callable = _speak_espeak
) -> Utterance:
    try:
        wave = speak_fn(utt, spk)
    except (EspeakError, festival.FestivalError, piper.PiperError) as err:
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
    engine: str = "espeak",
) -> Path:
    """Speak the embedded corpus into ``out_dir`` (FLAC) and write its manifest.

    ``engine``: ``espeak`` (22.05 kHz, the default), ``piper`` (en_us, 22.05 kHz) or ``festival``
    (ca_es, 16 kHz); ``languages`` defaults to what the engine speaks (the embedded set for
    espeak). espeak-ng and festival run as separate processes, so threads give real
    parallelism; Piper runs one sentence at a time (ONNX Runtime uses the cores). An utterance
    the engine fails on stays in the manifest with ``status="error"``.
    """
    root = Path(out_dir)
    languages = languages or default_languages(engine)
    plan = plan_corpus(languages, per_language, seed, speakers_per_language, engine=engine)
    speak_fn = _speaker_function(engine)
    workers = workers or os.cpu_count() or 1
    if engine == "piper":
        workers = 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = pool.map(lambda job: _speak_one(root, *job, speak_fn), plan)
        done = list(tqdm(jobs, total=len(plan), desc="synth", unit="utt", disable=not progress))
    return write_manifest(root, done)
