"""The 102 FLEURS languages and what the corpus builder knows about each of them.

Codes are the config names of the ``google/fleurs`` dataset (``en_us``, ``cmn_hans_cn``, ...).
``lang_id`` is the index of the code in the sorted list of codes and ``group_id`` the index of
the group in :data:`LANGUAGE_GROUPS`, exactly as FLEURS numbers them. Names and group names
keep FLEURS' spelling (``Sorani-Kurdish``, ``chinese_japanase_korean_cjk``).

Per language the table also records the main script (ISO 15924), the espeak-ng 1.51 voice,
the Faker locale and the num2words language code, each ``None`` where the tool has nothing
for that language.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

LANGUAGE_GROUPS: tuple[str, ...] = (
    "western_european_we",
    "eastern_european_ee",
    "central_asia_middle_north_african_cmn",
    "sub_saharan_african_ssa",
    "south_asian_sa",
    "south_east_asian_sea",
    "chinese_japanase_korean_cjk",
)
_WE, _EE, _CMN, _SSA, _SA, _SEA, _CJK = LANGUAGE_GROUPS


@dataclass(frozen=True)
class Language:
    """One FLEURS language.

    Attributes:
        code: FLEURS config name, e.g. ``"fr_fr"``.
        name: FLEURS English name, e.g. ``"French"``.
        group: FLEURS language group, one of :data:`LANGUAGE_GROUPS`.
        group_id: index of ``group`` in :data:`LANGUAGE_GROUPS` (FLEURS ``lang_group_id``).
        lang_id: index of ``code`` in the sorted list of codes (FLEURS ``lang_id``).
        iso639_1: two-letter ISO 639-1 code, ``None`` where the language has none.
        iso639_3: ISO 639-3 code as on the FLEURS dataset card (e.g. ``azj``, ``npi``, ``swh``).
        script: main script of the FLEURS transcripts, ISO 15924 (``Latn``, ``Deva``, ...).
        espeak_voice: espeak-ng 1.51 voice name, ``None`` when espeak-ng has no voice.
        faker_locale: Faker locale of the language, ``None`` when Faker has none.
        num2words_lang: num2words ``lang`` argument, ``None`` when num2words cannot spell
            numbers in this language and script.
    """

    code: str
    name: str
    group: str
    group_id: int
    lang_id: int
    iso639_1: str | None
    iso639_3: str
    script: str
    espeak_voice: str | None
    faker_locale: str | None
    num2words_lang: str | None


# code, name, group, ISO 639-1, ISO 639-3, script, espeak-ng voice, Faker locale, num2words.
# Notes: cmn uses espeak-ng's "cmn-latn-pinyin" voice, because the plain "cmn" voice reads the
# pinyin fallback of some characters (e.g. 们) as English words; fr_fr uses "fr" (the same voice
# file as "fr-fr"), because espeak-ng ignores "+variant" on "fr-fr". num2words writes Serbian in
# Latin script while FLEURS' Serbian is Cyrillic, hence no num2words code for sr_rs.
_N = None
_TABLE: tuple[
    tuple[str, str, str, str | None, str, str, str | None, str | None, str | None], ...
] = (
    ("af_za", "Afrikaans", _SSA, "af", "afr", "Latn", "af", _N, _N),
    ("am_et", "Amharic", _SSA, "am", "amh", "Ethi", "am", "am_ET", "am"),
    ("ar_eg", "Arabic", _CMN, "ar", "ara", "Arab", "ar", "ar_EG", "ar"),
    ("as_in", "Assamese", _SA, "as", "asm", "Beng", "as", _N, _N),
    ("ast_es", "Asturian", _WE, _N, "ast", "Latn", _N, _N, _N),
    ("az_az", "Azerbaijani", _CMN, "az", "azj", "Latn", "az", "az_AZ", "az"),
    ("be_by", "Belarusian", _EE, "be", "bel", "Cyrl", "be", _N, "be"),
    ("bg_bg", "Bulgarian", _EE, "bg", "bul", "Cyrl", "bg", "bg_BG", _N),
    ("bn_in", "Bengali", _SA, "bn", "ben", "Beng", "bn", "bn_BD", "bn"),
    ("bs_ba", "Bosnian", _WE, "bs", "bos", "Latn", "bs", "bs_BA", _N),
    ("ca_es", "Catalan", _WE, "ca", "cat", "Latn", "ca", _N, "ca"),
    ("ceb_ph", "Cebuano", _SEA, _N, "ceb", "Latn", _N, _N, _N),
    ("ckb_iq", "Sorani-Kurdish", _CMN, _N, "ckb", "Arab", _N, _N, _N),
    ("cmn_hans_cn", "Mandarin Chinese", _CJK, "zh", "cmn", "Hans", "cmn-latn-pinyin", "zh_CN", _N),
    ("cs_cz", "Czech", _EE, "cs", "ces", "Latn", "cs", "cs_CZ", "cs"),
    ("cy_gb", "Welsh", _WE, "cy", "cym", "Latn", "cy", _N, "cy"),
    ("da_dk", "Danish", _WE, "da", "dan", "Latn", "da", "da_DK", "da"),
    ("de_de", "German", _WE, "de", "deu", "Latn", "de", "de_DE", "de"),
    ("el_gr", "Greek", _WE, "el", "ell", "Grek", "el", "el_GR", _N),
    ("en_us", "English", _WE, "en", "eng", "Latn", "en-us", "en_US", "en"),
    ("es_419", "Spanish", _WE, "es", "spa", "Latn", "es-419", "es_MX", "es"),
    ("et_ee", "Estonian", _EE, "et", "est", "Latn", "et", "et_EE", _N),
    ("fa_ir", "Persian", _CMN, "fa", "fas", "Arab", "fa", "fa_IR", "fa"),
    ("ff_sn", "Fula", _SSA, "ff", "ful", "Latn", _N, _N, _N),
    ("fi_fi", "Finnish", _WE, "fi", "fin", "Latn", "fi", "fi_FI", "fi"),
    ("fil_ph", "Filipino", _SEA, _N, "fil", "Latn", _N, "fil_PH", _N),
    ("fr_fr", "French", _WE, "fr", "fra", "Latn", "fr", "fr_FR", "fr"),
    ("ga_ie", "Irish", _WE, "ga", "gle", "Latn", "ga", "ga_IE", _N),
    ("gl_es", "Galician", _WE, "gl", "glg", "Latn", _N, _N, _N),
    ("gu_in", "Gujarati", _SA, "gu", "guj", "Gujr", "gu", "gu_IN", _N),
    ("ha_ng", "Hausa", _SSA, "ha", "hau", "Latn", _N, "ha_NG", _N),
    ("he_il", "Hebrew", _CMN, "he", "heb", "Hebr", "he", "he_IL", "he"),
    ("hi_in", "Hindi", _SA, "hi", "hin", "Deva", "hi", "hi_IN", _N),
    ("hr_hr", "Croatian", _WE, "hr", "hrv", "Latn", "hr", "hr_HR", _N),
    ("hu_hu", "Hungarian", _WE, "hu", "hun", "Latn", "hu", "hu_HU", "hu"),
    ("hy_am", "Armenian", _EE, "hy", "hye", "Armn", "hy", "hy_AM", _N),
    ("id_id", "Indonesian", _SEA, "id", "ind", "Latn", "id", "id_ID", "id"),
    ("ig_ng", "Igbo", _SSA, "ig", "ibo", "Latn", _N, "ig_NG", _N),
    ("is_is", "Icelandic", _WE, "is", "isl", "Latn", "is", "is_IS", "is"),
    ("it_it", "Italian", _WE, "it", "ita", "Latn", "it", "it_IT", "it"),
    ("ja_jp", "Japanese", _CJK, "ja", "jpn", "Jpan", "ja", "ja_JP", "ja"),
    ("jv_id", "Javanese", _SEA, "jv", "jav", "Latn", _N, _N, _N),
    ("ka_ge", "Georgian", _EE, "ka", "kat", "Geor", "ka", "ka_GE", _N),
    ("kam_ke", "Kamba", _SSA, _N, "kam", "Latn", _N, _N, _N),
    ("kea_cv", "Kabuverdianu", _WE, _N, "kea", "Latn", _N, _N, _N),
    ("kk_kz", "Kazakh", _CMN, "kk", "kaz", "Cyrl", "kk", _N, "kz"),
    ("km_kh", "Khmer", _SEA, "km", "khm", "Khmr", _N, _N, _N),
    ("kn_in", "Kannada", _SA, "kn", "kan", "Knda", "kn", _N, "kn"),
    ("ko_kr", "Korean", _CJK, "ko", "kor", "Kore", "ko", "ko_KR", "ko"),
    ("ky_kg", "Kyrgyz", _CMN, "ky", "kir", "Cyrl", "ky", _N, _N),
    ("lb_lu", "Luxembourgish", _WE, "lb", "ltz", "Latn", "lb", "lb_LU", _N),
    ("lg_ug", "Ganda", _SSA, "lg", "lug", "Latn", _N, _N, _N),
    ("ln_cd", "Lingala", _SSA, "ln", "lin", "Latn", _N, _N, _N),
    ("lo_la", "Lao", _SEA, "lo", "lao", "Laoo", _N, _N, _N),
    ("lt_lt", "Lithuanian", _EE, "lt", "lit", "Latn", "lt", "lt_LT", "lt"),
    ("luo_ke", "Luo", _SSA, _N, "luo", "Latn", _N, _N, _N),
    ("lv_lv", "Latvian", _EE, "lv", "lav", "Latn", "lv", "lv_LV", "lv"),
    ("mi_nz", "Maori", _SEA, "mi", "mri", "Latn", "mi", _N, _N),
    ("mk_mk", "Macedonian", _EE, "mk", "mkd", "Cyrl", "mk", "mk_MK", _N),
    ("ml_in", "Malayalam", _SA, "ml", "mal", "Mlym", "ml", _N, _N),
    ("mn_mn", "Mongolian", _CMN, "mn", "mon", "Cyrl", _N, _N, _N),
    ("mr_in", "Marathi", _SA, "mr", "mar", "Deva", "mr", "mr_IN", _N),
    ("ms_my", "Malay", _SEA, "ms", "msa", "Latn", "ms", _N, _N),
    ("mt_mt", "Maltese", _WE, "mt", "mlt", "Latn", "mt", "mt_MT", _N),
    ("my_mm", "Burmese", _SEA, "my", "mya", "Mymr", "my", _N, _N),
    ("nb_no", "Norwegian", _WE, "nb", "nob", "Latn", "nb", "no_NO", "no"),
    ("ne_np", "Nepali", _SA, "ne", "npi", "Deva", "ne", "ne_NP", _N),
    ("nl_nl", "Dutch", _WE, "nl", "nld", "Latn", "nl", "nl_NL", "nl"),
    ("nso_za", "Northern-Sotho", _SSA, _N, "nso", "Latn", _N, _N, _N),
    ("ny_mw", "Nyanja", _SSA, "ny", "nya", "Latn", _N, _N, _N),
    ("oc_fr", "Occitan", _WE, "oc", "oci", "Latn", _N, _N, _N),
    ("om_et", "Oromo", _SSA, "om", "orm", "Latn", "om", _N, _N),
    ("or_in", "Oriya", _SA, "or", "ory", "Orya", "or", "or_IN", _N),
    ("pa_in", "Punjabi", _SA, "pa", "pan", "Guru", "pa", _N, _N),
    ("pl_pl", "Polish", _EE, "pl", "pol", "Latn", "pl", "pl_PL", "pl"),
    ("ps_af", "Pashto", _CMN, "ps", "pus", "Arab", _N, _N, _N),
    ("pt_br", "Portuguese", _WE, "pt", "por", "Latn", "pt-br", "pt_BR", "pt_BR"),
    ("ro_ro", "Romanian", _EE, "ro", "ron", "Latn", "ro", "ro_RO", "ro"),
    ("ru_ru", "Russian", _EE, "ru", "rus", "Cyrl", "ru", "ru_RU", "ru"),
    ("sd_in", "Sindhi", _SA, "sd", "snd", "Arab", "sd", _N, _N),
    ("sk_sk", "Slovak", _EE, "sk", "slk", "Latn", "sk", "sk_SK", "sk"),
    ("sl_si", "Slovenian", _EE, "sl", "slv", "Latn", "sl", "sl_SI", "sl"),
    ("sn_zw", "Shona", _SSA, "sn", "sna", "Latn", _N, _N, _N),
    ("so_so", "Somali", _SSA, "so", "som", "Latn", _N, _N, _N),
    ("sr_rs", "Serbian", _EE, "sr", "srp", "Cyrl", "sr", "sr_BA", _N),
    ("sv_se", "Swedish", _WE, "sv", "swe", "Latn", "sv", "sv_SE", "sv"),
    ("sw_ke", "Swahili", _SSA, "sw", "swh", "Latn", "sw", "sw", _N),
    ("ta_in", "Tamil", _SA, "ta", "tam", "Taml", "ta", "ta_IN", _N),
    ("te_in", "Telugu", _SA, "te", "tel", "Telu", "te", _N, "te"),
    ("tg_tj", "Tajik", _CMN, "tg", "tgk", "Cyrl", _N, _N, "tg"),
    ("th_th", "Thai", _SEA, "th", "tha", "Thai", "th", "th_TH", "th"),
    ("tr_tr", "Turkish", _CMN, "tr", "tur", "Latn", "tr", "tr_TR", "tr"),
    ("uk_ua", "Ukrainian", _EE, "uk", "ukr", "Cyrl", "uk", "uk_UA", "uk"),
    ("umb_ao", "Umbundu", _SSA, _N, "umb", "Latn", _N, _N, _N),
    ("ur_pk", "Urdu", _SA, "ur", "urd", "Arab", "ur", _N, _N),
    ("uz_uz", "Uzbek", _CMN, "uz", "uzb", "Latn", "uz", "uz_UZ", _N),
    ("vi_vn", "Vietnamese", _SEA, "vi", "vie", "Latn", "vi", "vi_VN", "vi"),
    ("wo_sn", "Wolof", _SSA, "wo", "wol", "Latn", _N, _N, _N),
    ("xh_za", "Xhosa", _SSA, "xh", "xho", "Latn", _N, _N, _N),
    ("yo_ng", "Yoruba", _SSA, "yo", "yor", "Latn", _N, "yo_NG", _N),
    ("yue_hant_hk", "Cantonese Chinese", _CJK, _N, "yue", "Hant", "yue", _N, _N),
    ("zu_za", "Zulu", _SSA, "zu", "zul", "Latn", _N, "zu_ZA", _N),
)

_CODES_SORTED = sorted(row[0] for row in _TABLE)
_LANGUAGES: dict[str, Language] = {
    row[0]: Language(
        code=row[0],
        name=row[1],
        group=row[2],
        group_id=LANGUAGE_GROUPS.index(row[2]),
        lang_id=_CODES_SORTED.index(row[0]),
        iso639_1=row[3],
        iso639_3=row[4],
        script=row[5],
        espeak_voice=row[6],
        faker_locale=row[7],
        num2words_lang=row[8],
    )
    for row in sorted(_TABLE)
}

#: Default languages of the embedded synthetic corpus: every one has an espeak-ng voice that
#: speaks its sentences; together they cover the 7 FLEURS groups and 17 scripts.
EMBEDDED_LANGUAGES: tuple[str, ...] = (
    "en_us", "fr_fr", "de_de", "es_419", "it_it", "pt_br", "nl_nl", "el_gr",
    "ru_ru", "pl_pl", "uk_ua", "ka_ge", "hy_am", "cs_cz",
    "ar_eg", "tr_tr", "fa_ir", "he_il",
    "sw_ke", "af_za", "am_et",
    "hi_in", "bn_in", "ta_in", "ur_pk",
    "id_id", "vi_vn", "ms_my", "th_th", "my_mm",
    "cmn_hans_cn", "ja_jp", "ko_kr", "yue_hant_hk",
)  # fmt: skip

#: Languages held out of the training of every shipped model (``recipes/embedded.sh``): results
#: on them are for languages the models never heard. Their scripts (Latin, Cyrillic, Arabic)
#: are seen in other languages, so the embedded ASR's CER stays meaningful on them.
HELD_OUT_LANGUAGES: tuple[str, ...] = ("sw_ke", "uk_ua", "ur_pk", "ms_my")

#: The demo's languages: eight the shipped models trained on (six scripts) and the held-out four.
DEMO_LANGUAGES: tuple[str, ...] = (
    "en_us", "fr_fr", "de_de", "es_419", "ru_ru", "hi_in", "ar_eg", "cmn_hans_cn",
    *HELD_OUT_LANGUAGES,
)  # fmt: skip

#: Prefixes of the Unicode character names of the letters and marks of each script.
SCRIPT_NAME_PREFIXES: dict[str, tuple[str, ...]] = {
    "Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Grek": ("GREEK",), "Arab": ("ARABIC",),
    "Hebr": ("HEBREW",), "Deva": ("DEVANAGARI",), "Beng": ("BENGALI",), "Taml": ("TAMIL",),
    "Telu": ("TELUGU",), "Knda": ("KANNADA",), "Mlym": ("MALAYALAM",), "Gujr": ("GUJARATI",),
    "Guru": ("GURMUKHI",), "Orya": ("ORIYA",), "Geor": ("GEORGIAN",), "Armn": ("ARMENIAN",),
    "Ethi": ("ETHIOPIC",), "Thai": ("THAI",), "Laoo": ("LAO",), "Khmr": ("KHMER",),
    "Mymr": ("MYANMAR",), "Hans": ("CJK",), "Hant": ("CJK",), "Kore": ("HANGUL",),
    "Jpan": ("CJK", "HIRAGANA", "KATAKANA"),
}  # fmt: skip

_JOINERS = frozenset("\u200c\u200d")
_APOSTROPHES = frozenset("'\u2019")


class UnknownLanguageError(KeyError, ValueError):
    """Raised for a code that is not one of the 102 FLEURS codes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown language"


def get_language(code: str) -> Language:
    """Return the language of a FLEURS code; ``"en-US"`` is accepted as ``"en_us"``.

    Raises:
        UnknownLanguageError: for an unknown code, with the closest FLEURS codes in the message.
    """
    key = code.strip().lower().replace("-", "_")
    if key in _LANGUAGES:
        return _LANGUAGES[key]
    by_prefix = [c for c in _CODES_SORTED if c.split("_")[0] == key.split("_")[0]]
    by_name = [lang.code for lang in _LANGUAGES.values() if lang.name.lower() == key]
    close = difflib.get_close_matches(key, _CODES_SORTED, n=5, cutoff=0.6)
    matches = list(dict.fromkeys(by_name + by_prefix + close))
    hint = f"; did you mean {', '.join(matches)}?" if matches else ""
    raise UnknownLanguageError(f"unknown FLEURS language code {code!r}{hint}")


def all_languages() -> tuple[Language, ...]:
    """Return all 102 FLEURS languages in ``lang_id`` order."""
    return tuple(_LANGUAGES[code] for code in _CODES_SORTED)


def languages_in_group(group: str) -> tuple[Language, ...]:
    """Return the languages of one FLEURS group (a name of :data:`LANGUAGE_GROUPS`)."""
    if group not in LANGUAGE_GROUPS:
        raise ValueError(f"unknown FLEURS group {group!r}; expected one of {LANGUAGE_GROUPS}")
    return tuple(lang for lang in all_languages() if lang.group == group)


def is_word_in_script(word: str, script: str | tuple[str, ...]) -> bool:
    """Tell whether ``word`` is made only of letters and marks of ``script``.

    ``script`` is an ISO 15924 code of :data:`SCRIPT_NAME_PREFIXES` or a tuple of Unicode name
    prefixes. Zero-width (non-)joiners and apostrophes inside the word are allowed, and so are
    generic combining marks (``COMBINING ...``); digits and punctuation are not.
    """
    prefixes = SCRIPT_NAME_PREFIXES[script] if isinstance(script, str) else script
    if not word or word[0] in _APOSTROPHES or word[-1] in _APOSTROPHES:
        return False
    for ch in word:
        if ch in _JOINERS or ch in _APOSTROPHES:
            continue
        category = unicodedata.category(ch)
        if category[0] not in "LM":
            return False
        name = unicodedata.name(ch, "")
        if not name.startswith(prefixes) and not (category[0] == "M" and "COMBINING" in name):
            return False
    return True


def find_language(value: str) -> Language | None:
    """Find a language by FLEURS code, FLEURS English name or ISO 639-1/639-3 code.

    Matching ignores case and accepts ``-`` for ``_`` (``"en-US"``, ``"english"``, ``"eng"``,
    ``"cmn"``). An ISO code shared by several FLEURS languages matches none of them.

    Returns:
        The language, or ``None`` when nothing matches.
    """
    key = value.strip().lower().replace("-", "_")
    if not key:
        return None
    if key in _LANGUAGES:
        return _LANGUAGES[key]
    for field in ("name", "iso639_3", "iso639_1"):
        found = [
            lang
            for lang in _LANGUAGES.values()
            if (getattr(lang, field) or "").lower().replace("-", "_") == key
        ]
        if len(found) == 1:
            return found[0]
    return None
