import csv
import tarfile

import pytest
import soundfile as sf

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.readers import detect_format, import_corpus, read_fleurs, read_folder, read_hf
from fleursr.corpus.testing import speech_like

FLEURS_ROWS = [
    # id, file_name, raw, normalized, characters, num_samples, gender
    ("1906", "100.wav", "Bonjour, le monde !", "bonjour le monde", "b|o|n", "16000", "FEMALE"),
    ("1906", "101.wav", "Bonjour, le monde !", "bonjour le monde", "b|o|n", "16000", "MALE"),
    ("1907", "102.wav", "Au revoir.", "au revoir", "a|u", "16000", "OTHER"),
]


def _fleurs_tree(root, packed: bool):
    lang = root / "data" / "fr_fr"
    (lang / "audio").mkdir(parents=True)
    with open(lang / "test.tsv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t").writerows(FLEURS_ROWS)
    wav_dir = root / "staging" / "test" if packed else lang / "audio" / "test"
    wav_dir.mkdir(parents=True)
    for i, row in enumerate(FLEURS_ROWS):
        sf.write(wav_dir / row[1], speech_like(1.0, seed=i), 16000)
    if packed:
        with tarfile.open(lang / "audio" / "test.tar.gz", "w:gz") as tar:
            tar.add(wav_dir, arcname="test")
    return root


@pytest.mark.parametrize("packed", [False, True])
def test_fleurs_layout(tmp_path, packed):
    root = _fleurs_tree(tmp_path / "fleurs", packed)
    assert detect_format(root) == "fleurs"
    out = import_corpus(root, tmp_path / "corpus", progress=False)
    utts = list(Corpus(out.parent))
    assert [u.id for u in utts] == ["fr_fr_100", "fr_fr_101", "fr_fr_102"]
    assert [u.gender for u in utts] == ["female", "male", "other"]
    assert [u.sentence_id for u in utts] == [1906, 1906, 1907]
    assert utts[0].raw_transcription == "Bonjour, le monde !"
    assert utts[0].transcription == "bonjour le monde"
    assert all(u.ok and u.split == "test" and u.language == "fr_fr" for u in utts)
    corpus = Corpus(out.parent)
    wave, sr = corpus.load_audio(utts[2])
    assert sr == 16000 and len(wave) == 16000
    if packed:
        assert (tmp_path / "corpus" / "audio" / "fr_fr" / "test" / "102.wav").exists()


def test_fleurs_missing_audio_becomes_error_row(tmp_path):
    root = _fleurs_tree(tmp_path / "fleurs", packed=False)
    (root / "data" / "fr_fr" / "audio" / "test" / "101.wav").unlink()
    utts = list(read_fleurs(root))
    assert len(utts) == 3
    assert utts[1].status == "error" and "101.wav" in utts[1].error
    assert utts[0].ok and utts[2].ok


def test_fleurs_bad_tsv_names_file_and_line(tmp_path):
    lang = tmp_path / "en_us"
    (lang / "audio").mkdir(parents=True)
    (lang / "dev.tsv").write_text("1\tonly-two-columns\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dev.tsv:1: expected 7"):
        list(read_fleurs(tmp_path))


def _hf_dataset(n=3):
    """A FLEURS-shaped dataset; audio built as a plain struct, then cast to the Audio feature
    (encoding through the Audio feature itself would need torchcodec)."""
    import datasets

    from fleursr.corpus.audio import encode_flac

    ds = datasets.Dataset.from_dict(
        {
            "id": [7, 7, 8][:n],
            "audio": [
                {"bytes": encode_flac(speech_like(1.0, seed=i), 16000), "path": f"{i}.wav"}
                for i in range(n)
            ],
            "transcription": ["hallo welt", "hallo welt", "tschüss"][:n],
            "raw_transcription": ["Hallo, Welt!", "Hallo, Welt!", "Tschüss."][:n],
            "gender": [0, 1, 2][:n],
            "num_samples": [16000] * n,
            "language": ["German"] * n,
        }
    )
    ds = ds.cast_column("audio", datasets.Audio(sampling_rate=16000, decode=False))
    return ds.cast_column("gender", datasets.ClassLabel(names=["male", "female", "other"]))


def test_hf_dataset_object_and_parquet_agree(tmp_path):
    ds = _hf_dataset()
    from_object = list(read_hf(ds, split="dev"))
    ds.to_parquet(str(tmp_path / "dev-00000-of-00001.parquet"))
    assert detect_format(tmp_path) == "hf"
    from_parquet = list(read_hf(tmp_path, split="dev"))
    assert from_object == from_parquet
    u = from_object[0]
    assert u.language == "de_de" and u.id == "de_de_dev_0" and u.sentence_id == 7
    assert [x.gender for x in from_object] == ["male", "female", "other"]
    import_corpus(tmp_path, tmp_path / "corpus", split="dev", progress=False)
    corpus = Corpus(tmp_path / "corpus")
    wave, sr = corpus.load_audio(next(iter(corpus)))
    assert sr == 16000 and len(wave) == 16000


def test_hf_unknown_language_needs_an_explicit_code():
    ds = _hf_dataset(1).map(lambda r: {"language": "Klingonese"})
    with pytest.raises(ValueError, match="language='xx_yy'"):
        list(read_hf(ds))
    assert next(iter(read_hf(ds, language="de_de"))).language == "de_de"


def test_folder_with_sidecar_transcripts(tmp_path):
    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "one.wav", speech_like(1.0), 16000)
    (tmp_path / "a" / "one.txt").write_text("Привет, мир!\n", encoding="utf-8")
    sf.write(tmp_path / "two.flac", speech_like(0.5, 22050), 22050)
    (tmp_path / "two.lab").write_text("Пока.", encoding="utf-8")
    sf.write(tmp_path / "three.wav", speech_like(0.5), 16000)
    assert detect_format(tmp_path) == "folder"
    out = import_corpus(tmp_path, tmp_path / "out", language="ru_ru", progress=False)
    utts = {u.id: u for u in Corpus(out.parent)}
    assert set(utts) == {"a_one", "two", "three"}
    assert utts["a_one"].raw_transcription == "Привет, мир!"
    assert utts["a_one"].transcription == "привет мир"
    assert utts["two"].sampling_rate == 22050 and utts["two"].num_samples == 11025
    assert utts["three"].transcription == "" and utts["three"].ok


def test_folder_listing_and_bad_file(tmp_path):
    sf.write(tmp_path / "x.wav", speech_like(1.0), 16000)
    (tmp_path / "broken.wav").write_bytes(b"this is not audio")
    listing = tmp_path / "list.csv"
    listing.write_text(
        "path,text,speaker,gender,split\n"
        "x.wav,Hello there.,spk1,female,test\n"
        "broken.wav,Broken one.,spk2,male,train\n"
        "gone.wav,Missing one.,spk2,male,train\n",
        encoding="utf-8",
    )
    out = import_corpus(
        tmp_path,
        tmp_path / "out",
        fmt="folder",
        language="en_us",
        listing=listing,
        progress=False,
    )
    utts = list(Corpus(out.parent))
    assert [u.id for u in utts] == ["x", "broken", "gone"]
    assert utts[0].ok and utts[0].speaker_id == "spk1" and utts[0].split == "test"
    assert utts[1].status == "error" and "broken.wav" in utts[1].error
    assert "CorruptAudioError" in utts[1].error
    assert utts[2].status == "error" and "MissingAudioError" in utts[2].error


def test_folder_reader_lists_nothing_clearly(tmp_path):
    with pytest.raises(ValueError, match="no audio files"):
        list(read_folder(tmp_path, language="en_us"))


def test_non_utf8_transcripts_become_error_rows(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    for name in ("good", "bad"):
        sf.write(folder / f"{name}.wav", speech_like(0.5), 16000)
    (folder / "good.txt").write_text("Grüße", encoding="utf-8")
    (folder / "bad.txt").write_bytes("Grüße".encode("latin-1"))
    rows = {u.id: u for u in read_folder(folder, language="de_de")}
    assert rows["good"].ok and rows["good"].raw_transcription == "Grüße"
    assert not rows["bad"].ok and "TextEncodingError" in rows["bad"].error
    assert "bad.txt" in rows["bad"].error and rows["bad"].raw_transcription == "Gr\ufffd\ufffde"

    listing = folder / "list.tsv"
    listing.write_bytes(b"path\ttext\ngood.wav\tok\nbad.wav\tGr\xfc\xdfe\n")
    rows = list(read_folder(folder, language="de_de", listing=listing))
    assert [u.ok for u in rows] == [True, False] and "list.tsv:3" in rows[1].error

    root = _fleurs_tree(tmp_path / "fleurs", packed=False)
    tsv = next(root.rglob("test.tsv"))
    lines = tsv.read_bytes().splitlines()
    lines[0] = lines[0].replace(b"Bonjour", "Bonjour café".encode("latin-1"), 1)
    tsv.write_bytes(b"\n".join(lines) + b"\n")
    rows = [u for u in read_fleurs(root) if u.split == "test"]
    assert len(rows) == len(lines) and "test.tsv:1: not valid UTF-8" in rows[0].error
    assert all(u.ok for u in rows[1:])
