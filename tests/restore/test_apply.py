"""`fleursr restore` on a file, a folder and a corpus, with bad files among them: each bad
file is one error line naming its kind and the file, the others are restored, the exit status
is 1."""

import numpy as np
import pytest
import soundfile as sf
import torch

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.jobs.cli.main import main
from fleursr.restore.apply import load_restorer, restore_path
from fleursr.restore.config import restorer_config
from fleursr.restore.corpus import MIN_RESTORE_SECONDS
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
                 "--model", str(checkpoint)]) == 1  # fmt: skip
    assert (tmp_path / "out" / "a.flac").exists() and (tmp_path / "out" / "sub" / "b.flac").exists()
    out = capsys.readouterr().out
    assert "restored 2 of 3 files" in out and "CorruptAudioError: " in out and "broken.wav" in out


def test_restore_a_corpus_keeps_every_utterance(checkpoint, tmp_path):
    root = make_corpus(tmp_path / "c", per_language=2, duration=0.6)
    (root / "audio" / "fr_fr" / "fr_fr_00001.flac").unlink()
    assert main(["restore", str(root), str(tmp_path / "r"), "--model", str(checkpoint)]) == 1
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


def _folder_with_bad_file_between(root, bad_name, write_bad):
    (root / "in").mkdir(parents=True)
    sf.write(root / "in" / "a.wav", speech_like(0.5, 16000), 16000)
    write_bad(root / "in" / bad_name)
    sf.write(root / "in" / "c.wav", speech_like(0.5, 16000, seed=1), 16000)
    return root / "in"


def _short(path):  # decodable, 117 samples: the model's STFT padding cannot take it
    sf.write(path, speech_like(0.5, 16000)[:117], 16000)


def _huge_stereo(path):
    """Finite float samples near float32's largest: ``read_audio`` accepts them, but their mean
    over two channels overflows to infinity, which the restorer refuses (ValueError)."""
    wave = np.full((8000, 2), 3e38, np.float32) * np.sign(speech_like(0.5, 16000))[:, None]
    sf.write(path, wave, 16000, subtype="FLOAT")


def test_a_short_file_in_a_folder_is_a_named_error_and_the_rest_goes_on(checkpoint, tmp_path):
    assert MIN_RESTORE_SECONDS == 0.1
    src = _folder_with_bad_file_between(tmp_path, "b.wav", _short)
    summary = restore_path(Restorer.from_pretrained(checkpoint), src, tmp_path / "out",
                           progress=False)  # fmt: skip
    assert (summary.files, summary.restored, summary.failed) == (3, 2, 1)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.flac", "c.flac"]
    assert summary.errors == [f"TooShortAudioError: {src / 'b.wav'}: 0.007 s is shorter than "
                              f"the minimum 0.100 s"]  # fmt: skip
    assert "restored 2 of 3 files" in str(summary) and "b.wav" in str(summary)


def test_the_cli_exits_1_naming_the_file_that_failed(checkpoint, tmp_path, capsys):
    src = _folder_with_bad_file_between(tmp_path, "b.wav", _short)
    assert main(["restore", str(src), str(tmp_path / "out"), "--model", str(checkpoint)]) == 1
    out = capsys.readouterr().out
    assert "restored 2 of 3 files" in out and f"TooShortAudioError: {src / 'b.wav'}:" in out
    # one file: the error says which and what
    assert main(["restore", str(src / "b.wav"), str(tmp_path / "b.flac"),
                 "--model", str(checkpoint)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert f"fleursr: error: TooShortAudioError: {src / 'b.wav'}: 0.007 s is shorter" in err
    assert not (tmp_path / "b.flac").exists()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("model", ["checkpoint", "identity"])
def test_a_file_the_restorer_refuses_is_a_restore_error(checkpoint, tmp_path, model):
    """Streamed (the project's Restorer) or whole (another restorer), the same line."""
    restorer = load_restorer(str(checkpoint) if model == "checkpoint" else model, "cpu")
    src = _folder_with_bad_file_between(tmp_path, "b.wav", _huge_stereo)
    summary = restore_path(restorer, src, tmp_path / "out", progress=False)
    assert (summary.restored, summary.failed) == (2, 1)
    assert summary.errors == [f"RestoreError: {src / 'b.wav'}: ValueError: audio contains NaN "
                              "or infinite samples"]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.flac", "c.flac"]


def test_an_output_that_cannot_be_written_is_a_write_error(checkpoint, tmp_path, capsys):
    sf.write(tmp_path / "in.wav", speech_like(0.5, 16000), 16000)
    (tmp_path / "blocker").write_text("a file where the output folder should be")
    out = tmp_path / "blocker" / "out.flac"
    assert main(["restore", str(tmp_path / "in.wav"), str(out), "--model", str(checkpoint)]) == 1
    err = capsys.readouterr().err
    assert f"fleursr: error: WriteError: {out}: " in err
