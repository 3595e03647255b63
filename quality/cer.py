"""Character error rate with the project's one text normalizer.

CER = (substitutions + deletions + insertions) / reference characters, counted by jiwer after
``fleursr.corpus.text.normalize_text`` (NFKC, lower case, punctuation removed, digits and combining
marks
kept, whitespace collapsed; spaces count as characters). Over a language or a corpus the rate
is total edits over total reference characters, not a mean of per-utterance rates.

Given the utterance's language, numbers written in digits are spelled out first on both sides
(:func:`spell_numbers`, num2words in that language): FLEURS-style transcriptions spell numbers
("six hundred and twelve") where Whisper writes digits ("612"), and without it the two readings
of the same words cost most of the edits of a sentence with numbers in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import jiwer
from num2words import num2words

from fleursr.corpus.languages import UnknownLanguageError, get_language
from fleursr.corpus.text import normalize_text

# 1,000 / 1.000 / 1 000 (thin or no-break space): one number, its group separators dropped
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[,.\u00a0\u202f]\d{3})+(?![\d])")
_SEPARATORS = re.compile(r"[,.\u00a0\u202f]")
_DIGITS = re.compile(r"\d+")


def spell_numbers(text: str, language: str | None) -> str:
    """``text`` with each run of digits spelled out in ``language`` (a FLEURS code) by
    num2words, a grouped number (``1,000``, ``1.000``) as one; unchanged where the language is
    unknown or num2words cannot spell it."""
    if not language or not any(ch.isdigit() for ch in text):
        return text
    try:
        lang = get_language(language).num2words_lang
    except UnknownLanguageError:
        return text
    if lang is None:
        return text

    def spell(match: re.Match[str]) -> str:
        try:
            return f" {num2words(int(match.group()), lang=lang)} "
        except (NotImplementedError, OverflowError, ValueError, KeyError, IndexError):
            # beyond a language's tables (num2words' Russian stops at 10^33 with a KeyError; a
            # looping ASR writes "201.000.000...000")
            return match.group()

    text = _GROUPED.sub(lambda m: _SEPARATORS.sub("", m.group()), text)
    return _DIGITS.sub(spell, text)


@dataclass(frozen=True)
class CharCounts:
    """Edit counts of one or many (reference, hypothesis) pairs."""

    edits: int
    ref_chars: int

    @property
    def cer(self) -> float:
        if self.ref_chars == 0:
            return 0.0 if self.edits == 0 else 1.0
        return self.edits / self.ref_chars

    def __add__(self, other: CharCounts) -> CharCounts:
        return CharCounts(self.edits + other.edits, self.ref_chars + other.ref_chars)


def char_counts(
    reference: str, hypothesis: str, normalize: bool = True, language: str | None = None
) -> CharCounts:
    """Edits and reference length of one pair (normalized first unless ``normalize=False``;
    with ``language``, numbers in digits spelled out first, see :func:`spell_numbers`)."""
    if normalize:
        reference = normalize_text(spell_numbers(reference, language))
        hypothesis = normalize_text(spell_numbers(hypothesis, language))
    ref, hyp = reference, hypothesis
    if not ref:
        return CharCounts(len(hyp), 0)
    if not hyp:
        return CharCounts(len(ref), len(ref))
    out = jiwer.process_characters(ref, hyp)
    return CharCounts(out.substitutions + out.deletions + out.insertions,
                      out.substitutions + out.deletions + out.hits)  # fmt: skip


def cer(
    reference: str, hypothesis: str, normalize: bool = True, language: str | None = None
) -> float:
    """CER of one utterance (an empty reference gives 0 for an empty hypothesis, else 1)."""
    return char_counts(reference, hypothesis, normalize, language).cer


def corpus_cer(pairs: Iterable[tuple[str, str]], normalize: bool = True) -> float:
    """Total edits over total reference characters of many (reference, hypothesis) pairs."""
    total = CharCounts(0, 0)
    for ref, hyp in pairs:
        total = total + char_counts(ref, hyp, normalize)
    return total.cer


def cer_by_language(
    rows: Iterable[tuple[str, str, str]], normalize: bool = True
) -> dict[str, float]:
    """``(language, reference, hypothesis)`` rows -> corpus-level CER per language."""
    totals: dict[str, CharCounts] = {}
    for lang, ref, hyp in rows:
        counts = char_counts(ref, hyp, normalize, lang)
        totals[lang] = totals.get(lang, CharCounts(0, 0)) + counts
    return {lang: c.cer for lang, c in sorted(totals.items())}
