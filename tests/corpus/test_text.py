"""Tests of the text normalizer across scripts."""

from __future__ import annotations

import unicodedata

import pytest

from fleursr.corpus.text import normalize_text

CASES = [
    # Latin with accents, Spanish and French punctuation
    ("¿Dónde está el niño? ¡Allí!", "dónde está el niño allí"),
    ("« Bonjour », dit-il : l'été arrive…", "bonjour dit il l'été arrive"),
    ("Die Straße ist 12 km lang.", "die straße ist 12 km lang"),
    ("İstanbul'da", "istanbul'da"),
    # Cyrillic, with an intra-word apostrophe
    ("Привет, МИР! П'ять — це «число».", "привет мир п'ять це число"),
    # Greek keeps the final sigma
    ("Καλημέρα, κόσμε; Ο Λόγος.", "καλημέρα κόσμε ο λόγος"),
    # Arabic with harakat and Arabic punctuation
    ("مَرْحَبًا، كَيْفَ حَالُكَ؟", "مَرْحَبًا كَيْفَ حَالُكَ"),
    # Persian keeps the zero-width non-joiner
    ("من می\u200cخواهم؛ بله.", "من می\u200cخواهم بله"),
    # Devanagari with matras, virama and danda
    ("नमस्ते, आप कैसे हैं? मैं ठीक हूँ।", "नमस्ते आप कैसे हैं मैं ठीक हूँ"),
    ("আমি ভাত খাই।", "আমি ভাত খাই"),
    ("வணக்கம்! எப்படி இருக்கிறீர்கள்?", "வணக்கம் எப்படி இருக்கிறீர்கள்"),
    # Thai vowel and tone marks
    ("สวัสดีครับ, คุณสบายดีไหม?", "สวัสดีครับ คุณสบายดีไหม"),
    # Han and Kana, full-width forms
    ("東京は、とても大きい都市です。", "東京は とても大きい都市です"),
    ("ラーメン・ＡＢＣ１２３！", "ラーメン abc123"),
    ("我们在2023年去了北京。", "我们在2023年去了北京"),
    ("안녕하세요, 세계!", "안녕하세요 세계"),
    # Hebrew with points
    ("שָׁלוֹם, עוֹלָם!", "שָׁלוֹם עוֹלָם"),
    # Symbols and whitespace
    ("50% + $3 = €?", "50 3"),
    ("  a\t\n b  ", "a b"),
    ("'quoted'", "quoted"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(("raw", "_expected"), CASES)
def test_idempotent(raw: str, _expected: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("raw", "mark"),
    [
        ("नमस्ते", "\u094d"),  # virama
        ("कैसे", "\u0948"),  # vowel sign AI
        ("মানুষ", "\u09be"),  # Bengali vowel sign AA
        ("ไม่", "\u0e48"),  # Thai tone mark
        ("كَتَبَ", "\u064e"),  # fatha
        ("שָׁלוֹם", "\u05b8"),  # qamats
    ],
)
def test_combining_marks_survive(raw: str, mark: str) -> None:
    out = normalize_text(raw)
    assert mark in out
    assert out == unicodedata.normalize("NFKC", raw)


@pytest.mark.parametrize("punct", list('«»¿¡،।؟؛。、「」!?.,;:()[]—–…"') + ["۔", "።", "။"])
def test_punctuation_goes(punct: str) -> None:
    assert normalize_text(f"a{punct}b") == "a b"


def test_options() -> None:
    assert normalize_text("Café naïve", keep_marks=False) == "cafe naive"
    assert normalize_text("abc 123 def", keep_digits=False) == "abc def"
    assert normalize_text("Hello, world!", keep_punct=True) == "hello, world!"
    assert normalize_text("Hello World", lowercase=False) == "Hello World"
    assert normalize_text("soft\u00adhyphen") == "softhyphen"
