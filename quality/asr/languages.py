"""What each ASR backend calls the 102 FLEURS languages.

Whisper. ``WHISPER_LANGUAGES`` maps a FLEURS code to the language code of Whisper's tokenizer
(``transformers.models.whisper.tokenization_whisper.LANGUAGES``: 100 languages in
large-v3, 99 before it; the decoder prompt token is ``<|code|>``). Mostly ISO 639-1, with
Whisper's own choices: Javanese is ``jw`` (not ``jv``), Norwegian Bokmål is ``no``, Filipino
maps to Tagalog ``tl`` (Filipino is standardized Tagalog) and Cantonese is ``yue`` (large-v3
only: older checkpoints lack the token, which ``WhisperASR`` checks against the model). The 19
FLEURS languages Whisper has no token for map to ``None``: Asturian, Cebuano, Sorani Kurdish,
Fula, Irish, Igbo, Kamba, Kabuverdianu, Kyrgyz, Ganda, Luo, Northern Sotho, Nyanja, Oromo,
Oriya, Umbundu, Wolof, Xhosa and Zulu.

MMS. ``MMS_LANGUAGES`` maps a FLEURS code to the adapter (and tokenizer vocabulary) name of
``facebook/mms-1b-all``: ISO 639-3 as ``fleursr.corpus.languages`` records it, except where MMS
names
the language variety or script: Azerbaijani ``azj-script_latin``, Mandarin
``cmn-script_simplified``, Cantonese ``yue-script_traditional``, Urdu ``urd-script_arabic``,
Uzbek ``uzb-script_latin``, Serbian ``srp-script_cyrillic``, Filipino ``tgl`` and Malay ``zlm``
(Standard Malay). Every FLEURS language has an MMS-1b-all adapter.

Verified offline: every Whisper code against transformers' ``LANGUAGES`` (the tests do it);
the MMS codes only against public copies of the MMS language list (``all_langs.tsv`` of the MMS
demo and the adapter list of ``facebook/mms-1b-fl102``), not against the model's own
``vocab.json``, which cannot be downloaded here. ``CTCASR`` checks the loaded tokenizer and
names the language when a code is missing. One choice is a judgment call: MMS-1b-all has both
``srp-script_cyrillic`` and ``srp-script_latin`` (the FLEURS-only ``mms-1b-fl102`` names its
Serbian adapter ``srp-script_latin``); FLEURS' Serbian transcripts are Cyrillic, so the
Cyrillic adapter is used, and ``CTCASR(adapters={"sr_rs": "srp-script_latin"})`` overrides it.
"""

from __future__ import annotations

from fleursr.corpus.languages import all_languages, get_language
from fleursr.quality.asr.base import UnsupportedLanguageError

_N = None

# FLEURS code -> (Whisper language code or None, MMS-1b-all adapter code).
_TABLE: dict[str, tuple[str | None, str]] = {
    "af_za": ("af", "afr"),
    "am_et": ("am", "amh"),
    "ar_eg": ("ar", "ara"),
    "as_in": ("as", "asm"),
    "ast_es": (_N, "ast"),
    "az_az": ("az", "azj-script_latin"),
    "be_by": ("be", "bel"),
    "bg_bg": ("bg", "bul"),
    "bn_in": ("bn", "ben"),
    "bs_ba": ("bs", "bos"),
    "ca_es": ("ca", "cat"),
    "ceb_ph": (_N, "ceb"),
    "ckb_iq": (_N, "ckb"),
    "cmn_hans_cn": ("zh", "cmn-script_simplified"),
    "cs_cz": ("cs", "ces"),
    "cy_gb": ("cy", "cym"),
    "da_dk": ("da", "dan"),
    "de_de": ("de", "deu"),
    "el_gr": ("el", "ell"),
    "en_us": ("en", "eng"),
    "es_419": ("es", "spa"),
    "et_ee": ("et", "est"),
    "fa_ir": ("fa", "fas"),
    "ff_sn": (_N, "ful"),
    "fi_fi": ("fi", "fin"),
    "fil_ph": ("tl", "tgl"),
    "fr_fr": ("fr", "fra"),
    "ga_ie": (_N, "gle"),
    "gl_es": ("gl", "glg"),
    "gu_in": ("gu", "guj"),
    "ha_ng": ("ha", "hau"),
    "he_il": ("he", "heb"),
    "hi_in": ("hi", "hin"),
    "hr_hr": ("hr", "hrv"),
    "hu_hu": ("hu", "hun"),
    "hy_am": ("hy", "hye"),
    "id_id": ("id", "ind"),
    "ig_ng": (_N, "ibo"),
    "is_is": ("is", "isl"),
    "it_it": ("it", "ita"),
    "ja_jp": ("ja", "jpn"),
    "jv_id": ("jw", "jav"),
    "ka_ge": ("ka", "kat"),
    "kam_ke": (_N, "kam"),
    "kea_cv": (_N, "kea"),
    "kk_kz": ("kk", "kaz"),
    "km_kh": ("km", "khm"),
    "kn_in": ("kn", "kan"),
    "ko_kr": ("ko", "kor"),
    "ky_kg": (_N, "kir"),
    "lb_lu": ("lb", "ltz"),
    "lg_ug": (_N, "lug"),
    "ln_cd": ("ln", "lin"),
    "lo_la": ("lo", "lao"),
    "lt_lt": ("lt", "lit"),
    "luo_ke": (_N, "luo"),
    "lv_lv": ("lv", "lav"),
    "mi_nz": ("mi", "mri"),
    "mk_mk": ("mk", "mkd"),
    "ml_in": ("ml", "mal"),
    "mn_mn": ("mn", "mon"),
    "mr_in": ("mr", "mar"),
    "ms_my": ("ms", "zlm"),
    "mt_mt": ("mt", "mlt"),
    "my_mm": ("my", "mya"),
    "nb_no": ("no", "nob"),
    "ne_np": ("ne", "npi"),
    "nl_nl": ("nl", "nld"),
    "nso_za": (_N, "nso"),
    "ny_mw": (_N, "nya"),
    "oc_fr": ("oc", "oci"),
    "om_et": (_N, "orm"),
    "or_in": (_N, "ory"),
    "pa_in": ("pa", "pan"),
    "pl_pl": ("pl", "pol"),
    "ps_af": ("ps", "pus"),
    "pt_br": ("pt", "por"),
    "ro_ro": ("ro", "ron"),
    "ru_ru": ("ru", "rus"),
    "sd_in": ("sd", "snd"),
    "sk_sk": ("sk", "slk"),
    "sl_si": ("sl", "slv"),
    "sn_zw": ("sn", "sna"),
    "so_so": ("so", "som"),
    "sr_rs": ("sr", "srp-script_cyrillic"),
    "sv_se": ("sv", "swe"),
    "sw_ke": ("sw", "swh"),
    "ta_in": ("ta", "tam"),
    "te_in": ("te", "tel"),
    "tg_tj": ("tg", "tgk"),
    "th_th": ("th", "tha"),
    "tr_tr": ("tr", "tur"),
    "uk_ua": ("uk", "ukr"),
    "umb_ao": (_N, "umb"),
    "ur_pk": ("ur", "urd-script_arabic"),
    "uz_uz": ("uz", "uzb-script_latin"),
    "vi_vn": ("vi", "vie"),
    "wo_sn": (_N, "wol"),
    "xh_za": (_N, "xho"),
    "yo_ng": ("yo", "yor"),
    "yue_hant_hk": ("yue", "yue-script_traditional"),
    "zu_za": (_N, "zul"),
}

#: FLEURS code -> Whisper language code (``<|code|>`` in the decoder prompt), ``None`` if none.
WHISPER_LANGUAGES: dict[str, str | None] = {code: row[0] for code, row in _TABLE.items()}
#: FLEURS code -> MMS-1b-all adapter / tokenizer vocabulary name.
MMS_LANGUAGES: dict[str, str] = {code: row[1] for code, row in _TABLE.items()}
#: FLEURS codes whose MMS name is not plain ISO 639-3 from ``fleursr.corpus.languages``.
MMS_SPECIAL_CASES: frozenset[str] = frozenset(
    code for code, mms in MMS_LANGUAGES.items() if mms != get_language(code).iso639_3
)

_missing = {lang.code for lang in all_languages()} ^ set(_TABLE)
if _missing:  # pragma: no cover - guards edits of the table
    raise RuntimeError(
        f"ASR language table out of step with fleursr.corpus.languages: {sorted(_missing)}"
    )


def whisper_supported() -> tuple[str, ...]:
    """The FLEURS codes Whisper (large-v3) has a language token for, sorted."""
    return tuple(sorted(code for code, whisper in WHISPER_LANGUAGES.items() if whisper))


def whisper_language(code: str) -> str:
    """Whisper's language code for a FLEURS code (``"fr_fr"`` -> ``"fr"``, ``"jv_id"`` -> ``"jw"``).

    Raises:
        UnsupportedLanguageError: Whisper has no token for the language (``"kam_ke"``, ...).
        fleursr.corpus.languages.UnknownLanguageError: not a FLEURS code.
    """
    lang = get_language(code)
    whisper = WHISPER_LANGUAGES[lang.code]
    if whisper is None:
        supported = whisper_supported()
        raise UnsupportedLanguageError(
            "Whisper",
            lang.code,
            f"{len(supported)} of the 102 FLEURS languages: {', '.join(supported)}",
            "Whisper's tokenizer has no language token for it (use CTCASR with MMS instead)",
        )
    return whisper


def mms_language(code: str) -> str:
    """The MMS-1b-all adapter code for a FLEURS code (``"fr_fr"`` -> ``"fra"``,
    ``"cmn_hans_cn"`` -> ``"cmn-script_simplified"``).

    Raises:
        UnsupportedLanguageError: no MMS adapter is known for the language.
        fleursr.corpus.languages.UnknownLanguageError: not a FLEURS code.
    """
    lang = get_language(code)
    mms = MMS_LANGUAGES.get(lang.code)
    if not mms:  # pragma: no cover - every FLEURS language has one today
        raise UnsupportedLanguageError(
            "MMS", lang.code, "the FLEURS languages in MMS_LANGUAGES", "no MMS adapter is known"
        )
    return mms
