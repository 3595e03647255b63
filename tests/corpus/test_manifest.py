import numpy as np
import pyarrow.parquet as pq
import pytest

from fleursr.corpus.audio import read_audio
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance
from fleursr.corpus.testing import make_corpus, speech_like


def test_round_trip_keeps_every_field(tmp_path):
    utts = [
        Utterance(
            id=f"fr_fr_{i}",
            path=f"audio/{i}.flac",
            language="fr_fr",
            num_samples=16000 + i,
            sampling_rate=16000,
            transcription="bonjour",
            raw_transcription="Bonjour !",
            gender="female",
            split="dev",
            speaker_id="s1",
            sentence_id=i,
            scores={"dnsmos_ovrl": 3.25 + i},
            extra={"clean_path": f"../c/{i}.flac"},
        )
        for i in range(3)
    ]
    utts[1] = utts[1].with_error(ValueError("broken"))
    write_manifest(tmp_path, utts)
    back = list(Corpus(tmp_path))
    assert back == utts
    assert back[1].status == "error" and back[1].error == "ValueError: broken"
    cols = pq.ParquetFile(tmp_path / "manifest.parquet").schema_arrow.names
    assert "score_dnsmos_ovrl" in cols and "clean_path" in cols


def test_streaming_write_in_small_batches(tmp_path):
    utts = (Utterance(id=f"u{i}", path=f"{i}.wav", language="en_us") for i in range(25))
    write_manifest(tmp_path, utts, batch_size=4)
    corpus = Corpus(tmp_path)
    assert len(corpus) == 25
    assert [len(b) for b in corpus.iter_batches(10)] == [10, 10, 5]
    assert [u.id for u in corpus] == [f"u{i}" for i in range(25)]


def test_duplicate_ids_are_refused_and_leave_no_file(tmp_path):
    utts = [Utterance(id="same", path="a.wav", language="en_us")] * 2
    with pytest.raises(ValueError, match="duplicate utterance id 'same'"):
        write_manifest(tmp_path, utts)
    assert not (tmp_path / "manifest.parquet").exists()
    assert not (tmp_path / "manifest.parquet.tmp").exists()


def test_embedded_and_file_audio_load_the_same(tmp_path):
    files = Corpus(make_corpus(tmp_path / "files", per_language=2))
    embedded = Corpus(make_corpus(tmp_path / "emb", per_language=2, embed=True))
    for a, b in zip(files, embedded):
        assert b.audio is not None and a.audio is None
        wa, sra = files.load_audio(a)
        wb, srb = embedded.load_audio(b, target_sr=sra)
        assert sra == srb == 16000
        np.testing.assert_array_equal(wa, wb)


def test_load_audio_resamples(tmp_path):
    corpus = Corpus(make_corpus(tmp_path, per_language=1))
    utt = next(iter(corpus))
    wave, sr = corpus.load_audio(utt, target_sr=24000)
    assert sr == 24000 and abs(len(wave) - utt.num_samples * 1.5) <= 1


def test_summary_counts(tmp_path):
    corpus = Corpus(make_corpus(tmp_path, languages=("en_us", "ru_ru", "hi_in"), per_language=3))
    s = corpus.summary()
    assert s["utterances"] == 9 and s["languages"] == 3
    assert s["per_language"] == {"en_us": 3, "ru_ru": 3, "hi_in": 3}
    assert s["hours"] == pytest.approx(9 * 1.5 / 3600)


def test_missing_manifest_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        Corpus(tmp_path)


def test_bad_gender_is_refused():
    with pytest.raises(ValueError, match="gender"):
        Utterance(id="x", path="x.wav", language="en_us", gender="M")


def test_speech_like_is_deterministic_and_bounded():
    a, b = speech_like(1.0, seed=3), speech_like(1.0, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and 0.4 < np.abs(a).max() <= 0.5


def test_read_audio_of_written_corpus_is_float32_mono(tmp_path):
    corpus = Corpus(make_corpus(tmp_path, per_language=1))
    wave, sr = read_audio(corpus.resolve(next(iter(corpus)).path))
    assert wave.dtype == np.float32 and wave.ndim == 1 and sr == 16000


def test_get_by_id_and_references_to_other_corpora(tmp_path):
    emb = Corpus(make_corpus(tmp_path / "emb", per_language=3, embed=True))
    write_manifest(tmp_path / "emb2", list(emb), batch_size=2)  # several row groups
    emb2 = Corpus(tmp_path / "emb2")
    assert emb2.get("fr_fr_00002").id == "fr_fr_00002"
    with pytest.raises(KeyError, match="nope"):
        emb2.get("nope")
    files = Corpus(make_corpus(tmp_path / "files", per_language=1))
    run = Corpus(make_corpus(tmp_path / "run", per_language=1))
    a, _ = run.load_reference(f"{emb2.root}#en_us_00000")
    b, _ = run.load_reference("../files/audio/en_us/en_us_00000.flac")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, files.load_audio(files.get("en_us_00000"))[0])


def test_a_column_empty_in_the_first_batch_can_fill_later(tmp_path):
    rows = [Utterance(id=f"u{i}", path="x.flac", language="en_us",
                      extra={"note": None if i < 3 else f"n{i}", "score_x": None})
            for i in range(6)]  # fmt: skip
    write_manifest(tmp_path, rows, batch_size=2)
    assert [u.extra["note"] for u in Corpus(tmp_path)] == [None, None, None, "n3", "n4", "n5"]


def test_a_list_keeps_a_column_that_only_later_rows_have(tmp_path):
    """Two corpora put together (add_utterances): rows of the second carry a column the first's
    lack; a list is one batch, while a stream still takes its columns from its first batch."""
    rows = [Utterance(id=f"u{i}", path=f"a/{i}.flac", language="en_us") for i in range(5)]
    rows[4].extra["prompt"] = "activated"
    write_manifest(tmp_path / "list", rows, batch_size=2)
    got = {u.id: u.extra.get("prompt") for u in Corpus(tmp_path / "list")}
    assert got == {"u0": None, "u1": None, "u2": None, "u3": None, "u4": "activated"}
    with pytest.raises(ValueError, match=r"\['prompt'\] appear after the first batch"):
        write_manifest(tmp_path / "stream", iter(rows), batch_size=2)
