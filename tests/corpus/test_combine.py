"""Utterances of one corpus copied into another (the demo's recorded speech beside espeak-ng)."""

import numpy as np
import pytest

from fleursr.corpus.combine import add_utterances, pick_per_language
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus


def test_pick_takes_the_same_long_enough_test_rows_of_each_language(tmp_path):
    source = Corpus(make_corpus(tmp_path / "src", ("en_us", "es_419"), per_language=9,
                                duration=1.5))  # fmt: skip
    picked = pick_per_language(source, 2)
    assert [u.id for u in picked] == ["en_us_00002", "en_us_00005", "es_419_00002", "es_419_00005"]
    assert all(u.split == "test" for u in picked)
    assert pick_per_language(source, 2, languages=["es_419"]) == picked[2:]
    assert pick_per_language(source, 2, min_seconds=2.0) == []


def test_added_rows_carry_their_audio_and_keep_every_row(tmp_path):
    target = Corpus(make_corpus(tmp_path / "dst", ("de_de",), per_language=3))
    source = Corpus(make_corpus(tmp_path / "src", ("en_us",), per_language=6))
    picked = pick_per_language(source, 5)
    assert add_utterances(target.root, source, picked, folder="recorded") == 2
    merged = {u.id: u for u in Corpus(target.root)}
    assert sorted(merged) == ["de_de_00000", "de_de_00001", "de_de_00002", "en_us_00002",
                              "en_us_00005"]  # fmt: skip
    for utt in picked:
        copy = merged[utt.id]
        assert copy.path == f"audio/recorded/{utt.id}.flac"
        assert copy.transcription == utt.transcription and copy.language == "en_us"
        np.testing.assert_array_equal(target.load_audio(copy)[0], source.load_audio(utt)[0])

    # A second time: the ids are there already; refused before anything changes.
    before = (target.root / "manifest.parquet").read_bytes()
    with pytest.raises(ValueError, match="en_us_00002.*already in"):
        add_utterances(target.root, source, picked)
    assert (target.root / "manifest.parquet").read_bytes() == before


def test_a_missing_audio_file_is_named(tmp_path):
    target = make_corpus(tmp_path / "dst", ("de_de",), per_language=1)
    source = Corpus(make_corpus(tmp_path / "src", ("en_us",), per_language=3))
    (source.root / "audio" / "en_us" / "en_us_00002.flac").unlink()
    with pytest.raises(FileNotFoundError, match="en_us_00002: no audio file"):
        add_utterances(target, source, pick_per_language(source, 1))
    assert len(Corpus(target)) == 1
