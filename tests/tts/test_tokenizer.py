"""The grapheme tokenizer: round trips in many scripts, NFC, unknown characters counted."""

import unicodedata

import pytest

from fleursr.tts.tokenizer import UNK_ID, GraphemeTokenizer, normalize_graphemes

SENTENCES = {
    "latin": "Où est la bibliothèque ? Ça va bien, merci.",
    "cyrillic": "Съешь же ещё этих мягких французских булок.",
    "devanagari": "क्या आप हिन्दी बोलते हैं? मैं ठीक हूँ।",
    "arabic": "مَرْحَبًا بِكُمْ فِي الْمَكْتَبَةِ",
    "han": "我们明天去图书馆看书。",
    "thai": "ภาษาไทยมีวรรณยุกต์ ไม่ใช่เรื่องง่าย",
    "greek": "Καλημέρα σας, τι κάνετε;",
    "hangul": "안녕하세요. 만나서 반갑습니다.",
}


@pytest.fixture(scope="module")
def tokenizer():
    return GraphemeTokenizer.from_texts(SENTENCES.values())


@pytest.mark.parametrize("script", sorted(SENTENCES))
def test_round_trip(tokenizer, script):
    text = SENTENCES[script]
    ids = tokenizer.encode(text)
    assert UNK_ID not in ids
    assert tokenizer.decode(ids) == unicodedata.normalize("NFC", text)


def test_combining_marks_are_tokens_of_their_own(tokenizer):
    ids = tokenizer.encode("कि")  # KA + vowel sign I: two code points, two tokens
    assert [tokenizer.vocab[i] for i in ids] == ["क", "\u093f"]


def test_nfc_and_whitespace():
    decomposed = "Cafe\u0301  au\tlait\n"
    assert normalize_graphemes(decomposed) == "Café au lait"
    tok = GraphemeTokenizer.from_texts(["Café au lait"])
    assert tok.encode(decomposed) == tok.encode("Café au lait")


def test_unknown_characters_are_mapped_and_counted(tokenizer):
    tokenizer.unknown.clear()
    ids = tokenizer.encode("ab🙂🙂ж")
    assert ids.count(UNK_ID) == 2 and len(ids) == 5
    assert tokenizer.unknown["🙂"] == 2
    assert "2 unknown characters" in tokenizer.unknown_report()
    assert tokenizer.decode(ids).count("\ufffd") == 2


def test_vocabulary_is_deterministic_and_validated():
    a = GraphemeTokenizer.from_texts(["zyx", "abc"])
    b = GraphemeTokenizer.from_texts(["abc", "zyx"])
    assert a.vocab == b.vocab and a.vocab[2:] == list("abcxyz")
    with pytest.raises(ValueError, match="no characters"):
        GraphemeTokenizer.from_texts(["", "  "])
    with pytest.raises(ValueError, match="must start"):
        GraphemeTokenizer(["a", "b", "c"])
