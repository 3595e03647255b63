"""`fleursr restore` on a file, a folder and a corpus, with bad files among them."""

import pytest
import soundfile as sf
import torch

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.jobs.cli.main import main
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt")
    Restorer(restorer_config("tiny").to_dict()).save_pretrained(path)
    return path


def test_restore_a_file(checkpoint, tmp_path, capsys):
    sf.write(tmp_path / "in.wav", speech_like(1.0, 16000), 16000)
    assert main(["restore", str(tmp_path / "in.wav"), str(tmp_path / "out.flac"),
                 "--model", str(checkpoint), "--device", "cpu"]) == 0  # fmt: skip
    wave, sr = sf.read(tmp_path / "out.flac")
    assert sr == 24000 and len(wave) == 24000
    assert "restored 1 of 1 files" in capsys.readouterr().out


def test_restore_a_folder_skips_bad_files_by_name(checkpoint, tmp_path, capsys):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    sf.write(tmp_path / "in" / "a.wav", speech_like(0.5, 22050), 22050)
    sf.write(tmp_path / "in" / "sub" / "b.flac", speech_like(0.5, 16000), 16000)
    (tmp_path / "in" / "broken.wav").write_bytes(b"nonsense")
    assert main(["restore", str(tmp_path / "in"), str(tmp_path / "out"),
                 "--model", str(checkpoint)]) == 0  # fmt: skip
    assert (tmp_path / "out" / "a.flac").exists() and (tmp_path / "out" / "sub" / "b.flac").exists()
    out = capsys.readouterr().out
    assert "restored 2 of 3 files" in out and "broken.wav" in out


def test_restore_a_corpus_keeps_every_utterance(checkpoint, tmp_path):
    root = make_corpus(tmp_path / "c", per_language=2, duration=0.6)
    (root / "audio" / "fr_fr" / "fr_fr_00001.flac").unlink()
    assert main(["restore", str(root), str(tmp_path / "r"), "--model", str(checkpoint)]) == 0
    src, out = Corpus(root), Corpus(tmp_path / "r")
    assert [u.id for u in out] == [u.id for u in src]
    bad = [u for u in out if not u.ok]
    assert [u.id for u in bad] == ["fr_fr_00001"] and "MissingAudioError" in bad[0].error
    for utt in out:
        if utt.ok:
            wave, sr = out.load_audio(utt)
            assert sr == 24000 and len(wave) == utt.num_samples == 14400


def test_missing_embedded_weights_is_a_clear_error(tmp_path, capsys, monkeypatch):
    """An installation without the package's weights folder (a trimmed install) says so."""
    sf.write(tmp_path / "in.wav", speech_like(0.5), 16000)
    monkeypatch.setattr(Restorer, "shipped_dir", tmp_path / "no-weights")
    assert main(["restore", str(tmp_path / "in.wav"), str(tmp_path / "o.wav")]) == 2
    assert "no embedded restoration weights" in capsys.readouterr().err
