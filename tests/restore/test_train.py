"""Restoration training at tiny size: losses fall, checkpoints resume, data is reproducible."""

import csv

import librosa
import numpy as np
import pytest
import torch

from fleursr.corpus.testing import make_corpus
from fleursr.nn.checkpoint import load_training_state, save_training_state
from fleursr.restore.cleaner import cleaner_loss
from fleursr.restore.config import restorer_config
from fleursr.restore.data import DegradedPairs, collate_pairs
from fleursr.restore.model import Restorer
from fleursr.restore.train import (
    CleanerStage,
    TrainConfig,
    VocoderStage,
    train_cleaner,
    train_vocoder,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("clean"), languages=("en_us", "hi_in"),
                       per_language=6, duration=1.2)  # fmt: skip


def _fixed_batch(corpus, preset="noise"):
    data = DegradedPairs(corpus, input_sr=24000, segment_seconds=0.6, preset=preset, seed=3)
    return collate_pairs([data[i] for i in range(2)])


def _model():
    torch.manual_seed(0)
    return Restorer(restorer_config("tiny").to_dict())


def test_pairs_are_reproducible_and_aligned(corpus):
    a = DegradedPairs(corpus, input_sr=16000, segment_seconds=0.5, seed=1)
    b = DegradedPairs(corpus, input_sr=16000, segment_seconds=0.5, seed=1)
    for i in range(4):
        x, y = a[i], b[i]
        np.testing.assert_array_equal(x["degraded"], y["degraded"])
        assert abs(len(x["clean_out"]) - 1.5 * len(x["clean_in"])) <= 1
    a.set_epoch(1)
    assert not np.array_equal(a[0]["clean_in"], b[0]["clean_in"]) or not np.array_equal(
        a[0]["degraded"], b[0]["degraded"]
    )
    batch = collate_pairs([a[i] for i in range(3)])
    assert batch.degraded.shape == batch.clean_in.shape and batch.lengths.shape == (3,)


def test_cleaner_steps_lower_its_loss(corpus):
    batch = _fixed_batch(corpus)
    stage = CleanerStage(_model(), TrainConfig(corpus="", out="", lr=3e-3), torch.device("cpu"))
    losses = [stage.step(batch, i)["total"] for i in range(25)]
    assert losses[-1] < 0.7 * losses[0]


def test_cleaner_step_on_untouched_audio_keeps_finite_weights(corpus):
    """The simulator leaves a share of items clean; an untrained cleaner (zero correction) then
    predicts the target exactly, and the loss' spectral convergence must not give NaN grads."""
    data = DegradedPairs(corpus, input_sr=24000, segment_seconds=0.6, preset={"clean_share": 1.0},
                         seed=3)  # fmt: skip
    batch = collate_pairs([data[i] for i in range(2)])
    assert torch.equal(batch.degraded, batch.clean_in)
    stage = CleanerStage(_model(), TrainConfig(corpus="", out="/nonexistent", lr=1e-3),
                         torch.device("cpu"))  # fmt: skip
    for i in range(2):
        stage.step(batch, i)
    assert all(torch.isfinite(p).all() for p in stage.model.cleaner.parameters())


def test_cleaner_loss_ignores_the_bands_a_target_lacks(corpus):
    """A 16 kHz recording's log-mel is at the floor above 8 kHz: the loss must not teach the
    cleaner that floor, while a 22.05 kHz target keeps its bands up to 11 kHz."""
    batch = _fixed_batch(corpus)
    batch.band_hz = torch.tensor([8000.0, 11025.0])
    stage = CleanerStage(_model(), TrainConfig(corpus="", out="", lr=1e-3), torch.device("cpu"))
    dims = stage.target_bands(batch)
    mel = stage.model.features.mel_config
    upper = librosa.mel_frequencies(mel.n_mels + 2, fmax=mel.sample_rate / 2)[2:]
    assert dims.tolist() == [(upper <= 8000).tolist(), (upper <= 11025).tolist()]
    assert 0 < dims[0].sum() < dims[1].sum() < mel.n_mels
    pred = torch.randn(2, 7, mel.n_mels)
    target = pred.clone()
    target[~dims[:, None, :].expand_as(target)] -= 5.0  # differs only where the target has nothing
    assert cleaner_loss(pred, target, None, dims)[1]["l1"] == 0.0
    assert cleaner_loss(pred, target)[1]["l1"] > 0.1
    off = CleanerStage(_model(), TrainConfig(corpus="", out="", band_limited_loss=False),
                       torch.device("cpu"))  # fmt: skip
    assert off.target_bands(batch) is None


def test_vocoder_steps_lower_its_stft_loss(corpus):
    batch = _fixed_batch(corpus)
    cfg = TrainConfig(corpus="", out="/nonexistent", lr=2e-3, adversarial_from=0)
    model = _model()
    model.vocoder.generator.out.reset_parameters()  # from a random output, not the zero one
    stage = VocoderStage(model, cfg, torch.device("cpu"))
    parts = [stage.step(batch, i) for i in range(25)]
    first = parts[0]["sc"] + parts[0]["log_mag"]
    last = np.mean([p["sc"] + p["log_mag"] for p in parts[-3:]])
    assert last < 0.85 * first
    assert all(p["d_total"] > 0 for p in parts)


def test_vocoder_step_with_the_cpu_discriminator_on_the_last_step(corpus):
    batch = _fixed_batch(corpus)
    cfg = TrainConfig(corpus="", out="/nonexistent", lr=2e-3, adversarial_from=0,
                      discriminator="cpu", adversarial_on="last")  # fmt: skip
    stage = VocoderStage(_model(), cfg, torch.device("cpu"))
    assert stage.disc.config.resolution_freq_stride == 2
    before = [p.detach().clone() for p in stage.disc.parameters()]
    parts = stage.step(batch, 0)
    assert parts["d_total"] > 0 and parts["adv"] > 0 and parts["fm"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, stage.disc.parameters()))
    with pytest.raises(ValueError, match="adversarial_on"):
        VocoderStage(_model(), TrainConfig(corpus="", out="/x", adversarial_on="first"), "cpu")
    with pytest.raises(ValueError, match="discriminator must be"):
        VocoderStage(_model(), TrainConfig(corpus="", out="/x", discriminator="huge"), "cpu")


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_recipe_runs_and_resumes(corpus, tmp_path):
    common = dict(corpus=str(corpus), model="tiny", batch_size=2, segment_seconds=0.5,
                  log_every=1, val_every=100, val_items=1, lr=1e-3)  # fmt: skip
    voc = tmp_path / "vocoder"
    train_vocoder(TrainConfig(out=str(voc), steps=2, save_every=2, **common), progress=False)
    train_vocoder(TrainConfig(out=str(voc), steps=4, save_every=2, **common), progress=False)
    assert [r["step"] for r in _rows(voc / "train_log.csv")] == ["1", "2", "3", "4"]
    assert (voc / "val" / "step_000004" / "0_restored.flac").exists()
    cleaner = tmp_path / "cleaner"
    train_cleaner(TrainConfig(out=str(cleaner), init=str(voc), steps=3, **common), progress=False)
    before, after = Restorer.from_pretrained(voc), Restorer.from_pretrained(cleaner)
    for (name, p), q in zip(
        before.vocoder.state_dict().items(), after.vocoder.state_dict().values()
    ):
        torch.testing.assert_close(p, q, msg=name)  # the cleaner stage leaves the vocoder alone
    with pytest.raises(ValueError, match="holds a 'cleaner' run"):
        train_vocoder(TrainConfig(out=str(cleaner), steps=5, **common), progress=False)
    fine = tmp_path / "finetune"
    train_vocoder(
        TrainConfig(out=str(fine), init=str(cleaner), steps=2, vocoder_input="cleaned", **common),
        progress=False,
    )
    wave, sr = Restorer.from_pretrained(fine).restore(np.zeros(8000, np.float32) + 0.01, 16000)
    assert sr == 24000 and len(wave) == 12000


def test_training_state_round_trip(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
    save_training_state(tmp_path, 3, {"g": opt}, {"stage": "x"})
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    step, extra = load_training_state(tmp_path, {"g": fresh})
    assert step == 3 and extra == {"stage": "x"}
    a, b = opt.state_dict(), fresh.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for k in a["state"]:
        for name, value in a["state"][k].items():
            torch.testing.assert_close(torch.as_tensor(value), torch.as_tensor(b["state"][k][name]))
