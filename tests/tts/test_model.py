"""The acoustic model: shapes, a real optimization on a fixed batch, durations, checkpoints."""

import json

import pytest
import torch

from fleursr.tts.config import SIZES, tts_config
from fleursr.tts.model import TTSModel, durations_to_path, total_duration_loss
from fleursr.tts.pretrained import TTS


def fixed_batch(n_mels=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(2, 12, (3, 9), generator=g)
    token_lengths = torch.tensor([9, 6, 4])
    tokens[1, 6:] = 0
    tokens[2, 4:] = 0
    mel_lengths = torch.tensor([40, 30, 12])
    mels = torch.randn(3, 40, n_mels, generator=g) - 4.0
    for i, n in enumerate(mel_lengths):
        mels[i, n:] = 0
    return (
        tokens,
        token_lengths,
        mels,
        mel_lengths,
        torch.tensor([1, 2, 1]),
        torch.tensor([1, 2, 3]),
    )


def tiny_model():
    torch.manual_seed(0)
    return TTSModel(tts_config("tiny"), vocab_size=12, num_languages=2, num_speakers=3)


def test_training_pass_shapes():
    model = tiny_model().train()
    tokens, tlen, mels, mlen, langs, spks = fixed_batch()
    out = model(tokens, tlen, mels, mlen, langs, spks)
    assert out["mel_pred"].shape == mels.shape
    assert out["durations"].shape == tokens.shape
    assert out["durations"].sum(dim=1).tolist() == mlen.float().tolist()  # every frame aligned
    assert (out["durations"][0] >= 1).all() and (out["durations"][2, 4:] == 0).all()
    assert (out["mel_pred"][2, 12:] == 0).all()  # padded frames stay zero
    for key in ("loss", "mel", "prior", "duration", "total"):
        assert out[key].dim() == 0 and torch.isfinite(out[key])


def test_synthesis_shapes_and_padding():
    model = tiny_model().eval()
    tokens, tlen, _, _, langs, spks = fixed_batch()
    mels, frames = model.synthesize(tokens, tlen, langs, spks)
    assert mels.shape == (3, int(frames.max()), 40)
    assert (frames >= tlen).all()  # at least one frame per token
    assert (mels[2, int(frames[2]) :] == 0).all()


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    model = tiny_model().train()
    batch = fixed_batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = model(*batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0], losses


def _fitted_length(with_total: bool) -> float:
    """Fit one log-duration shared by every token (a predictor that cannot tell the tokens
    apart) to four short tokens and a long pause; the utterance length it predicts."""
    durations = torch.tensor([[2.0, 2.0, 2.0, 2.0, 30.0]])
    mask = torch.ones_like(durations, dtype=torch.bool)
    shared = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([shared], lr=0.05)
    for _ in range(600):
        log_dur = shared.expand_as(durations)
        loss = ((log_dur - torch.log1p(durations)) ** 2).mean()
        if with_total:
            loss = loss + total_duration_loss(log_dur, durations, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(torch.expm1(shared.detach()) * durations.shape[1])


def test_total_duration_loss_keeps_the_utterance_length():
    assert float(total_duration_loss(torch.log1p(torch.tensor([[3.0, 5.0]])),
                                     torch.tensor([[3.0, 5.0]]),
                                     torch.ones(1, 2, dtype=torch.bool))) < 1e-10  # fmt: skip
    # The per-token loss alone fits the mean log duration: the utterance comes out half as long
    # as the 38 frames it has; the length term (equal weight) takes back more than half the gap.
    alone, with_total = _fitted_length(False), _fitted_length(True)
    assert alone < 0.55 * 38, alone
    assert 0.7 * 38 < with_total < 38, with_total


def test_durations_to_path_and_length_scale():
    path = durations_to_path(torch.tensor([[2, 1, 3], [1, 1, 0]]))
    assert path.shape == (2, 3, 6)
    assert path[0].argmax(dim=0).tolist() == [0, 0, 1, 2, 2, 2]
    assert path[1].sum().item() == 2
    model = tiny_model()
    log_dur = torch.log1p(torch.tensor([[3.0, 0.2, 5.0]]))
    mask = torch.ones(1, 3, dtype=torch.bool)
    assert model.predict_durations(log_dur, mask).tolist() == [[3, 1, 5]]
    assert model.predict_durations(log_dur, mask, 2.0).tolist() == [[6, 1, 10]]
    two = model.predict_durations(log_dur.repeat(2, 1), mask.repeat(2, 1), torch.tensor([1.0, 2.0]))
    assert two.tolist() == [[3, 1, 5], [6, 1, 10]]  # a scale per row (a language's calibration)


def test_synthesized_duration_grows_with_text_length(trained_voice):
    voice = TTS.from_pretrained(trained_voice)
    texts = ["Sentence number 4.", "Sentence number 4, number 5.",
             "Sentence number 4, number 5, number 1 and number 3."]  # fmt: skip
    mels = voice.text_to_mel(texts, ["en_us"] * 3, [None] * 3)
    frames = [len(m) for m in mels]
    assert frames[0] < frames[1] < frames[2], frames
    # durations follow the data: ~1 s for "Sentence number N." (94 frames at 24 kHz, hop 256)
    assert 30 < frames[0] < 300, frames


def test_a_row_does_not_depend_on_its_batch(trained_voice):
    voice = TTS.from_pretrained(trained_voice)
    texts = ["Sentence number 1.", "A much longer sentence, number 5, said in French."]
    together = voice.text_to_mel(texts, ["en_us", "fr_fr"], [None, "fr_fr_s1"])
    for text, lang, spk, mel in zip(texts, ["en_us", "fr_fr"], [None, "fr_fr_s1"], together):
        alone = voice.text_to_mel([text], [lang], [spk])[0]
        assert alone.shape == mel.shape
        assert abs(alone - mel).max() < 1e-4


def test_checkpoint_round_trip_and_refusals(trained_voice, tmp_path):
    voice = TTS.from_pretrained(trained_voice)
    voice.save_pretrained(tmp_path / "copy")
    again = TTS.from_pretrained(tmp_path / "copy")
    a = voice.text_to_mel(["Sentence number 2."], ["fr_fr"], [None])[0]
    b = again.text_to_mel(["Sentence number 2."], ["fr_fr"], [None])[0]
    assert torch.equal(torch.from_numpy(a), torch.from_numpy(b))
    assert voice.languages == ["en_us", "fr_fr"] and len(voice.speakers) == 4
    assert not voice.model.mel_mean.eq(0).all()  # corpus statistics were stored
    with pytest.raises(ValueError, match="not trained on 'de_de'"):
        voice.language_id("de_de")
    with pytest.raises(ValueError, match="unknown speaker"):
        voice.speaker_id("nobody", "en_us")
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    config["model"]["dim"] = 48
    (tmp_path / "copy" / "config.json").write_text(json.dumps(config))
    with pytest.raises((ValueError, RuntimeError), match="do not match|size mismatch"):
        TTS.from_pretrained(tmp_path / "copy")


def test_sizes_and_overrides(tmp_path):
    assert SIZES == ("tiny", "embedded", "full")
    assert tts_config("tiny").mel["n_mels"] == 40 and tts_config("full").mel["n_mels"] == 100
    path = tmp_path / "exp.yaml"
    path.write_text("size: tiny\ndecoder_depth: 2\n")
    cfg = tts_config(str(path))
    assert (cfg.size, cfg.decoder_depth, cfg.dim) == ("tiny", 2, 32)
    with pytest.raises(KeyError, match="unknown TTSConfig setting"):
        tts_config({"size": "tiny", "depth": 3})
    with pytest.raises(ValueError, match="unknown TTS size"):
        tts_config("huge")
