"""Character error rate with the project's one text normalizer.

CER = (substitutions + deletions + insertions) / reference characters, counted by jiwer after
``fleursr.corpus.text.normalize_text`` (NFKC, lower case, punctuation removed, digits and combining
marks
kept, whitespace collapsed; spaces count as characters). Over a language or a corpus the rate
is total edits over total reference characters, not a mean of per-utterance rates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jiwer

from fleursr.corpus.text import normalize_text


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


def char_counts(reference: str, hypothesis: str, normalize: bool = True) -> CharCounts:
    """Edits and reference length of one pair (normalized first unless ``normalize=False``)."""
    ref = normalize_text(reference) if normalize else reference
    hyp = normalize_text(hypothesis) if normalize else hypothesis
    if not ref:
        return CharCounts(len(hyp), 0)
    if not hyp:
        return CharCounts(len(ref), len(ref))
    out = jiwer.process_characters(ref, hyp)
    return CharCounts(out.substitutions + out.deletions + out.insertions,
                      out.substitutions + out.deletions + out.hits)  # fmt: skip


def cer(reference: str, hypothesis: str, normalize: bool = True) -> float:
    """CER of one utterance (an empty reference gives 0 for an empty hypothesis, else 1)."""
    return char_counts(reference, hypothesis, normalize).cer


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
        totals[lang] = totals.get(lang, CharCounts(0, 0)) + char_counts(ref, hyp, normalize)
    return {lang: c.cer for lang, c in sorted(totals.items())}
