"""FLEURS-style n-way parallel sentences for the embedded synthetic corpus.

As in FLEURS, sentence id ``k`` names the same sentence in every language. Here "the same"
means the same plan: :func:`plan_sentence` draws, from ``(sentence_id, seed)`` only, the slot
sequence (filler words, a person's name, a place, a month, a weekday, a date, numbers), the
number values and whether the sentence is a question. :func:`make_sentence` renders the plan
with real words of each language: Faker's locale data (first names, cities, month and day
names, word lists), num2words for the numbers (digits where num2words lacks the language) and
the hand-written lists of :mod:`fleursr.synth.wordlists`. Each rendered value is checked to be made
of
letters of the language's script, so sentences stay readable by espeak-ng.

Rendering is deterministic for ``(language, sentence_id, seed)`` and independent of call order:
the cached Faker instances are reseeded before every draw (under a lock, so threads may share
them).
"""

from __future__ import annotations

import functools
import hashlib
import random
import threading
from dataclasses import dataclass

from faker import Faker
from num2words import num2words

from fleursr.corpus.languages import Language, get_language, is_word_in_script
from fleursr.corpus.text import normalize_text
from fleursr.synth.wordlists import WORDS

WORD_BOUNDS = (6, 20)  # words per sentence in scripts written with spaces
CHAR_BOUNDS = (10, 40)  # characters (spaces excluded) in scripts written without spaces
UNSPACED_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr"})

# slot kind -> (Faker method, Faker provider module that must be localized for the language)
_FAKER_METHODS = {
    "word": ("word", "lorem"),
    "name": ("first_name", "person"),
    "place": ("city", "address"),
    "month": ("month_name", "date_time"),
    "weekday": ("day_of_week", "date_time"),
}
_PARALLEL_KINDS = frozenset({"month", "weekday"})  # language-independent seed: same month, mostly
_SIBLING_LOCALES = {"ar_eg": ("ar_AA", "ar_SA"), "es_419": ("es_ES",), "yue_hant_hk": ("zh_TW",)}
_UNREAL_FAKER_DATA = frozenset({("he_IL", "lorem")})  # pseudo-Hebrew "lorem ipsum"
# Japanese: espeak-ng reads kana only, so names come in katakana and kanji data is skipped.
_METHOD_OVERRIDES = {
    "ja_jp": {"name": "first_kana_name", "place": None, "month": None, "weekday": None},
    "ko_kr": {"month": None},  # Faker writes Korean months with digits ("8월")
    "vi_vn": {"name": "last_name"},  # Faker's Vietnamese first names are "John" and "Jane"
}
_WORD_SCRIPTS = {"ja_jp": ("HIRAGANA", "KATAKANA")}
_NUM2WORDS_OPTIONS = {"ja_jp": {"reading": True}}  # numbers in hiragana
_FULL_STOP = {"Deva": "।", "Beng": "।", "Guru": "।", "Orya": "।", "Hans": "。", "Hant": "。",
              "Jpan": "。", "Ethi": "።", "Mymr": "။", "Armn": "։", "Khmr": "។", "Thai": "",
              "Laoo": "", "ur_pk": "۔", "mr_in": "."}  # fmt: skip
_QUESTION_MARK = {"Arab": "؟", "Grek": ";", "Hans": "？", "Hant": "？", "Jpan": "？",
                  "Ethi": "፧", "Mymr": "။", "Armn": "։", "Thai": "", "Laoo": ""}  # fmt: skip
_CASED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn"})  # sentence-initial capital
_ATTEMPTS = 8
_FAKER_LOCK = threading.Lock()


class NoWordSourceError(ValueError):
    """Raised for a language with no Faker data, no num2words and no hand word list."""


@dataclass(frozen=True)
class SentencePlan:
    """The language-independent part of sentence ``sentence_id``."""

    kinds: tuple[str, ...]
    numbers: tuple[int, ...]  # numbers[0] is the main number; a "date" slot uses numbers[1]
    question: bool


def plan_sentence(sentence_id: int, seed: int) -> SentencePlan:
    """Draw the slot sequence, numbers and sentence type shared by all languages."""
    rng = random.Random(f"fleursr-sentence:{seed}:{sentence_id}")
    kinds = ["word"] * rng.randint(7, 12)
    for _ in range(rng.randint(1, 3)):
        kinds[rng.randrange(len(kinds))] = rng.choice(("name", "name", "place", "month", "weekday"))
    kinds[rng.randrange(len(kinds))] = "number"
    numbers = [rng.randint(2, 999)]
    if rng.random() < 0.3:
        free = [i for i, kind in enumerate(kinds) if kind != "number"]
        kinds[rng.choice(free)] = "date"
        numbers.append(rng.randint(1, 28))
    return SentencePlan(tuple(kinds), tuple(numbers), rng.random() < 0.15)


def spell_number(language_code: str, value: int) -> str:
    """Spell ``value`` in the language with num2words, or return digits when it cannot."""
    language = get_language(language_code)
    if language.num2words_lang is None:
        return str(value)
    options = _NUM2WORDS_OPTIONS.get(language.code, {})
    try:
        return num2words(value, lang=language.num2words_lang, **options)
    except Exception:  # num2words fails on some values in some languages  # noqa: BLE001
        return str(value)


def length_bounds(language_code: str) -> tuple[int, int]:
    """Return the allowed sentence length: words, or characters for unspaced scripts."""
    return CHAR_BOUNDS if get_language(language_code).script in UNSPACED_SCRIPTS else WORD_BOUNDS


def sentence_length(transcription: str, language_code: str) -> int:
    """Measure a transcription in the unit of :func:`length_bounds`."""
    if get_language(language_code).script in UNSPACED_SCRIPTS:
        return len(transcription.replace(" ", ""))
    return len(transcription.split())


@functools.cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


@functools.cache
def _faker_source(code: str, kind: str) -> tuple[Faker, str] | None:
    """Find a Faker instance whose data for ``kind`` is localized for the language."""
    language = get_language(code)
    overrides = _METHOD_OVERRIDES.get(code, {})
    method = overrides.get(kind, _FAKER_METHODS[kind][0])
    if method is None:
        return None
    module = f"faker.providers.{_FAKER_METHODS[kind][1]}"
    primary = (language.faker_locale,) if language.faker_locale else ()
    for locale in primary + _SIBLING_LOCALES.get(code, ()):
        if (locale, _FAKER_METHODS[kind][1]) in _UNREAL_FAKER_DATA:
            continue
        fake = _faker(locale)
        if any(p.__provider__ == module and p.__lang__ == locale for p in fake.providers):
            return fake, method
    return None


def _draw_seed(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _available(code: str, kind: str) -> bool:
    if kind == "word" and code in WORDS:
        return True
    return _faker_source(code, kind) is not None


def _draw(
    language: Language, kind: str, key: tuple[object, ...], avoid: frozenset[str] = frozenset()
) -> str | None:
    """Draw a value of ``kind`` made of words of the language's script, not one of ``avoid``."""
    code = language.code
    script = _WORD_SCRIPTS.get(code, language.script)
    for attempt in range(_ATTEMPTS):
        seed = (
            _draw_seed(*key, attempt)
            if kind in _PARALLEL_KINDS
            else _draw_seed(code, *key, attempt)
        )
        if kind == "word" and code in WORDS:
            value = random.Random(seed).choice(WORDS[code])
        else:
            fake, method = _faker_source(code, kind)  # type: ignore[misc]
            with _FAKER_LOCK:  # the cached instances are shared: reseed and draw atomically
                fake.seed_instance(seed)
                value = str(getattr(fake, method)())
        words_ok = all(is_word_in_script(token, script) for token in value.split())
        if words_ok and value not in avoid:
            return value
    return None


def _render(
    language: Language, kind: str, plan: SentencePlan, key: tuple[object, ...], used: list[str]
) -> str:
    """Render one slot; ``used`` holds the pieces already rendered, not to be repeated."""
    code = language.code
    if kind == "number":
        return spell_number(code, plan.numbers[0])
    if kind == "date":
        day = spell_number(code, plan.numbers[1])
        month = _draw(language, "month", key) if _available(code, "month") else None
        joiner = "" if language.script in UNSPACED_SCRIPTS else " "
        return f"{day}{joiner}{month}" if month else day
    if not _available(code, kind):
        fallbacks = [k for k in ("word", "name", "place") if _available(code, k)]
        if not fallbacks:
            raise NoWordSourceError(f"no word source for language {code!r}")
        kind = fallbacks[0]
    return _draw(language, kind, key, frozenset(used)) or ""


def _finish(language: Language, body: str, question: bool) -> str:
    script, code = language.script, language.code
    if script in _CASED_SCRIPTS and body[:1].islower():
        first = "İ" if body[0] == "i" and code in ("tr_tr", "az_az") else body[0].upper()
        body = first + body[1:]
    marks = _QUESTION_MARK if question else _FULL_STOP
    end = marks.get(code, marks.get(script, "?" if question else "."))
    opening = "¿" if question and code in ("es_419", "ast_es", "gl_es") else ""
    return f"{opening}{body}{end}"


def make_sentence(language_code: str, sentence_id: int, seed: int) -> tuple[str, str]:
    """Return ``(raw_transcription, transcription)`` of sentence ``sentence_id`` in a language.

    The raw text ends with the language's sentence punctuation (``.``, ``।``, ``。``, ``؟``,
    ...; Thai and Lao have none); the transcription is :func:`~fleursr.corpus.text.normalize_text`
    of it. Lengths stay within :func:`length_bounds`.

    Raises:
        UnknownLanguageError: for a code that is not a FLEURS code.
        NoWordSourceError: for a language without any word source.
    """
    language = get_language(language_code)
    plan = plan_sentence(sentence_id, seed)
    lower, upper = length_bounds(language.code)
    unspaced = language.script in UNSPACED_SCRIPTS
    joiner = "" if unspaced else " "
    pieces: list[str] = []
    for i, kind in enumerate(plan.kinds):
        pieces.append(_render(language, kind, plan, (seed, sentence_id, i), pieces))
    kinds = list(plan.kinds)

    def joined() -> str:
        out = ""
        for piece in (p for p in pieces if p):
            # Unspaced scripts still need a space between two numbers ("334 10", not "33410").
            glue = " " if out and out[-1].isdigit() and piece[0].isdigit() else joiner
            out = f"{out}{glue}{piece}" if out else piece
        return out

    def length() -> int:
        return sentence_length(normalize_text(joined()), language.code)

    extra = 0
    while length() < lower and extra < 4 * upper:
        key = (seed, sentence_id, "extra", extra)
        pieces.append(_render(language, "word", plan, key, pieces))
        kinds.append("word")
        extra += 1
    while length() > upper:
        removable = [i for i, kind in enumerate(kinds) if kind not in ("number", "date")]
        removable = removable or [i for i, kind in enumerate(kinds) if kind == "date"]
        if not removable:
            break
        del pieces[removable[-1]], kinds[removable[-1]]
    raw = _finish(language, joined(), plan.question)
    return raw, normalize_text(raw)
