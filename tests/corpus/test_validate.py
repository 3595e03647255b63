"""Corpus validation at open and the path rule: a manifest cannot make a run read files
outside its corpus directory unless the user allows it."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import soundfile as sf

from fleursr.corpus.audio import UnsafePathError, encode_flac
from fleursr.corpus.manifest import Corpus, escapes, rows_to_table, write_manifest
from fleursr.corpus.readers import import_corpus
from fleursr.corpus.record import Utterance
from fleursr.corpus.testing import speech_like
from fleursr.corpus.validate import CorpusError, open_corpus, validate_manifest


@pytest.mark.parametrize(
    "path, outside",
    [("audio/a.flac", False), ("a/../b.flac", False), ("./a.wav", False), ("..", True),
     ("../x.wav", True), ("a/../../x.wav", True), ("/etc/passwd", True), ("~/x.wav", True),
     ("C:\\x.wav", True), ("c:/x.wav", True), ("a\\..\\..\\x.wav", True), ("", True)],
)  # fmt: skip
def test_escapes(path, outside):
    assert escapes(path) is outside


def _corpus(root, paths, **kwargs):
    (root / "audio").mkdir(parents=True, exist_ok=True)
    sf.write(root / "audio" / "a.wav", speech_like(1.0), 16000)
    rows = [Utterance(id=f"u{k}", path=p, language="en_us", **kwargs) for k, p in enumerate(paths)]
    write_manifest(root, rows)
    return root


def test_an_escaping_path_is_refused_at_open_and_at_read(tmp_path):
    outside = tmp_path / "secret.wav"
    sf.write(outside, speech_like(1.0), 16000)
    root = _corpus(tmp_path / "c", ["audio/a.wav", "../secret.wav", str(outside)])
    with pytest.raises(CorpusError) as err:
        open_corpus(root)
    text = str(err.value)
    assert "row 1 (id 'u1'), column 'path': '../secret.wav' lies outside" in text
    assert f"row 2 (id 'u2'), column 'path': '{outside}' lies outside" in text
    assert "--allow-external-paths" in text and "2 problem(s)" in text
    corpus = Corpus(root)  # opened without validation: the read itself refuses
    with pytest.raises(UnsafePathError, match="u1.*outside the corpus directory"):
        corpus.load_audio(corpus.get("u1"))
    assert len(corpus.load_audio(corpus.get("u0"))[0]) == 16000
    allowed = open_corpus(root, external_paths=True)
    assert len(allowed.load_audio(allowed.get("u1"))[0]) == 16000


def test_embedded_audio_and_error_rows_may_name_any_path(tmp_path):
    root = tmp_path / "c"
    audio = {"bytes": encode_flac(speech_like(1.0), 16000), "path": "/data/orig/a.wav"}
    write_manifest(root, [
        Utterance(id="e", path="/data/orig/a.wav", language="en_us", audio=audio),
        Utterance(id="x", path="/gone/b.wav", language="en_us", status="error", error="x"),
    ])  # fmt: skip
    corpus = open_corpus(root)
    assert len(corpus.load_audio(corpus.get("e"))[0]) == 16000


def test_duplicated_ids_are_named_with_their_rows(tmp_path):
    root = _corpus(tmp_path / "c", ["audio/a.wav"] * 3)
    rows = list(Corpus(root))
    rows[2].id = rows[0].id
    pq.write_table(rows_to_table(rows), root / "manifest.parquet")  # write_manifest refuses it
    assert validate_manifest(root) == ["rows 0, 2, column 'id': 'u0' appears 2 times (ids must "
                                       "be unique)"]  # fmt: skip


def test_many_problems_are_counted_past_the_first_twenty(tmp_path):
    root = _corpus(tmp_path / "c", [f"../x{k}.wav" for k in range(30)])
    with pytest.raises(CorpusError, match=r"30 problem\(s\)(.|\n)*\.\.\. and 10 more"):
        open_corpus(root)


def test_import_links_outside_files_into_the_corpus(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    sf.write(folder / "one.wav", speech_like(1.0), 16000)
    (folder / "one.txt").write_text("Hello.", encoding="utf-8")
    import_corpus(folder, tmp_path / "corpus", language="en_us", progress=False)
    corpus = open_corpus(tmp_path / "corpus")  # nothing outside: no flag needed
    (utt,) = list(corpus)
    assert utt.path.startswith("audio/linked/") and not escapes(utt.path)
    assert (corpus.root / utt.path).is_symlink()
    assert len(corpus.load_audio(utt)[0]) == 16000
