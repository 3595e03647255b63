import pytest

from fleursr.quality.cer import (
    CharCounts,
    cer,
    cer_by_language,
    char_counts,
    corpus_cer,
    spell_numbers,
)


def test_hand_computed_values():
    assert cer("abcd", "abcd") == 0.0
    assert cer("abcd", "abxd") == 0.25  # one substitution
    assert cer("abcd", "abd") == 0.25  # one deletion
    assert cer("abcd", "abcde") == 0.25  # one insertion
    assert cer("ab cd", "abcd") == pytest.approx(1 / 5)  # the space counts
    assert cer("kitten", "sitting") == pytest.approx(3 / 6)


def test_normalization_applies_before_counting():
    assert cer("Hello, World!", "hello world") == 0.0
    assert cer("नमस्ते।", "नमस्ते") == 0.0  # danda goes, virama stays
    assert cer("नमस्ते", "नमसते") == pytest.approx(1 / 6)  # a lost virama is an edit
    assert cer("Hello", "hello", normalize=False) == pytest.approx(1 / 5)


def test_empty_references_and_hypotheses():
    assert char_counts("", "") == CharCounts(0, 0) and cer("", "") == 0.0
    assert cer("", "abc") == 1.0 and char_counts("", "abc") == CharCounts(3, 0)
    assert cer("abc", "") == 1.0


def test_corpus_level_is_total_edits_over_total_characters():
    pairs = [("abcd", "abxd"), ("ab", "")]  # 1 edit of 4, 2 edits of 2
    assert corpus_cer(pairs) == pytest.approx(3 / 6)  # not the mean of 0.25 and 1.0
    rows = [("fr_fr", "abcd", "abxd"), ("fr_fr", "ab", ""), ("ja_jp", "日本語", "日本")]
    assert cer_by_language(rows) == {"fr_fr": pytest.approx(0.5), "ja_jp": pytest.approx(1 / 3)}


def test_numbers_in_digits_read_as_the_spelled_transcription():
    ref = "six hundred and thirty six series together april"
    hyp = "636 series together April."  # how Whisper writes what was said
    assert char_counts(ref, hyp).edits == 26  # without the language, the digits are other text
    assert char_counts(ref, hyp, language="en_us").edits == 0
    assert cer("pulse mil veces", "Pulse 1.000 veces", language="es_419") == 0.0
    assert cer("one thousand dollars", "1,000 dollars", language="en_us") == 0.0
    # a wrong number is still wrong, and a language num2words cannot spell keeps its digits
    assert cer("twelve", "13", language="en_us") > 0.5
    assert spell_numbers("7 pm", "my_mm") == "7 pm"
    assert spell_numbers("7 pm", "xx_yy") == "7 pm"
    assert spell_numbers("no digits", "en_us") == "no digits"
    # a number beyond a language's tables (a looping ASR's "201.000.000...") keeps its digits
    looped = "201" + ".000" * 30
    assert spell_numbers(looped, "ru_ru").strip() == looped.replace(".", "")
    assert char_counts("тест", looped, language="ru_ru").edits > 30
    rows = [("en_us", "two cats", "2 cats"), ("en_us", "a dog", "a dog")]
    assert cer_by_language(rows) == {"en_us": 0.0}
