"""The Asterisk prompt-pack reader, on a pack built here (G.722 encoded with PyAV) and, where it
is unpacked on the machine (recipes/real_speech.sh), on the real Debian packs."""

import gzip
import io
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.readers import detect_format, import_corpus
from fleursr.corpus.readers.asterisk import (
    SKIP_CONFLICT,
    SKIP_NO_AUDIO,
    SKIP_NO_TEXT,
    SKIP_NON_SPEECH,
    decode_prompt,
    find_packs,
    fleurs_language,
    hash_split,
    read_asterisk,
    read_transcripts,
    scan_pack,
    spoken_text,
)
from fleursr.corpus.testing import speech_like
from fleursr.jobs.cli.main import main

av = pytest.importorskip("av")
SR = 16000
# prompt -> seconds of audio (None: no audio file)
AUDIO = {"hello": 0.8, "digits/1": 0.5, "letters/at": 0.4, "beep": 0.3, "orphan": 0.6}
TRANSCRIPT = """; Core Asterisk Sounds in English

hello: Hello, world.
digits/1: one
letters/at: at [@]
beep: [this is a simple beep tone]
missing-audio: This prompt was never recorded.
empty:
twice: First text.
twice: Second text.
"""
# Imported: hello, digits/1, letters/at. Skipped: beep (non-speech), missing-audio (no audio),
# orphan and empty (no transcript; empty has no audio either: no audio wins), twice (conflict).


def encode_g722(wave: np.ndarray) -> bytes:
    """Raw G.722 bitstream of 16 kHz float audio, as the Asterisk packs hold it."""
    buf = io.BytesIO()
    pcm = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
    with av.open(buf, "w", format="g722") as out:
        stream = out.add_stream("g722", rate=SR, layout="mono")
        for start in range(0, len(pcm), 1024):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, start : start + 1024], format="s16", layout="mono"
            )
            frame.sample_rate = SR
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def make_pack(root: Path, voice: str = "en_US_f_Allison", tag: str = "en") -> Path:
    """A ``dpkg -x`` root of a transcript package and a G.722 package; returns the root."""
    sounds = root / "usr/share/asterisk/sounds" / voice
    for k, (name, seconds) in enumerate(AUDIO.items()):
        target = sounds / f"{name}.g722"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(encode_g722(speech_like(seconds, sr=SR, seed=k)))
    doc = root / f"usr/share/doc/asterisk-core-sounds-{tag}/core-sounds-{tag}.txt.gz"
    doc.parent.mkdir(parents=True)
    doc.write_bytes(gzip.compress(TRANSCRIPT.encode("utf-8")))
    return root


@pytest.fixture
def pack(tmp_path):
    return make_pack(tmp_path / "pack")


def test_spoken_text_drops_non_speech_and_symbol_annotations():
    assert spoken_text("[ascending tones]") is None
    assert spoken_text("[ tono de error ]") is None
    assert spoken_text("(10 seconds of silence)") is None
    assert spoken_text("<beep ascending>") is None
    assert spoken_text("at [@]") == "at"
    assert (
        spoken_text("Sus saludos [temporales] estan en uso")
        == "Sus saludos temporales estan en uso"
    )
    assert spoken_text("...to leave the conference.") == "...to leave the conference."


def test_scan_counts_every_skipped_prompt(pack):
    (p,) = find_packs(pack)
    assert (p.tag, p.language, p.gender, p.speaker_id) == (
        "en",
        "en_us",
        "female",
        "asterisk_en_US_f_Allison",
    )
    scan = scan_pack(p)
    assert sorted(scan.prompts) == ["digits/1", "hello", "letters/at"]
    assert dict(scan.skipped) == {
        SKIP_NON_SPEECH: ["beep"],
        SKIP_NO_AUDIO: ["empty", "missing-audio"],
        SKIP_NO_TEXT: ["orphan"],
        SKIP_CONFLICT: ["twice"],
    }
    assert scan.skipped_count() == 5


def test_import_decodes_to_flac_at_16k_with_the_right_duration(pack, tmp_path, capsys):
    assert detect_format(pack) == "asterisk"
    out = tmp_path / "corpus"
    import_corpus(pack, out, progress=False)  # auto-detected
    assert "3 prompts to import, 5 skipped" in capsys.readouterr().err
    corpus = Corpus(out)
    utts = {u.id: u for u in corpus}
    assert sorted(utts) == ["asterisk_en_digits__1", "asterisk_en_hello", "asterisk_en_letters__at"]
    hello = utts["asterisk_en_hello"]
    assert (hello.raw_transcription, hello.transcription) == ("Hello, world.", "hello world")
    assert utts["asterisk_en_letters__at"].raw_transcription == "at"
    for utt in utts.values():
        assert utt.ok and utt.language == "en_us" and utt.gender == "female"
        assert utt.speaker_id == "asterisk_en_US_f_Allison" and utt.split == hash_split(
            utt.extra["prompt"]
        )
        assert Path(utt.path).suffix == ".flac" and not Path(utt.path).is_absolute()
        assert corpus.resolve(utt.path).is_file()  # relative to the corpus folder
        wave, sr = corpus.load_audio(utt)
        assert sr == SR and wave.dtype == np.float32 and np.isfinite(wave).all()
        assert len(wave) == utt.num_samples
        assert abs(len(wave) / SR - AUDIO[utt.extra["prompt"]]) < 0.01
        assert 0.05 < np.abs(wave).max() <= 1.0
    skipped = (out / "audio" / "en" / "skipped.tsv").read_text().splitlines()
    assert skipped[0] == "prompt\treason" and "missing-audio\tno audio" in skipped


def test_a_latin1_transcript_line_is_read_not_lost(tmp_path):
    listing = tmp_path / "core-sounds-es.txt"
    listing.write_bytes(b"hola: Hola.\n" + "adios: Adiós, señor.\n".encode("latin-1"))
    rows = read_transcripts(listing)
    assert [(name, text) for _, name, text in rows] == [
        ("hola", "Hola."),
        ("adios", "Adiós, señor."),
    ]
    listing.write_bytes(b"hola: Hola.\nno colon here\n")
    with pytest.raises(ValueError, match=r"core-sounds-es.txt:2: expected 'name: text'"):
        read_transcripts(listing)


def test_g722_decoding_matches_the_source(tmp_path):
    wave = speech_like(0.5, sr=SR, seed=3)
    path = tmp_path / "x.g722"
    path.write_bytes(encode_g722(wave))
    decoded, sr = decode_prompt(path)
    assert sr == SR and decoded.dtype == np.float32 and len(decoded) == len(wave)
    # The codec delays by ~22 samples; at the best lag the waveforms match closely (a scaling,
    # sign or byte-order mistake would not).
    corr = max(np.corrcoef(decoded[lag:], wave[: len(wave) - lag])[0, 1] for lag in range(40))
    assert corr > 0.9


def test_splits_are_deterministic_and_7_1_2():
    names = [f"prompt-{k}" for k in range(20000)]
    counts = Counter(hash_split(n) for n in names)
    assert abs(counts["train"] / 20000 - 0.7) < 0.02
    assert abs(counts["dev"] / 20000 - 0.1) < 0.02
    assert abs(counts["test"] / 20000 - 0.2) < 0.02
    assert [hash_split(n) for n in names[:50]] == [hash_split(n) for n in names[:50]]


def test_rerun_gives_the_same_corpus_and_languages_share_splits(tmp_path):
    root = make_pack(tmp_path / "root")
    make_pack(root, voice="es_MX_f_Allison", tag="es")  # a second pack in the same root
    rows = []
    for k in range(2):
        out = tmp_path / f"c{k}"
        import_corpus(root, out, fmt="asterisk", progress=False)
        rows.append(sorted((u.id, u.language, u.split, u.sentence_id) for u in Corpus(out)))
    assert rows[0] == rows[1] and len(rows[0]) == 6
    assert {lang for _, lang, _, _ in rows[0]} == {"en_us", "es_419"}
    by_sentence = {}
    for _, _, split, sid in rows[0]:
        by_sentence.setdefault(sid, set()).add(split)
    assert len(by_sentence) == 3 and all(len(s) == 1 for s in by_sentence.values())


def test_sounds_folder_with_transcripts_option_and_cli(pack, tmp_path, capsys):
    sounds = pack / "usr/share/asterisk/sounds/en_US_f_Allison"
    plain = tmp_path / "core-sounds-en.txt"
    plain.write_text(TRANSCRIPT, encoding="utf-8")
    args = ["corpus", "import", str(sounds), "--out", str(tmp_path / "c"), "--transcripts"]
    assert main([*args, str(plain)]) == 0
    assert len(Corpus(tmp_path / "c")) == 3
    assert main(["corpus", "import", str(pack), "--out", str(tmp_path / "d"), "--format",
                 "asterisk", "--language", "en-US"]) == 0  # fmt: skip
    assert "3 utterances" in capsys.readouterr().out


def test_upstream_layout_and_clear_errors(tmp_path):
    sounds = make_pack(tmp_path / "p") / "usr/share/asterisk/sounds/en_US_f_Allison"
    (sounds / "core-sounds-en.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (pack,) = find_packs(sounds)  # the tarball's layout: transcript among the sounds
    assert pack.sounds == sounds
    with pytest.raises(ValueError, match="no core-sounds-LANG.txt"):
        find_packs(tmp_path / "p" / "usr")
    with pytest.raises(ValueError, match="audio_dir"):
        next(read_asterisk(tmp_path / "p"))
    assert fleurs_language("es") == "es_419" and fleurs_language("en") == "en_us"
    with pytest.raises(ValueError, match="not a FLEURS language"):
        fleurs_language("xx")


def _real_root() -> Path | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    for root in (cache / "fleursr/asterisk/root", Path("/")):
        if (root / "usr/share/asterisk/sounds/en_US_f_Allison/activated.g722").exists() and (
            root / "usr/share/doc/asterisk-core-sounds-en"
        ).is_dir():
            return root
    return None


@pytest.mark.skipif(_real_root() is None, reason="asterisk-core-sounds-en(-g722) not unpacked")
def test_real_english_pack():
    root = _real_root()
    wave, sr = decode_prompt(root / "usr/share/asterisk/sounds/en_US_f_Allison/activated.g722")
    assert sr == 16000 and wave.dtype == np.float32 and np.isfinite(wave).all()
    assert 0.8 < len(wave) / sr < 1.5 and 0.1 < np.abs(wave).max() <= 1.0
    en = next(p for p in find_packs(root) if p.tag == "en")
    scan = scan_pack(en)
    assert 500 < len(scan.prompts) < 600 and scan.skipped[SKIP_NON_SPEECH]
    assert "silence/1" in scan.skipped[SKIP_NON_SPEECH] and "beep" not in scan.prompts
