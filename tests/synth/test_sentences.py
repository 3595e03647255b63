"""Tests of the parallel sentence generator."""

from __future__ import annotations

import unicodedata

import pytest
from num2words import num2words

from fleursr.corpus.languages import EMBEDDED_LANGUAGES, UnknownLanguageError, get_language
from fleursr.corpus.text import normalize_text
from fleursr.synth.sentences import (
    NoWordSourceError,
    length_bounds,
    make_sentence,
    plan_sentence,
    sentence_length,
    spell_number,
)

IDS = range(12)


def _letter_names(text: str) -> list[str]:
    return [unicodedata.name(ch) for ch in text if unicodedata.category(ch)[0] == "L"]


def test_deterministic_and_independent_of_call_order() -> None:
    first = make_sentence("ru_ru", 7, 3)
    for code in ("en_us", "ru_ru", "ja_jp", "hi_in"):
        for sentence_id in (1, 7, 9):
            make_sentence(code, sentence_id, 0)
    assert make_sentence("ru_ru", 7, 3) == first
    forward = [make_sentence("fr_fr", i, 0) for i in IDS]
    backward = [make_sentence("fr_fr", i, 0) for i in reversed(IDS)][::-1]
    assert forward == backward


@pytest.mark.parametrize("code", ["en_us", "ar_eg", "cmn_hans_cn", "sw_ke", "th_th"])
def test_ids_and_seeds_give_different_sentences(code: str) -> None:
    raws = {make_sentence(code, i, 0)[0] for i in IDS}
    assert len(raws) == len(IDS)
    assert make_sentence(code, 1, 0) != make_sentence(code, 1, 1)


@pytest.mark.parametrize(
    ("code", "prefixes"),
    [
        ("ru_ru", ("CYRILLIC",)),
        ("uk_ua", ("CYRILLIC",)),
        ("hi_in", ("DEVANAGARI",)),
        ("ar_eg", ("ARABIC",)),
        ("ur_pk", ("ARABIC",)),
        ("ja_jp", ("HIRAGANA", "KATAKANA", "CJK")),
        ("el_gr", ("GREEK",)),
        ("th_th", ("THAI",)),
        ("he_il", ("HEBREW",)),
        ("ka_ge", ("GEORGIAN",)),
        ("am_et", ("ETHIOPIC",)),
        ("my_mm", ("MYANMAR",)),
        ("ko_kr", ("HANGUL",)),
        ("yue_hant_hk", ("CJK",)),
    ],
)
def test_words_are_in_the_language_script(code: str, prefixes: tuple[str, ...]) -> None:
    for sentence_id in IDS:
        names = _letter_names(make_sentence(code, sentence_id, 0)[1])
        assert names
        strays = [name for name in names if not name.startswith(prefixes)]
        assert not strays, (code, sentence_id, strays)


@pytest.mark.parametrize("sentence_id", IDS)
def test_the_same_number_appears_in_every_language(sentence_id: int) -> None:
    value = plan_sentence(sentence_id, 0).numbers[0]
    for code, lang in (("en_us", "en"), ("fr_fr", "fr"), ("ru_ru", "ru"), ("ar_eg", "ar")):
        spelled = normalize_text(num2words(value, lang=lang))
        assert f" {spelled} " in f" {make_sentence(code, sentence_id, 0)[1]} ", code
    assert str(value) in make_sentence("hi_in", sentence_id, 0)[1]  # no num2words: digits


def test_plan_does_not_depend_on_language() -> None:
    plan = plan_sentence(5, 2)
    assert plan == plan_sentence(5, 2)
    assert "number" in plan.kinds and 2 <= plan.numbers[0] <= 999
    assert len({plan_sentence(i, 2).kinds for i in IDS}) > 1


@pytest.mark.parametrize("code", EMBEDDED_LANGUAGES)
def test_every_embedded_language_makes_sentences(code: str) -> None:
    lower, upper = length_bounds(code)
    for sentence_id in range(30):
        raw, transcription = make_sentence(code, sentence_id, 0)
        assert transcription == normalize_text(raw)
        assert lower <= sentence_length(transcription, code) <= upper, raw
        if code != "th_th":  # Thai writes no sentence-final punctuation
            assert unicodedata.category(raw[-1]) == "Po", raw


@pytest.mark.parametrize(
    ("code", "endings"),
    [
        ("hi_in", "।?"),
        ("bn_in", "।?"),
        ("cmn_hans_cn", "。？"),
        ("ja_jp", "。？"),
        ("ar_eg", ".؟"),
        ("en_us", ".?"),
        ("am_et", "።፧"),
        ("my_mm", "။"),
        ("ur_pk", "۔؟"),
    ],
)
def test_sentence_punctuation(code: str, endings: str) -> None:
    assert all(make_sentence(code, i, 0)[0][-1] in endings for i in IDS)


def test_questions_use_the_language_marks() -> None:
    question_id = next(i for i in range(200) if plan_sentence(i, 0).question)
    spanish = make_sentence("es_419", question_id, 0)[0]
    assert spanish.startswith("¿") and spanish.endswith("?")
    assert make_sentence("ar_eg", question_id, 0)[0].endswith("؟")
    assert make_sentence("el_gr", question_id, 0)[0].endswith(";")


def test_spell_number() -> None:
    assert spell_number("de_de", 21) == "einundzwanzig"
    assert spell_number("ja_jp", 3) == "さん"
    assert spell_number("hi_in", 42) == "42"


def test_errors() -> None:
    with pytest.raises(UnknownLanguageError):
        make_sentence("xx_yy", 0, 0)
    with pytest.raises(NoWordSourceError):
        make_sentence("wo_sn", 0, 0)


def test_numbers_stay_apart_in_unspaced_scripts():
    import re

    from fleursr.synth.sentences import UNSPACED_SCRIPTS

    for code in EMBEDDED_LANGUAGES:
        if get_language(code).script not in UNSPACED_SCRIPTS:
            continue
        for sid in range(60):
            raw, _ = make_sentence(code, sid, 0)
            for number in re.findall(r"\d+", raw):
                assert len(number) <= 4, (code, sid, raw)
