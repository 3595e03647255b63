import numpy as np
import pytest
import torch

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus
from fleursr.quality.asr import load_asr
from fleursr.quality.asr.embedded import EmbeddedASR, EmbeddedASRConfig, vocab_from_texts
from fleursr.quality.cer import cer
from fleursr.quality.mos import DNSMOS
from fleursr.quality.score import score_corpus


@pytest.fixture(scope="module")
def asr_dir(tmp_path_factory):
    torch.manual_seed(0)
    asr = EmbeddedASR(EmbeddedASRConfig.tiny(), vocab_from_texts(["sentence number 012"]),
                      ["en_us", "fr_fr"])  # fmt: skip
    return asr.save_pretrained(tmp_path_factory.mktemp("asr"))


def test_load_asr_specs(asr_dir):
    assert load_asr("none") is None and load_asr(None) is None
    by_dir, by_spec = load_asr(str(asr_dir)), load_asr(f"embedded:{asr_dir}")
    assert isinstance(by_dir, EmbeddedASR) and isinstance(by_spec, EmbeddedASR)
    wave = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    assert by_dir.transcribe([wave], "en_us") == by_spec.transcribe([wave], "en_us")
    with pytest.raises(ValueError, match="unknown ASR 'nonsense'"):
        load_asr("nonsense")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_asr(str(asr_dir.parent))


def test_score_corpus_writes_labelled_scores_and_keeps_bad_rows(tmp_path, asr_dir):
    root = make_corpus(tmp_path / "c", per_language=2, duration=1.0)
    utts = list(Corpus(root))
    (root / utts[1].path).unlink()  # a missing file becomes an error row, not a lost one
    asr = load_asr(str(asr_dir))
    mos = DNSMOS(exact_reference=False)
    score_corpus(root, "original", asr=asr, mos=mos, batch_size=2, progress=False)
    after = {u.id: u for u in Corpus(root)}
    assert list(after) == [u.id for u in utts]
    bad = after[utts[1].id]
    assert bad.status == "error" and "MissingAudioError" in bad.error and utts[1].path in bad.error
    assert bad.extra["asr_original"] is None and "cer_original" not in bad.scores
    for u in utts[:1] + utts[2:]:
        got = after[u.id]
        wave, _ = Corpus(root).load_audio(u, target_sr=16000)
        text = asr.transcribe([wave], u.language)[0]
        assert got.extra["asr_original"] == text
        expected = cer(u.transcription, text, language=u.language)  # numbers spelled out
        assert got.scores["cer_original"] == pytest.approx(expected)
        assert 1.0 <= got.scores["dnsmos_ovrl_original"] <= 5.0
        assert {"dnsmos_sig_original", "dnsmos_bak_original", "dnsmos_p808_original"} <= set(
            got.scores
        )


def test_score_a_reference_column_beside_the_audio(tmp_path):
    """A reference column is scored on its own audio, not on ``path``'s: ``path`` holds white
    noise, ``clean_path`` the speech."""
    from fleursr.corpus.audio import write_audio
    from fleursr.corpus.manifest import write_manifest

    clean = make_corpus(tmp_path / "clean", languages=("en_us",), per_language=2, duration=1.0)
    utts = list(Corpus(clean))
    rng = np.random.default_rng(0)
    for u in utts:
        u.extra["clean_path"] = "../clean/" + u.path
        u.path = f"noise/{u.id}.wav"
        write_audio(tmp_path / "run" / u.path, 0.3 * rng.standard_normal(16000), 16000)
    write_manifest(tmp_path / "run", utts)
    mos = DNSMOS(exact_reference=False)
    score_corpus(tmp_path / "run", "clean", audio="clean_path", mos=mos, progress=False)
    score_corpus(tmp_path / "run", "restored", mos=mos, progress=False)
    for u in Corpus(tmp_path / "run"):
        speech = Corpus(clean).load_audio(Corpus(clean).get(u.id), target_sr=16000)[0]
        noise = Corpus(tmp_path / "run").load_audio(u, target_sr=16000)[0]
        expected, noisy = mos.predict([speech, noise], 16000)
        assert u.scores["dnsmos_ovrl_clean"] == pytest.approx(expected["dnsmos_ovrl"])
        assert u.scores["dnsmos_ovrl_restored"] == pytest.approx(noisy["dnsmos_ovrl"])
        assert u.scores["dnsmos_ovrl_clean"] != pytest.approx(u.scores["dnsmos_ovrl_restored"])
    with pytest.raises(ValueError, match="nothing to score"):
        score_corpus(tmp_path / "run", "x")
    with pytest.raises(ValueError, match="simple name"):
        score_corpus(tmp_path / "run", "not a label", mos=mos)
