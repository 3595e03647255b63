"""A Unicode grapheme tokenizer: any script, no phonemizer.

Text is normalized to NFC and its whitespace collapsed; every code point left is a token, so a
Devanagari consonant and its vowel sign (matra) or virama are separate tokens, an Arabic letter
and its harakat too, and Han text is one token per ideograph. The vocabulary is built from the
training corpus' transcriptions. A character outside the vocabulary maps to ``<unk>`` and is
counted in :attr:`GraphemeTokenizer.unknown`, never an error.

Ids: 0 is ``<pad>``, 1 is ``<unk>``, then the characters sorted by code point, so the same
texts always give the same vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
_SPACES = re.compile(r"\s+")


def normalize_graphemes(text: str) -> str:
    """NFC, any whitespace run -> one space, ends stripped; case and punctuation are kept
    (they carry prosody: a question mark, a comma's pause)."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch.isspace())
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


class GraphemeTokenizer:
    """Text <-> ids over a fixed character vocabulary (``[PAD, UNK, *chars]``)."""

    def __init__(self, vocab: Sequence[str]) -> None:
        vocab = list(vocab)
        if len(vocab) < 3 or vocab[PAD_ID] != PAD or vocab[UNK_ID] != UNK:
            raise ValueError(f"vocab must start with {PAD!r}, {UNK!r} and hold characters")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocab has duplicate entries")
        self.vocab = vocab
        self._ids = {ch: i for i, ch in enumerate(vocab) if i > UNK_ID}
        self.unknown: Counter[str] = Counter()

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 1) -> GraphemeTokenizer:
        """Vocabulary of every character seen at least ``min_count`` times after
        :func:`normalize_graphemes`."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(normalize_graphemes(text))
        chars = sorted(ch for ch, n in counts.items() if n >= max(1, min_count))
        if not chars:
            raise ValueError("no characters to build a vocabulary from: are the texts empty?")
        return cls([PAD, UNK, *chars])

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (normalized first); unknown characters -> ``UNK_ID``, counted."""
        ids = []
        for ch in normalize_graphemes(text):
            i = self._ids.get(ch, UNK_ID)
            if i == UNK_ID:
                self.unknown[ch] += 1
            ids.append(i)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; ``<pad>`` is dropped, ``<unk>`` comes back as U+FFFD."""
        out = []
        for i in ids:
            i = int(i)
            if i == PAD_ID:
                continue
            out.append("\ufffd" if i == UNK_ID or i >= len(self.vocab) else self.vocab[i])
        return "".join(out)

    def unknown_report(self, top: int = 10) -> str:
        """A one-line summary of the unknown characters seen so far ("" when none)."""
        if not self.unknown:
            return ""
        total = sum(self.unknown.values())
        shown = ", ".join(
            f"{ch!r} (U+{ord(ch):04X}) x{n}" for ch, n in self.unknown.most_common(top)
        )
        return f"{total} unknown characters mapped to {UNK}: {shown}"
