"""Tests of the FLEURS language table."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from faker.config import AVAILABLE_LOCALES
from num2words import CONVERTER_CLASSES

from fleursr.corpus.languages import (
    EMBEDDED_LANGUAGES,
    LANGUAGE_GROUPS,
    SCRIPT_NAME_PREFIXES,
    Language,
    UnknownLanguageError,
    all_languages,
    find_language,
    get_language,
    is_word_in_script,
    languages_in_group,
)
from fleursr.synth.espeak import espeak_available, list_voices

# The lang_id class names of the google/fleurs dataset card, in order.
FLEURS_CODES = """
af_za am_et ar_eg as_in ast_es az_az be_by bg_bg bn_in bs_ba ca_es ceb_ph ckb_iq cmn_hans_cn
cs_cz cy_gb da_dk de_de el_gr en_us es_419 et_ee fa_ir ff_sn fi_fi fil_ph fr_fr ga_ie gl_es
gu_in ha_ng he_il hi_in hr_hr hu_hu hy_am id_id ig_ng is_is it_it ja_jp jv_id ka_ge kam_ke
kea_cv kk_kz km_kh kn_in ko_kr ky_kg lb_lu lg_ug ln_cd lo_la lt_lt luo_ke lv_lv mi_nz mk_mk
ml_in mn_mn mr_in ms_my mt_mt my_mm nb_no ne_np nl_nl nso_za ny_mw oc_fr om_et or_in pa_in
pl_pl ps_af pt_br ro_ro ru_ru sd_in sk_sk sl_si sn_zw so_so sr_rs sv_se sw_ke ta_in te_in
tg_tj th_th tr_tr uk_ua umb_ao ur_pk uz_uz vi_vn wo_sn xh_za yo_ng yue_hant_hk zu_za
""".split()

FLEURS_GROUPS = (
    "western_european_we",
    "eastern_european_ee",
    "central_asia_middle_north_african_cmn",
    "sub_saharan_african_ssa",
    "south_asian_sa",
    "south_east_asian_sea",
    "chinese_japanase_korean_cjk",
)
GROUP_SIZES = {
    "western_european_we": 25,
    "eastern_european_ee": 16,
    "central_asia_middle_north_african_cmn": 12,
    "sub_saharan_african_ssa": 20,
    "south_asian_sa": 14,
    "south_east_asian_sea": 11,
    "chinese_japanase_korean_cjk": 4,
}


def test_exactly_the_102_fleurs_codes_in_lang_id_order() -> None:
    languages = all_languages()
    assert len(FLEURS_CODES) == 102
    assert [lang.code for lang in languages] == FLEURS_CODES
    assert [lang.lang_id for lang in languages] == list(range(102))
    assert FLEURS_CODES == sorted(FLEURS_CODES)


def test_groups_are_complete_and_numbered_as_fleurs() -> None:
    assert LANGUAGE_GROUPS == FLEURS_GROUPS
    assert Counter(lang.group for lang in all_languages()) == GROUP_SIZES
    for group_id, group in enumerate(LANGUAGE_GROUPS):
        members = languages_in_group(group)
        assert len(members) == GROUP_SIZES[group]
        assert all(lang.group_id == group_id for lang in members)
    assert sum(len(languages_in_group(g)) for g in LANGUAGE_GROUPS) == 102


@pytest.mark.parametrize(
    ("code", "name", "group_id", "lang_id", "script"),
    [
        ("af_za", "Afrikaans", 3, 0, "Latn"),
        ("ckb_iq", "Sorani-Kurdish", 2, 12, "Arab"),
        ("cmn_hans_cn", "Mandarin Chinese", 6, 13, "Hans"),
        ("el_gr", "Greek", 0, 18, "Grek"),
        ("hi_in", "Hindi", 4, 32, "Deva"),
        ("ka_ge", "Georgian", 1, 42, "Geor"),
        ("my_mm", "Burmese", 5, 64, "Mymr"),
        ("yue_hant_hk", "Cantonese Chinese", 6, 100, "Hant"),
        ("zu_za", "Zulu", 3, 101, "Latn"),
    ],
)
def test_known_rows(code: str, name: str, group_id: int, lang_id: int, script: str) -> None:
    lang = get_language(code)
    assert (lang.name, lang.group_id, lang.lang_id) == (name, group_id, lang_id)
    assert lang.script == script


def test_field_formats() -> None:
    for lang in all_languages():
        assert isinstance(lang, Language)
        assert lang.iso639_1 is None or re.fullmatch(r"[a-z]{2}", lang.iso639_1)
        assert re.fullmatch(r"[a-z]{3}", lang.iso639_3)
        assert lang.script in SCRIPT_NAME_PREFIXES
        assert lang.faker_locale is None or lang.faker_locale in AVAILABLE_LOCALES
        assert lang.num2words_lang is None or lang.num2words_lang in CONVERTER_CLASSES
    assert len({lang.name for lang in all_languages()}) == 102


def test_language_is_frozen() -> None:
    with pytest.raises(AttributeError):
        get_language("en_us").name = "x"  # type: ignore[misc]


def test_get_language_accepts_case_and_dashes() -> None:
    assert get_language("en-US").code == "en_us"
    assert get_language(" CMN_HANS_CN ").code == "cmn_hans_cn"


@pytest.mark.parametrize(
    ("wrong", "suggested"),
    [("en_gb", "en_us"), ("fr", "fr_fr"), ("cmn_hans", "cmn_hans_cn"), ("de_dd", "de_de")],
)
def test_unknown_code_lists_close_matches(wrong: str, suggested: str) -> None:
    with pytest.raises(UnknownLanguageError) as info:
        get_language(wrong)
    assert suggested in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_unknown_group() -> None:
    with pytest.raises(ValueError, match="western_european_we"):
        languages_in_group("european")


def test_embedded_languages_cover_groups_and_scripts() -> None:
    assert len(EMBEDDED_LANGUAGES) >= 24
    assert len(set(EMBEDDED_LANGUAGES)) == len(EMBEDDED_LANGUAGES)
    languages = [get_language(code) for code in EMBEDDED_LANGUAGES]
    assert all(lang.espeak_voice for lang in languages)
    assert {lang.group for lang in languages} == set(LANGUAGE_GROUPS)
    assert len({lang.script for lang in languages}) >= 8


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_espeak_voices_exist() -> None:
    voices = list_voices()
    missing = [
        lang.code
        for lang in all_languages()
        if lang.espeak_voice and lang.espeak_voice not in voices
    ]
    assert not missing


def test_is_word_in_script() -> None:
    assert is_word_in_script("привет", "Cyrl")
    assert is_word_in_script("नमस्ते", "Deva")
    assert is_word_in_script("آن\u200cها", "Arab")
    assert is_word_in_script("aujourd'hui", "Latn")
    assert is_word_in_script("ラーメン", "Jpan")
    assert not is_word_in_script("privet", "Cyrl")
    assert not is_word_in_script("abc1", "Latn")
    assert not is_word_in_script("Dr.", "Latn")
    assert not is_word_in_script("", "Latn")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("en_us", "en_us"),
        ("EN-US", "en_us"),
        ("English", "en_us"),
        ("eng", "en_us"),
        ("Sorani-Kurdish", "ckb_iq"),
        ("mandarin chinese", "cmn_hans_cn"),
        ("yue", "yue_hant_hk"),
        ("swh", "sw_ke"),
        ("fr", "fr_fr"),
    ],
)
def test_find_language(value: str, code: str) -> None:
    found = find_language(value)
    assert found is not None and found.code == code


def test_find_language_without_match() -> None:
    assert find_language("Klingon") is None
    assert find_language("") is None
