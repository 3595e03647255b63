"""ASR backends: the FLEURS language tables, the shared ``ASR.transcribe`` logic, and Whisper and
CTC (MMS-style adapters) run end to end on tiny random models (no network, no real weights).

Each model is built from a config object with a tokenizer/processor made in code, saved to a
temporary directory that plays the role of a hub repo, and loaded by hub-style path. The tests
check the API (one stripped string per wave, input order, language forcing, adapter switching,
clear errors), not accuracy.
"""

import copy
import json
import pickle

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import transformers as tf  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers.models.whisper.tokenization_whisper import (  # noqa: E402
    LANGUAGES,
    TO_LANGUAGE_CODE,
)

from fleursr.corpus.languages import UnknownLanguageError, all_languages, get_language  # noqa: E402
from fleursr.quality.asr import (  # noqa: E402
    ASR,
    CTCASR,
    MMS_LANGUAGES,
    WHISPER_LANGUAGES,
    UnsupportedLanguageError,
    WhisperASR,
    mms_language,
    resolve_device,
    resolve_dtype,
    whisper_language,
    whisper_supported,
)
from fleursr.quality.asr.languages import MMS_SPECIAL_CASES  # noqa: E402

SR = 16000
WHISPER_UNSUPPORTED = {
    "ast_es", "ceb_ph", "ckb_iq", "ff_sn", "ga_ie", "ig_ng", "kam_ke", "kea_cv", "ky_kg",
    "lg_ug", "luo_ke", "nso_za", "ny_mw", "om_et", "or_in", "umb_ao", "wo_sn", "xh_za", "zu_za",
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared 2-core machine the
    threads' spin-waiting slows every forward; restored after this module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def noise(n, seed, scale=0.1):
    return (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)


# ----------------------------------------------------------------------------- language tables


def test_tables_cover_all_fleurs_languages():
    codes = {lang.code for lang in all_languages()}
    assert len(codes) == 102
    assert set(WHISPER_LANGUAGES) == codes
    assert set(MMS_LANGUAGES) == codes
    assert all(MMS_LANGUAGES.values())


def test_whisper_codes_exist_in_whisper_tokenizer():
    for code, whisper in WHISPER_LANGUAGES.items():
        if whisper is not None:
            assert whisper in LANGUAGES, code
    # Nothing marked unsupported has a Whisper token under its ISO 639-1 code or its name.
    unsupported = {code for code, whisper in WHISPER_LANGUAGES.items() if whisper is None}
    assert unsupported == WHISPER_UNSUPPORTED
    for code in unsupported:
        lang = get_language(code)
        assert lang.iso639_1 not in LANGUAGES, code
        assert lang.name.lower().replace("-", " ") not in TO_LANGUAGE_CODE, code
    assert len(whisper_supported()) == 83


@pytest.mark.parametrize(
    ("code", "whisper", "mms"),
    [
        ("fr_fr", "fr", "fra"),
        ("en_us", "en", "eng"),
        ("cmn_hans_cn", "zh", "cmn-script_simplified"),
        ("yue_hant_hk", "yue", "yue-script_traditional"),
        ("jv_id", "jw", "jav"),
        ("nb_no", "no", "nob"),
        ("fil_ph", "tl", "tgl"),
        ("ms_my", "ms", "zlm"),
        ("az_az", "az", "azj-script_latin"),
        ("ur_pk", "ur", "urd-script_arabic"),
        ("uz_uz", "uz", "uzb-script_latin"),
        ("sr_rs", "sr", "srp-script_cyrillic"),
        ("ne_np", "ne", "npi"),
        ("sw_ke", "sw", "swh"),
        ("ar_eg", "ar", "ara"),
    ],
)
def test_known_mappings(code, whisper, mms):
    assert whisper_language(code) == whisper
    assert mms_language(code) == mms


def test_mms_codes_are_iso639_3_except_special_cases():
    assert MMS_SPECIAL_CASES == {
        "az_az", "cmn_hans_cn", "fil_ph", "ms_my", "sr_rs", "ur_pk", "uz_uz", "yue_hant_hk",
    }  # fmt: skip
    for lang in all_languages():
        if lang.code not in MMS_SPECIAL_CASES:
            assert MMS_LANGUAGES[lang.code] == lang.iso639_3


@pytest.mark.parametrize("code", sorted(WHISPER_UNSUPPORTED))
def test_whisper_unsupported_languages_raise(code):
    with pytest.raises(UnsupportedLanguageError) as info:
        whisper_language(code)
    message = str(info.value)
    assert code in message and get_language(code).name in message
    assert "Whisper" in message and "fr_fr" in message  # says what is supported
    assert info.value.code == code and isinstance(info.value, ValueError)


def test_language_lookup_accepts_aliases_and_rejects_unknown_codes():
    assert whisper_language("en-US") == "en"
    assert mms_language("FR_FR") == "fra"
    with pytest.raises(UnknownLanguageError, match="xx_yy"):
        whisper_language("xx_yy")
    with pytest.raises(UnknownLanguageError):
        mms_language("klingon")


def test_unsupported_error_pickles():
    err = UnsupportedLanguageError("SomeASR", "kam_ke", "nothing", "no reason")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and back.code == "kam_ke" and back.backend == "SomeASR"
    assert "Kamba" in str(err)


def test_resolve_device_and_dtype():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert resolve_dtype(None, torch.device("cuda")) == torch.float16
    assert resolve_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype("float99", torch.device("cpu"))


# ----------------------------------------------------------------------------- ASR base


class EchoASR(ASR):
    """Returns '<language>:<samples>' per wave and records the batches it ran."""

    def __init__(self, group=False):
        self.group_by_language = group
        self.batches = []

    def _check_language(self, code):
        if code == "kam_ke":
            raise UnsupportedLanguageError(self.name, code, "everything but Kamba")

    def _transcribe_batch(self, waves, languages):
        self.batches.append([(lang, len(w)) for w, lang in zip(waves, languages)])
        return [f" {lang}:{len(w)} " for w, lang in zip(waves, languages)]


def test_transcribe_keeps_input_order_and_sorts_batches_by_length():
    asr = EchoASR()
    lengths = [300, 1000, 10, 500, 700]
    waves = [np.zeros(n, np.float32) for n in lengths]
    out = asr.transcribe(waves, "fr_fr", batch_size=2)
    assert out == [f"fr_fr:{n}" for n in lengths]  # stripped, in input order
    assert [[n for _, n in b] for b in asr.batches] == [[1000, 700], [500, 300], [10]]


def test_transcribe_per_wave_languages_and_grouping():
    waves = [np.zeros(n, np.float32) for n in (100, 200, 300, 400)]
    langs = ["fr_fr", "de_de", "fr-FR", "de_de"]
    mixed = EchoASR()
    assert mixed.transcribe(waves, langs, batch_size=4) == [
        "fr_fr:100", "de_de:200", "fr_fr:300", "de_de:400",
    ]  # fmt: skip
    assert len(mixed.batches) == 1
    grouped = EchoASR(group=True)
    grouped.transcribe(waves, langs, batch_size=4)
    assert [{lang for lang, _ in b} for b in grouped.batches] == [{"de_de"}, {"fr_fr"}]


def test_transcribe_resamples_and_handles_empty_waves():
    asr = EchoASR()
    out = asr.transcribe([np.zeros(8000, np.float32), np.zeros(0, np.float32)], "en_us", sr=8000)
    assert out == ["en_us:16000", ""]
    assert asr.transcribe([], "en_us") == []


def test_transcribe_validates_before_running():
    asr = EchoASR()
    waves = [np.zeros(100, np.float32)] * 2
    with pytest.raises(UnsupportedLanguageError, match="kam_ke"):
        asr.transcribe(waves, ["fr_fr", "kam_ke"])
    with pytest.raises(ValueError, match="2 waves but 3 languages"):
        asr.transcribe(waves, ["fr_fr"] * 3)
    with pytest.raises(ValueError, match="1-D"):
        asr.transcribe([np.zeros((2, 100), np.float32)], "fr_fr")
    with pytest.raises(ValueError, match="float"):
        asr.transcribe([np.zeros(100, np.int16)], "fr_fr")
    with pytest.raises(UnknownLanguageError):
        asr.transcribe(waves, "xx_yy")
    assert asr.batches == []
    assert asr.supports("fr_fr") and not asr.supports("kam_ke") and not asr.supports("xx_yy")


# ----------------------------------------------------------------------------- Whisper


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (the byte-level BPE alphabet)."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), 256)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


WINDOW_S = 1  # the tiny model's window (Whisper's is 30 s): longer waves go long-form


def tiny_whisper():
    """A Whisper tokenizer with the byte alphabet, no merges and the real special-token layout
    (language tokens in Whisper's order), a 1 s feature window and a 16-wide model."""
    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    specials = ["<|endoftext|>", "<|startoftranscript|>"]
    specials += [f"<|{code}|>" for code in LANGUAGES]
    specials += ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>"]
    specials += ["<|nospeech|>", "<|notimestamps|>"]
    stamps = [f"<|{i * 0.02:.2f}|>" for i in range(WINDOW_S * 50 + 1)]
    for token in specials + stamps:
        vocab[token] = len(vocab)
    tok = tf.WhisperTokenizer(vocab=vocab, merges=[], additional_special_tokens=specials[1:])
    fe = tf.WhisperFeatureExtractor(feature_size=80, chunk_length=WINDOW_S)
    processor = tf.WhisperProcessor(feature_extractor=fe, tokenizer=tok)
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = tf.WhisperConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, num_mel_bins=80, max_source_positions=WINDOW_S * 50,
        max_target_positions=64, pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
        decoder_start_token_id=sot, init_std=1.0,  # large weights: outputs differ per input
    )  # fmt: skip
    torch.manual_seed(0)
    model = tf.WhisperForConditionalGeneration(config).eval()
    model.generation_config = tf.GenerationConfig(
        decoder_start_token_id=sot, pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
        lang_to_id={f"<|{code}|>": ids[f"<|{code}|>"] for code in LANGUAGES},
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], prev_sot_token_id=ids["<|startofprev|>"],
        is_multilingual=True, max_initial_timestamp_index=WINDOW_S * 50,
    )  # fmt: skip
    return model, processor


@pytest.fixture(scope="module")
def whisper_repo(tmp_path_factory):
    path = tmp_path_factory.mktemp("whisper")
    model, processor = tiny_whisper()
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def whisper(whisper_repo):
    return WhisperASR(whisper_repo, device="cpu", max_new_tokens=4)


class DecoderPrompts:
    """Records the decoder's input ids at the first step of each ``generate`` call."""

    def __init__(self, model):
        self.prompts = []
        self._fresh = True
        self.handle = model.model.decoder.register_forward_pre_hook(self, with_kwargs=True)

    def __call__(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None and ids.shape[1] > 1:  # the prompt step (later steps feed 1 token)
            self.prompts.append(ids.clone())

    def close(self):
        self.handle.remove()


def prompt_token(whisper, code):
    return whisper.processor.tokenizer.convert_tokens_to_ids(f"<|{whisper_language(code)}|>")


def test_whisper_loads_from_local_repo_and_returns_one_string_per_wave(whisper):
    assert whisper.name.startswith("WhisperASR(") and whisper.device.type == "cpu"
    assert whisper.model.dtype == torch.float32
    waves = [noise(n, seed) for seed, n in enumerate((8000, 12000, 4000, 10000))]
    out = whisper.transcribe(waves, "fr_fr", batch_size=3)
    assert isinstance(out, list) and len(out) == 4
    assert all(isinstance(t, str) and t == t.strip() for t in out)
    # Batched, sorted and regrouped: each wave still gets its own transcript.
    single = [whisper.transcribe([w], "fr_fr")[0] for w in waves]
    assert out == single
    assert len(set(single)) > 1  # the tiny model's output depends on its input


def test_whisper_forces_each_utterance_language(whisper):
    waves = [noise(6000, 1), noise(9000, 2), noise(3000, 3)]
    langs = ["fr_fr", "de_de", "yue_hant_hk"]
    tok = whisper.processor.tokenizer
    sot, transcribe, notimestamps = tok.convert_tokens_to_ids(
        ["<|startoftranscript|>", "<|transcribe|>", "<|notimestamps|>"]
    )
    hook = DecoderPrompts(whisper.model)
    try:
        ids = whisper.generate_ids(waves, langs)  # the batch as given, no sorting
    finally:
        hook.close()
    assert ids.shape[0] == 3
    prompt = hook.prompts[0]
    expected = [[sot, prompt_token(whisper, code), transcribe, notimestamps] for code in langs]
    assert prompt[:, :4].tolist() == expected

    # Through transcribe: sorted by length (longest first), each row keeps its own language.
    hook = DecoderPrompts(whisper.model)
    try:
        whisper.transcribe(waves, langs, batch_size=8)
    finally:
        hook.close()
    by_length = sorted(range(3), key=lambda i: -len(waves[i]))
    assert hook.prompts[0][:, 1].tolist() == [prompt_token(whisper, langs[i]) for i in by_length]


def test_whisper_long_form_beyond_the_window(whisper):
    long_wave = noise(int(SR * WINDOW_S * 1.6), 4)
    hook = DecoderPrompts(whisper.model)
    try:
        out = whisper.transcribe([long_wave, noise(4000, 5)], ["de_de", "de_de"], sr=SR)
    finally:
        hook.close()
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    assert hook.prompts and hook.prompts[0][0, 1].item() == prompt_token(whisper, "de_de")
    assert "<|" not in "".join(out)  # timestamp tokens are not in the text


def test_whisper_resamples_other_rates(whisper):
    """8 kHz input reaches the encoder as the same features as its 16 kHz resampling, and not
    as the same samples read at the wrong rate."""
    from fleursr.corpus.audio import resample

    seen = []
    hook = whisper.model.model.encoder.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((args[0] if args else kwargs["input_features"])
                                                 .detach().clone()),
        with_kwargs=True,
    )  # fmt: skip
    at_8k = noise(8000, 6)
    try:
        whisper.transcribe([at_8k], "en_us", sr=8000)
        whisper.transcribe([resample(at_8k, 8000, 16000)], "en_us", sr=16000)
        whisper.transcribe([at_8k], "en_us", sr=16000)  # the same samples taken as 16 kHz
    finally:
        hook.remove()
    assert len(seen) == 3
    torch.testing.assert_close(seen[0], seen[1])
    assert not torch.allclose(seen[0], seen[2], atol=1e-3)


def test_whisper_unsupported_language_raises_before_generating(whisper):
    hook = DecoderPrompts(whisper.model)
    try:
        with pytest.raises(UnsupportedLanguageError, match="kam_ke") as info:
            whisper.transcribe([noise(4000, 7), noise(4000, 8)], ["fr_fr", "kam_ke"])
    finally:
        hook.close()
    assert hook.prompts == []
    assert "Kamba" in str(info.value)
    assert not whisper.supports("umb_ao") and whisper.supports("fr_fr")


def test_whisper_model_without_a_language_token(whisper_repo):
    model = tf.WhisperForConditionalGeneration.from_pretrained(whisper_repo)
    processor = tf.WhisperProcessor.from_pretrained(whisper_repo)
    gen = copy.deepcopy(model.generation_config)
    del gen.lang_to_id["<|yue|>"]  # like large-v2 and older: no Cantonese
    model.generation_config = gen
    asr = WhisperASR.from_model(model, processor, max_new_tokens=2)
    with pytest.raises(UnsupportedLanguageError, match="yue_hant_hk") as info:
        asr.transcribe([noise(4000, 9)], "yue_hant_hk")
    assert "<|yue|>" in str(info.value)
    assert asr.transcribe([noise(4000, 9)], "fr-FR") == asr.transcribe([noise(4000, 9)], "fr_fr")


def test_whisper_english_only_model(whisper_repo):
    model = tf.WhisperForConditionalGeneration.from_pretrained(whisper_repo)
    processor = tf.WhisperProcessor.from_pretrained(whisper_repo)
    model.generation_config.is_multilingual = False
    asr = WhisperASR.from_model(model, processor, max_new_tokens=2)
    assert len(asr.transcribe([noise(4000, 10)], "en_us")) == 1
    with pytest.raises(UnsupportedLanguageError, match="English-only"):
        asr.transcribe([noise(4000, 10)], "fr_fr")


# ----------------------------------------------------------------------------- CTC / MMS

SPECIAL = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
LETTERS = {"eng": "abc", "fra": "éèàçx", "deu": "äöü"}


def ctc_config(vocab_size, group_norm=False, adapter_attn_dim=None):
    return tf.Wav2Vec2Config(
        vocab_size=vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 2),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        feat_extract_norm="group" if group_norm else "layer",
        do_stable_layer_norm=not group_norm, adapter_attn_dim=adapter_attn_dim,
    )  # fmt: skip


def favor_letters(lm_head_bias, n_letters):
    """Bias the CTC head towards letters so greedy decoding emits some (not only blanks)."""
    bias = torch.zeros_like(lm_head_bias)
    bias[len(SPECIAL) : len(SPECIAL) + n_letters] = 3.0
    return bias


def save_ctc_repo(path, vocab, config, adapters=()):
    """Save a tiny CTC model, its tokenizer (``vocab`` flat or nested by language) and feature
    extractor to ``path``; for each language in ``adapters`` an ``adapter.<lang>.safetensors``
    with its own random adapter layers and a CTC head sized to that language's vocabulary."""
    with open(path / "vocab.json", "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    nested = all(isinstance(v, dict) for v in vocab.values())
    tok = tf.Wav2Vec2CTCTokenizer(path / "vocab.json", target_lang="eng" if nested else None)
    fe = tf.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SR, padding_value=0.0, do_normalize=True,
        return_attention_mask=config.feat_extract_norm == "layer",
    )  # fmt: skip
    tf.Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok).save_pretrained(path)
    torch.manual_seed(0)
    model = tf.Wav2Vec2ForCTC(config).eval()
    with torch.no_grad():
        model.lm_head.bias.copy_(favor_letters(model.lm_head.bias, 3))
    model.save_pretrained(path)
    for i, lang in enumerate(adapters):
        gen = torch.Generator().manual_seed(100 + i)
        weights = {
            k: torch.randn(v.shape, generator=gen) * 0.5 for k, v in model._get_adapters().items()
        }
        n = len(vocab[lang])
        weights["lm_head.weight"] = torch.randn(n, config.hidden_size, generator=gen)
        weights["lm_head.bias"] = favor_letters(torch.zeros(n), len(LETTERS[lang]))
        save_file(weights, str(path / f"adapter.{lang}.safetensors"))
    return path


def lang_vocab(lang):
    return {**SPECIAL, **{c: len(SPECIAL) + i for i, c in enumerate(LETTERS[lang])}}


@pytest.fixture(scope="module")
def plain_ctc_repo(tmp_path_factory):
    vocab = lang_vocab("eng")
    return save_ctc_repo(tmp_path_factory.mktemp("w2v2"), vocab, ctc_config(len(vocab)))


@pytest.fixture(scope="module")
def mms_repo(tmp_path_factory):
    """MMS layout: nested vocabulary (eng, fra, deu), adapters for eng and fra only."""
    vocab = {lang: lang_vocab(lang) for lang in ("eng", "fra", "deu")}
    config = ctc_config(len(vocab["eng"]), adapter_attn_dim=4)
    return save_ctc_repo(tmp_path_factory.mktemp("mms"), vocab, config, adapters=("eng", "fra"))


def test_plain_ctc_returns_strings_and_ignores_language(plain_ctc_repo):
    asr = CTCASR(plain_ctc_repo, device="cpu")
    assert not asr.multilingual and not asr.has_adapters and asr.padding_invariant
    waves = [noise(n, seed) for seed, n in enumerate((3000, 1600, 4100, 10))]
    out = asr.transcribe(waves, ["en_us", "kam_ke", "fr_fr", "en_us"], batch_size=3)
    assert len(out) == 4 and all(isinstance(t, str) for t in out)
    assert set("".join(out)) <= set("abc ")
    assert any(out)
    # Frames computed from padding are cut: batched == one at a time.
    assert out == [asr.transcribe([w], "en_us")[0] for w in waves]
    assert asr.supports("kam_ke")  # language does not matter to a single-vocabulary model


def test_group_norm_ctc_runs_one_wave_at_a_time(tmp_path):
    vocab = lang_vocab("eng")
    path = save_ctc_repo(tmp_path, vocab, ctc_config(len(vocab), group_norm=True))
    asr = CTCASR(path, device="cpu")
    assert not asr.padding_invariant
    waves = [noise(n, seed) for seed, n in enumerate((3000, 1600, 2200))]
    assert asr.transcribe(waves, "en_us") == [asr.transcribe([w], "en_us")[0] for w in waves]


def test_mms_adapters_switch_per_language(mms_repo, monkeypatch):
    asr = CTCASR(mms_repo, device="cpu")
    assert asr.multilingual and asr.has_adapters
    loads = []
    original = asr.model.load_adapter
    monkeypatch.setattr(
        asr.model, "load_adapter", lambda code, **kw: (loads.append(code), original(code, **kw))
    )
    waves = [noise(n, seed) for seed, n in enumerate((3000, 2000, 2500, 1800, 2600))]
    langs = ["fr_fr", "en_us", "fr_fr", "en_us", "fr_fr"]
    out = asr.transcribe(waves, langs, batch_size=2)
    assert len(out) == 5
    for text, lang in zip(out, langs):
        letters = LETTERS[mms_language(lang)]
        assert set(text) <= set(letters + " "), (lang, text)
    assert any(out[i] for i in (0, 2, 4)) and any(out[i] for i in (1, 3))
    assert sorted(loads) == ["eng", "fra"]  # each adapter once, batches grouped by language
    assert asr.model.lm_head.out_features == len(
        lang_vocab(asr.language_code(asr.current_language))
    )
    # Same wave, same language: same text whatever else ran in between.
    assert asr.transcribe([waves[0]], "fr_fr") == [out[0]]
    assert asr.transcribe([waves[1]], "en_us") == [out[1]]


def test_mms_language_without_vocabulary_raises_before_running(mms_repo):
    asr = CTCASR(mms_repo, device="cpu")
    with pytest.raises(UnsupportedLanguageError, match="kam_ke") as info:
        asr.transcribe([noise(2000, 1)], "kam_ke")
    assert "'kam'" in str(info.value) and "CTCASR(" in str(info.value)
    assert asr.current_language is None  # nothing was loaded
    assert not asr.supports("kam_ke") and asr.supports("fr_fr")


def test_mms_missing_adapter_file_is_a_clear_error(mms_repo):
    asr = CTCASR(mms_repo, device="cpu")
    with pytest.raises(UnsupportedLanguageError, match="de_de") as info:
        asr.transcribe([noise(2000, 1)], "de_de")  # "deu" vocabulary, no adapter.deu.*
    assert "adapter.deu.safetensors" in str(info.value)


def test_mms_adapter_override(mms_repo):
    asr = CTCASR(mms_repo, device="cpu", adapters={"de-DE": "fra"})
    out = asr.transcribe([noise(2000, 1)], "de_de")
    assert set(out[0]) <= set(LETTERS["fra"] + " ")
    assert asr.transcribe([noise(2000, 1)], "fr_fr") == out


def test_ctc_from_model_and_short_waves(mms_repo):
    model = tf.Wav2Vec2ForCTC.from_pretrained(mms_repo)
    processor = tf.AutoProcessor.from_pretrained(mms_repo)
    asr = CTCASR.from_model(model, processor, device="cpu")
    out = asr.transcribe([noise(5, 1), np.zeros(0, np.float32), noise(800, 2)], "en_us", sr=8000)
    assert len(out) == 3 and out[1] == ""


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_backends_run_in_float16_on_cuda(whisper_repo, mms_repo):
    whisper = WhisperASR(whisper_repo, device="auto", max_new_tokens=4)
    assert whisper.device.type == "cuda" and whisper.model.dtype == torch.float16
    waves = [noise(8000, 1), noise(int(SR * WINDOW_S * 1.5), 2)]
    assert all(isinstance(t, str) for t in whisper.transcribe(waves, "fr_fr"))
    ctc = CTCASR(mms_repo, device="auto")
    assert ctc.device.type == "cuda" and ctc.model.dtype == torch.float16
    out = ctc.transcribe(waves, ["fr_fr", "en_us"])
    assert set(out[0]) <= set(LETTERS["fra"] + " ") and set(out[1]) <= set(LETTERS["eng"] + " ")
