from collections import Counter

import numpy as np
import pytest

from fleursr.corpus.languages import EMBEDDED_LANGUAGES, LANGUAGE_GROUPS, get_language
from fleursr.corpus.manifest import Corpus
from fleursr.synth.corpus import plan_corpus, split_sentences, synth_corpus
from fleursr.synth.espeak import espeak_available

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


def test_splits_are_7_1_2_by_sentence_and_seeded():
    splits = split_sentences(20, seed=0)
    assert Counter(splits.values()) == {"train": 14, "dev": 2, "test": 4}
    assert splits == split_sentences(20, seed=0)
    assert splits != split_sentences(20, seed=1)


def test_embedded_languages_cover_groups_and_scripts():
    langs = [get_language(c) for c in EMBEDDED_LANGUAGES]
    assert len(langs) >= 20
    assert {lang.group for lang in langs} == set(LANGUAGE_GROUPS)
    assert len({lang.script for lang in langs}) >= 6
    assert all(lang.espeak_voice for lang in langs)


def test_plan_is_parallel_across_languages():
    plan = plan_corpus(EMBEDDED_LANGUAGES, per_language=30, seed=3)
    utts = [u for u, _ in plan]
    assert len(utts) == 30 * len(EMBEDDED_LANGUAGES)
    assert len({u.id for u in utts}) == len(utts)
    split_of = {}
    for u in utts:
        assert split_of.setdefault(u.sentence_id, u.split) == u.split
        assert u.transcription and u.raw_transcription and u.path.endswith(".flac")
    for lang in EMBEDDED_LANGUAGES:
        speakers = {(u.speaker_id, u.gender) for u, _ in plan if u.language == lang}
        assert len(speakers) >= 4, lang
        assert {g for _, g in speakers} == {"male", "female"}, lang
    again = [u for u, _ in plan_corpus(EMBEDDED_LANGUAGES, per_language=30, seed=3)]
    assert again == utts


def test_plan_refuses_a_language_without_a_voice():
    no_voice = next(c for c in ("ast_es", "kea_cv", "umb_ao") if not get_language(c).espeak_voice)
    with pytest.raises(ValueError, match=no_voice):
        plan_corpus([no_voice], per_language=2, seed=0)


@needs_espeak
def test_synth_writes_a_playable_corpus(tmp_path):
    synth_corpus(
        tmp_path,
        languages=["fr_fr", "ru_ru", "hi_in"],
        per_language=3,
        seed=0,
        workers=2,
        progress=False,
    )
    corpus = Corpus(tmp_path)
    utts = list(corpus)
    assert len(utts) == 9 and all(u.ok for u in utts)
    for utt in utts:
        wave, sr = corpus.load_audio(utt)
        assert sr == 22050 and len(wave) == utt.num_samples
        assert 0.5 < len(wave) / sr < 20 and np.abs(wave).max() > 0.05
    assert corpus.summary()["languages"] == 3


def test_every_speaker_reads_a_fair_share():
    plan = plan_corpus(["sw_ke", "ko_kr"], per_language=8, seed=0)
    for lang in ("sw_ke", "ko_kr"):
        counts = Counter(spk.speaker_id for u, spk in plan if u.language == lang)
        assert sorted(counts.values()) == [2, 2, 2, 2]
