"""The band extension (restore/band.py): its fit, what it rewrites and what it leaves, its CLI."""

import numpy as np
import pytest
import torch

from fleursr.corpus.testing import make_corpus
from fleursr.jobs.cli.main import main
from fleursr.nn import MelConfig
from fleursr.restore.apply import load_restorer
from fleursr.restore.band import BandExtension, build_band
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer


def _share_above(wave: np.ndarray, sr: int, cutoff: float = 8000.0) -> float:
    """Energy above ``cutoff`` relative to the whole, dB."""
    power = np.abs(np.fft.rfft(wave)) ** 2
    freqs = np.fft.rfftfreq(len(wave), 1 / sr)
    return float(10 * np.log10(power[freqs > cutoff].sum() / power.sum() + 1e-30))


def _tiny(**overrides) -> Restorer:
    torch.manual_seed(0)
    cfg = restorer_config("tiny").to_dict()
    return Restorer({**cfg, "input_band_rate": 16000, **overrides})


@pytest.mark.parametrize("read_input", [False, True])
def test_fit_recovers_a_linear_map_from_the_bands_below_to_those_above(read_input):
    band = BandExtension(MelConfig(), cutoff_hz=8000.0, sources=12, context=1,
                         read_input=read_input, ridge=1e-6)  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    truth = 0.3 * torch.randn(band.weight.shape, generator=gen, dtype=torch.float64).float()
    truth[-1] = -3.0
    triples = []
    for _ in range(4):
        mel, heard = (torch.randn(1, 120, 100, generator=gen) - 2.0 for _ in range(2))
        clean = mel.clone()  # log-mel well above the floor
        clean[..., band.targets] = band.design(mel, heard) @ truth
        triples.append((mel[0], heard[0], clean[0]))
    stats = band.fit(triples)
    assert stats["frames"] == 4 * 120 and stats["rmse"] < 1e-3
    torch.testing.assert_close(band.weight, truth, atol=1e-3, rtol=0)
    mel, heard, clean = triples[0]
    torch.testing.assert_close(band.extend(mel[None], heard[None])[0], clean, atol=1e-3, rtol=0)
    if read_input:  # the input's bands matter: without them the map cannot be read
        with pytest.raises(ValueError, match="pass heard"):
            band.extend(mel[None])


def test_a_network_on_the_map_fits_what_a_linear_map_cannot():
    """Bands above that follow the bands below through a bend (a ReLU): the ridge map alone
    leaves most of it, the map with its residual network much less."""
    gen = torch.Generator().manual_seed(1)
    triples = []
    for _ in range(6):
        mel, heard = (torch.randn(1, 200, 100, generator=gen) - 2.0 for _ in range(2))
        clean = mel.clone()
        clean[0, :, 89:] = -4.0 + 2.0 * torch.relu(mel[0, :, 80:88].mean(-1, keepdim=True) + 2.0)
        triples.append((mel[0], heard[0], clean[0]))
    errors = {}
    for hidden in (0, 32):
        band = BandExtension(MelConfig(), cutoff_hz=8000.0, sources=12, context=0,
                             hidden=hidden, steps=400)  # fmt: skip
        errors[hidden] = band.fit(triples)["rmse"]
    assert errors[32] < 0.6 * errors[0], errors


def test_it_rewrites_the_band_above_the_cutoff_and_leaves_the_band_below():
    """WaveFit's output below 7 kHz changes by less than -40 dB of itself (the STFT of a wave
    whose upper bins alone were scaled leaks a little below them); above 8 kHz the output's mel
    reaches the level the map predicts (here a constant one) from WaveFit's near silence."""
    plain, extended = _tiny(), _tiny(band_extension={"sources": 8, "context": 0})
    extended.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        extended.band.weight.zero_()
        extended.band.weight[-1] = -4.0  # log-mel magnitude of every band above 8 kHz
    plain.eval(), extended.eval()
    make = np.random.default_rng(0)
    wave = np.convolve(make.standard_normal(24000), np.ones(4) / 4, "same") * np.hanning(24000)
    wave = wave.astype(np.float32)  # faded in and out: an abrupt onset has every band
    a, _ = plain.restore(0.1 * wave, 16000)
    b, sr = extended.restore(0.1 * wave, 16000)
    spec = [np.fft.rfft(x) for x in (a, b)]
    freqs = np.fft.rfftfreq(len(a), 1 / sr)
    below = freqs < 7000
    change = np.sum(np.abs(spec[1][below] - spec[0][below]) ** 2) / np.sum(
        np.abs(spec[0][below]) ** 2
    )
    assert 10 * np.log10(change) < -40, 10 * np.log10(change)
    mel = extended.vocoder.mel(torch.from_numpy(b)[None])[0]
    level = mel[extended.band.targets[1:], 5:-5].mean().item()  # the bands wholly above 8 kHz
    assert abs(level - (-4.0)) < 0.5, level
    assert _share_above(b, sr) > _share_above(a, sr) + 20


def test_its_settings_are_checked():
    with pytest.raises(ValueError, match="input_band_rate"):
        _tiny(input_band_rate=None, band_extension={})
    with pytest.raises(ValueError, match="unknown settings.*'lift'"):
        _tiny(band_extension={"lift": 1.0})
    with pytest.raises(ValueError, match="sources must be"):
        build_band({"sources": 1000}, 16000, _tiny().vocoder)
    with pytest.raises(ValueError, match="no mel band above"):
        build_band({}, 24000, _tiny().vocoder)


def test_cli_fits_a_restorer_whose_band_above_8_khz_approaches_the_clean_one(tmp_path, capsys):
    """``fleursr train band`` on wide-band speech-like audio (22.05 kHz) writes a restorer that
    loads with its fitted map; on an utterance the fit never saw, band-limited to 16 kHz, the
    band above 8 kHz it writes lies within 12 dB of the clean utterance's and 10 dB or more
    above what the same restorer writes without the map (measured: -53, -70, clean -44 dB)."""
    corpus = make_corpus(tmp_path / "wide", languages=("en_us", "fr_fr"), per_language=9,
                         sr=22050, duration=1.5)  # fmt: skip
    base = tmp_path / "base"
    _tiny().save_pretrained(base)
    out = tmp_path / "banded"
    args = ["train", "band", "--model", str(base), "--corpus", str(corpus), "--out", str(out),
            "--sources", "10", "--epochs", "2", "--progress-every", "4", "--hidden", "16",
            "--steps", "200"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "4 utterances" in printed and "RMS error" in printed
    fitted, plain = load_restorer(str(out), "cpu"), load_restorer(str(base), "cpu")
    assert fitted.cfg.band_extension["sources"] == 10 and fitted.band.weight[-1].max() > -11
    from fleursr.corpus.manifest import Corpus

    held = Corpus(corpus)
    utt = next(u for u in held if u.split == "test")
    clean, sr = held.load_audio(utt)
    clean_share = _share_above(clean, sr)
    shares = {name: _share_above(*model.restore(clean, sr))
              for name, model in (("fitted", fitted), ("plain", plain))}  # fmt: skip
    assert abs(shares["fitted"] - clean_share) < 12, (shares, clean_share)
    assert shares["fitted"] > shares["plain"] + 10, (shares, clean_share)


def test_cli_says_which_corpus_has_no_wide_band_speech(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "narrow", per_language=3, sr=16000, duration=1.0)
    base = tmp_path / "base"
    _tiny().save_pretrained(base)
    args = ["train", "band", "--model", str(base), "--corpus", str(corpus), "--out",
            str(tmp_path / "out"), "--sources", "10"]  # fmt: skip
    assert main(args) != 0
    assert f"{corpus}: no train utterance sampled above 16000 Hz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
