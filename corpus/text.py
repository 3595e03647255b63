"""The project's one text normalizer, used for every transcription of every language.

:func:`normalize_text` turns a raw transcription into the form that is compared and scored:
Unicode NFKC, lower case, punctuation and symbols replaced by spaces, whitespace collapsed.
It is written for all FLEURS scripts: combining marks (Unicode categories Mn, Mc, Me) are kept
by default, so Devanagari matras and viramas, Thai vowel and tone marks, Arabic harakat and
Hebrew points stay inside their words, and Han, Kana and Hangul text passes through untouched.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = {"'": "'", "\u2019": "'"}
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ / ZWJ: part of Persian and Indic spelling
_SPACES = re.compile(r"\s+")
# "İ".lower() gives "i" + COMBINING DOT ABOVE; the dot is dropped so Turkish "İ" becomes "i".
_DOTTED_I = ("i\u0307", "i")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] != "M")
    return unicodedata.normalize("NFC", kept)


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in _JOINERS


def normalize_text(
    text: str,
    *,
    keep_marks: bool = True,
    keep_digits: bool = True,
    keep_punct: bool = False,
    lowercase: bool = True,
) -> str:
    """Normalize a transcription for comparison, in any script.

    Steps, in order:

    1. Unicode NFKC (full-width forms, ligatures and compatibility characters are folded,
       e.g. ``"？"`` -> ``"?"``, ``"ﬁ"`` -> ``"fi"``).
    2. Lower case with :meth:`str.lower` (not :meth:`str.casefold`, which would turn German
       ``ß`` into ``ss`` and Greek final ``ς`` into ``σ``); Turkish ``İ`` becomes ``i``.
    3. Character classes: letters are kept; combining marks (Mn/Mc/Me) are kept; digits and
       other numbers are kept; an apostrophe (``'`` or ``’``) between two word characters is
       kept as ``'`` (``don't``, ``aujourd'hui``, ``п'ять``); zero-width (non-)joiners are
       kept; punctuation (P*) and symbols (S*) become spaces; other format and control
       characters are dropped and whitespace becomes a space.
    4. Runs of whitespace are collapsed to one space and the ends are stripped.

    Args:
        text: raw transcription.
        keep_marks: keep combining marks. ``False`` strips them after canonical decomposition,
            which removes Latin accents (``é`` -> ``e``) but also Indic vowel signs and Arabic
            harakat; it is meant for accent-insensitive diagnostics only.
        keep_digits: keep digits and other numeric characters; ``False`` turns them into spaces.
        keep_punct: keep punctuation and symbols unchanged instead of turning them into spaces.
        lowercase: apply step 2.

    Returns:
        The normalized text; ``""`` when nothing is left.
    """
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        text = text.lower().replace(*_DOTTED_I)
    if not keep_marks:
        text = _strip_marks(text)
    out: list[str] = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        major = category[0]
        if major in "LM" or ch in _JOINERS:
            out.append(ch)
        elif major == "N":
            out.append(ch if keep_digits else " ")
        elif ch in _APOSTROPHES and not keep_punct:
            inside = 0 < i < last and _is_word_char(text[i - 1]) and _is_word_char(text[i + 1])
            out.append(_APOSTROPHES[ch] if inside else " ")
        elif major in "PS":
            out.append(ch if keep_punct else " ")
        elif major == "Z" or ch.isspace():
            out.append(" ")
        # other control, format, private-use and unassigned characters are dropped
    return _SPACES.sub(" ", "".join(out)).strip()


def decode_utf8(data: bytes) -> tuple[str, bool]:
    """``(text, ok)``: ``data`` decoded as UTF-8 (a leading BOM dropped); where it is not valid
    UTF-8, the text decoded as far as possible (bad bytes -> U+FFFD) and ``ok`` False."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace"), False
