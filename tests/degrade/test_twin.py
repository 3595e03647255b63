import json

import numpy as np
import pytest

from fleursr.corpus.audio import read_audio
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.testing import make_corpus
from fleursr.corpus.validate import CorpusError
from fleursr.degrade.twin import degrade_corpus


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return make_corpus(
        tmp_path_factory.mktemp("clean"), languages=("en_us", "ar_eg"), per_language=4, duration=1.0
    )


def test_twin_keeps_every_utterance_and_its_reference(clean, tmp_path):
    degrade_corpus(clean, tmp_path / "twin", preset="heavy", seed=1, workers=1, progress=False)
    src, twin = Corpus(clean), Corpus(tmp_path / "twin")
    assert [u.id for u in twin] == [u.id for u in src]
    changed = 0
    for a, b in zip(src, twin):
        assert b.ok and b.extra["degrade_preset"] == "heavy"
        applied = json.loads(b.extra["degradations"])
        ref, _ = read_audio(twin.resolve(b.extra["clean_path"]))
        np.testing.assert_array_equal(ref, src.load_audio(a)[0])
        wave, sr = twin.load_audio(b)
        assert sr == a.sampling_rate and len(wave) == a.num_samples == b.num_samples
        if applied:
            assert all(set(d) == {"name", "params"} for d in applied)
            changed += not np.allclose(wave, ref, atol=1e-3)
    assert changed >= 4


def test_twin_is_independent_of_worker_count(clean, tmp_path):
    degrade_corpus(clean, tmp_path / "one", seed=5, workers=1, progress=False)
    degrade_corpus(clean, tmp_path / "two", seed=5, workers=2, progress=False)
    one, two = Corpus(tmp_path / "one"), Corpus(tmp_path / "two")
    for a, b in zip(one, two):
        assert a.extra["degradations"] == b.extra["degradations"]
        np.testing.assert_array_equal(one.load_audio(a)[0], two.load_audio(b)[0])


def test_bad_clean_file_becomes_an_error_row(clean, tmp_path):
    corpus = Corpus(clean)
    utts = list(corpus)
    utts[1].path = "audio/does-not-exist.flac"
    broken = tmp_path / "broken"
    for u in utts:
        if u.id != utts[1].id:
            u.path = str(corpus.resolve(u.path))
    write_manifest(broken, utts)
    with pytest.raises(CorpusError, match="lies outside the corpus directory"):
        degrade_corpus(broken, tmp_path / "twin", seed=0, workers=1, progress=False)
    degrade_corpus(broken, tmp_path / "twin", seed=0, workers=1, progress=False,
                   external_paths=True)  # fmt: skip
    out = list(Corpus(tmp_path / "twin"))
    assert [u.id for u in out] == [u.id for u in utts]
    assert out[1].status == "error" and "does-not-exist.flac" in out[1].error
    assert "MissingAudioError" in out[1].error
    assert sum(u.ok for u in out) == len(utts) - 1


def test_unknown_preset_and_self_overwrite_are_refused(clean):
    with pytest.raises(ValueError, match="unknown degradation preset 'nope'"):
        degrade_corpus(clean, clean.parent / "x", preset="nope", progress=False)
    with pytest.raises(ValueError, match="must not overwrite"):
        degrade_corpus(clean, clean, progress=False)


def test_yaml_overrides_drive_the_chain(clean, tmp_path):
    cfg = tmp_path / "chain.yaml"
    cfg.write_text(
        "preset: noise\nclean_share: 0.0\nnoise:\n"
        "  kinds: {white: 1, pink: 0, brown: 0, babble: 0, hum: 0, music: 0}\n"
        "  snr_db: [10.0, 10.0]\n",
        encoding="utf-8",
    )
    degrade_corpus(clean, tmp_path / "twin", preset=str(cfg), workers=1, progress=False)
    for utt in Corpus(tmp_path / "twin"):
        (step,) = json.loads(utt.extra["degradations"])
        assert step["name"] == "noise" and step["params"]["kind"] == "white"
        assert step["params"]["snr_db"] == pytest.approx(10.0)
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        degrade_corpus(clean, tmp_path / "x", preset=str(tmp_path / "missing.yaml"))


def test_rate_writes_a_16k_twin_of_a_wider_band_corpus(tmp_path):
    clean = make_corpus(tmp_path / "clean", languages=("en_us",), per_language=2, duration=1.0,
                        sr=22050)  # fmt: skip
    degrade_corpus(clean, tmp_path / "twin", preset="noise", seed=0, workers=1, progress=False,
                   rate=16000)  # fmt: skip
    src, twin = Corpus(clean), Corpus(tmp_path / "twin")
    for a, b in zip(src, twin):
        wave, sr = twin.load_audio(b)
        assert sr == b.sampling_rate == 16000 and len(wave) == b.num_samples
        assert abs(len(wave) / sr - a.num_samples / a.sampling_rate) < 1e-3
        ref, ref_sr = read_audio(twin.resolve(b.extra["clean_path"]))
        assert ref_sr == 22050  # the reference keeps its band
    with pytest.raises(ValueError, match="rate must be >= 8000"):
        degrade_corpus(clean, tmp_path / "low", rate=4000, progress=False)
