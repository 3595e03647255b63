import subprocess
import sys

import pytest

from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus
from fleursr.jobs.cli.main import main
from fleursr.synth.espeak import espeak_available


def test_info_prints_a_summary(tmp_path, capsys):
    make_corpus(tmp_path, languages=("en_us", "ja_jp"), per_language=2)
    assert main(["corpus", "info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4 utterances, 2 languages" in out and "ja_jp 2" in out


def test_degrade_command_summarizes_degradations(tmp_path, capsys):
    make_corpus(tmp_path / "clean", per_language=3, duration=1.0)
    code = main(
        [
            "degrade",
            str(tmp_path / "clean"),
            str(tmp_path / "twin"),
            "--preset",
            "noise",
            "--seed",
            "2",
            "--workers",
            "1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "degraded twin written to" in out and "degradations: " in out and "noise" in out
    assert len(Corpus(tmp_path / "twin")) == 6


def test_import_command_on_a_folder(tmp_path, capsys):
    import soundfile as sf

    from fleursr.corpus.testing import speech_like

    sf.write(tmp_path / "a.wav", speech_like(1.0), 16000)
    (tmp_path / "a.txt").write_text("Hola.", encoding="utf-8")
    assert (
        main(
            [
                "corpus",
                "import",
                str(tmp_path),
                "--out",
                str(tmp_path / "c"),
                "--language",
                "es_419",
            ]
        )
        == 0
    )
    assert next(iter(Corpus(tmp_path / "c"))).language == "es_419"


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["corpus", "info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fleursr: error:") and "missing" in err and "Traceback" not in err


def test_languages_lists_all_fleurs_codes(capsys):
    assert main(["corpus", "languages"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 103 and any(line.startswith("cmn_hans_cn") for line in lines)


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "fleursr", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "corpus" in out and "degrade" in out and "demo" in out


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_demo_end_to_end_small(tmp_path, capsys):
    assert (
        main(
            [
                "demo",
                "--out",
                str(tmp_path),
                "--languages",
                "de_de",
                "ko_kr",
                "--per-language",
                "2",
                "--workers",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "clean embedded corpus" in out and "degraded twin" in out
    assert len(Corpus(tmp_path / "clean")) == len(Corpus(tmp_path / "degraded")) == 4
