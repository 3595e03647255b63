"""WaveFit's opt-in variants at the tiny size: the degraded start, the STFT-domain network and
the band-limited spectral loss."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fleursr.corpus.audio import resample
from fleursr.corpus.testing import speech_like
from fleursr.nn.spectral import MelSpectrogram
from fleursr.restore.discriminators import generator_loss, multi_resolution_stft_loss
from fleursr.restore.wavefit import WaveFit, WaveFitConfig
from fleursr.restore.wavefit_stft import absent_bins, mel_bound

SR = 24000
STFT_NET = dict(network="stft", stft_dim=32, stft_blocks=2, stft_mult=2)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def mel() -> MelSpectrogram:
    return MelSpectrogram()


@pytest.fixture(scope="module")
def clean() -> torch.Tensor:
    return torch.from_numpy(speech_like(1.0, SR, seed=2))[None]


def pad_to(wave: torch.Tensor, frames: int) -> torch.Tensor:
    return torch.nn.functional.pad(wave, (0, frames * 256 - wave.shape[1]))


def distance(mel: MelSpectrogram, wave: torch.Tensor, cond: torch.Tensor) -> float:
    """Mean absolute log-mel difference of ``wave`` to the conditioning ``cond``."""
    return float((mel(wave)[..., : cond.shape[1]] - cond.transpose(1, 2)).abs().mean())


def high_share(wave: torch.Tensor, hz: float = 8000.0) -> float:
    spec = torch.stft(wave, 1024, 256, window=torch.hann_window(1024), return_complex=True)
    power = spec.abs().pow(2)
    return float(power[:, int(hz / SR * 1024) + 1 :].sum() / power.sum())


def start_of(vocoder: WaveFit, cond, reference=None, seed=1, mask=None) -> torch.Tensor:
    with torch.no_grad():
        y = vocoder.initial_noise(cond, seeded(seed), reference, mask)
        return vocoder.gain_adjust(y, cond, mask)


def test_degraded_start_is_much_closer_to_the_clean_speech_than_griffin_lim(mel, clean):
    cond = mel(clean).transpose(1, 2)
    degraded = WaveFit(WaveFitConfig.tiny(start="degraded")).eval()
    griffin_lim = WaveFit(WaveFitConfig.tiny()).eval()
    gl = distance(mel, start_of(griffin_lim, cond), cond)
    quiet = distance(mel, start_of(degraded, cond, 0.2 * clean), cond)  # input at another gain
    assert quiet < 0.1 * gl, (quiet, gl)
    band_limited = torch.from_numpy(resample(resample(clean[0].numpy(), SR, 16000), 16000, SR))
    bl = distance(mel, start_of(degraded, cond, band_limited[None]), cond)
    as_is = distance(mel, degraded.gain_adjust(pad_to(band_limited[None], cond.shape[1]), cond),
                     cond)  # fmt: skip
    assert bl < 0.8 * gl and bl < 0.5 * as_is, (bl, gl, as_is)


def test_degraded_start_adds_nothing_where_nothing_is_missing(mel, clean):
    """The mel says silence over the second half, where the reference is loud: there the start
    is the gain-matched reference exactly, whatever the seed; over the first half the gain
    (matched to a mel with half the power) leaves the reference short and noise fills in."""
    cond = mel(clean).transpose(1, 2).clone()
    half = cond.shape[1] // 2
    cond[:, half:] = -30.0
    vocoder = WaveFit(WaveFitConfig.tiny(start="degraded")).eval()
    reference = pad_to(clean, cond.shape[1])
    matched = vocoder.gain_adjust(reference, cond)
    a, b = (vocoder.initial_noise(cond, seeded(s), clean) for s in (1, 2))
    later = slice((half + 4) * 256, None)
    scale = float(matched.abs().max())
    torch.testing.assert_close(a[:, later], matched[:, later], rtol=0, atol=1e-5 * scale)
    torch.testing.assert_close(a[:, later], b[:, later], rtol=0, atol=1e-5 * scale)
    assert (a[:, : half * 256] - b[:, : half * 256]).abs().max() > 0.01 * scale


def test_degraded_start_fills_a_band_the_reference_lacks(mel, clean):
    cond = mel(clean).transpose(1, 2)  # the clean mel: energy above 8 kHz
    band_limited = torch.from_numpy(resample(resample(clean[0].numpy(), SR, 16000), 16000, SR))
    vocoder = WaveFit(WaveFitConfig.tiny(start="degraded")).eval()
    start = start_of(vocoder, cond, band_limited[None])
    reference = vocoder.gain_adjust(pad_to(band_limited[None], cond.shape[1]), cond)
    assert high_share(clean) > 1e-5
    assert high_share(start) > 1000 * high_share(reference)
    assert high_share(start) > 0.05 * high_share(clean)


def noisy_copy(clean: torch.Tensor, scale: float = 0.56) -> torch.Tensor:
    """``clean`` plus white noise, ~5 dB SNR at the default scale."""
    noise = torch.randn(clean.shape, generator=seeded(7))
    return clean + noise * clean.pow(2).mean().sqrt() / noise.pow(2).mean().sqrt() * scale


def test_absent_fill_extends_the_band_and_leaves_a_gap_alone(mel, clean):
    """A 16 kHz recording with a 0.2 s dropout, the clean mel as conditioning: ``fill="all"``
    puts noise in the dropout and above 8 kHz; ``fill="absent"`` only above 8 kHz, the band the
    recording never had (``absent_bins``), and leaves the dropout to the steps."""
    band_limited = torch.from_numpy(resample(resample(clean[0].numpy(), SR, 16000), 16000, SR))
    gapped = band_limited[None].clone()
    gap = slice(int(0.4 * SR), int(0.6 * SR))
    gapped[:, gap] = 0.0
    spec = torch.stft(gapped, 1024, 256, window=torch.hann_window(1024), return_complex=True)
    absent = absent_bins(spec)[0, :, 0]
    hz = torch.arange(absent.shape[0]) * SR / 1024
    assert absent[hz >= 8500].all() and not absent[hz <= 7500].any()
    cond = mel(clean).transpose(1, 2)
    starts = {}
    for fill in ("all", "absent"):
        vocoder = WaveFit(WaveFitConfig.tiny(start="degraded", fill=fill)).eval()
        starts[fill] = start_of(vocoder, cond, gapped)
    inner = slice(gap.start + 1024, gap.stop - 1024)
    said = float(clean[:, inner].pow(2).mean())  # what the mel says is there
    assert float(starts["all"][:, inner].pow(2).mean()) > 0.05 * said
    assert float(starts["absent"][:, inner].pow(2).mean()) < 1e-3 * said
    assert high_share(starts["absent"]) > 0.05 * high_share(clean)


def test_masked_start_removes_noise_the_mel_does_not_have(mel, clean):
    """Clean speech plus white noise at ~5 dB SNR as the recording, the clean mel as the
    conditioning: the masked start is far nearer the clean speech than the degraded start (which
    only matches the gain), and on the clean recording itself it changes next to nothing."""
    cond = mel(clean).transpose(1, 2)
    noisy = noisy_copy(clean)
    masked = WaveFit(WaveFitConfig.tiny(start="masked")).eval()
    degraded = WaveFit(WaveFitConfig.tiny(start="degraded")).eval()
    assert masked.uses_reference
    m, d = (distance(mel, start_of(v, cond, noisy), cond) for v in (masked, degraded))
    assert m < 0.5 * d, (m, d)
    on_clean = distance(mel, start_of(masked, cond, clean), cond)
    assert on_clean < 0.05, on_clean


def test_mel_bound_removes_what_the_mel_lacks_and_keeps_what_it_has(mel, clean):
    """The final mask on a noisy wave, the clean mel as the bound: most of the way to the clean
    mel; on the clean wave itself (its own mel) next to nothing changes; padded frames stay
    silent."""
    cond = mel(clean).transpose(1, 2)
    vocoder = WaveFit(WaveFitConfig.tiny(start="masked", final_mask=1.0)).eval()
    noisy = vocoder.gain_adjust(pad_to(noisy_copy(clean), cond.shape[1]), cond)
    bounded = mel_bound(vocoder, cond, noisy, None, 1.0)
    before, after = distance(mel, noisy, cond), distance(mel, bounded, cond)
    assert after < 0.5 * before, (after, before)
    stronger = distance(mel, mel_bound(vocoder, cond, noisy, None, 2.0), cond)
    assert stronger != after
    own = pad_to(clean, cond.shape[1])
    kept = mel_bound(vocoder, cond, own, None, 1.0)
    assert float((kept - own).pow(2).sum() / own.pow(2).sum()) < 0.01
    mask = torch.ones(1, cond.shape[1], dtype=torch.bool)
    mask[:, cond.shape[1] // 2 :] = False
    with torch.no_grad():
        out = vocoder(cond, mask=mask, generator=seeded(1), reference=noisy_copy(clean))
    assert float(out[:, (cond.shape[1] // 2) * 256 :].abs().max()) == 0.0


def test_final_mask_applies_only_when_restoring_a_recording(mel, clean):
    """``final_mask`` changes an eval-mode restoration (a reference given) and lowers its
    distance to the clean mel; without a reference (TTS) or while training the output is that of
    ``final_mask=0`` exactly."""
    cond = mel(clean).transpose(1, 2)
    noisy = noisy_copy(clean)
    torch.manual_seed(0)
    plain = WaveFit(WaveFitConfig.tiny(start="masked", steps=2, **STFT_NET))
    bounded = WaveFit(WaveFitConfig.tiny(start="masked", steps=2, final_mask=1.0, **STFT_NET))
    torch.nn.init.normal_(plain.generator.out.weight, std=0.02)  # a network that changes things
    bounded.load_state_dict(plain.state_dict())

    def run(vocoder, train, **kw):
        vocoder.train(train)
        with torch.no_grad():
            return vocoder(cond, generator=seeded(3), **kw)

    a, b = run(plain, False, reference=noisy), run(bounded, False, reference=noisy)
    assert distance(mel, b, cond) < distance(mel, a, cond) - 0.05
    for train, kw in ((False, {}), (True, {"reference": noisy})):
        torch.testing.assert_close(run(plain, train, **kw), run(bounded, train, **kw),
                                   rtol=0, atol=0)  # fmt: skip


def test_degraded_start_falls_back_without_a_reference(mel, clean):
    cond = mel(clean[:, :8000]).transpose(1, 2)
    for fallback, start in (("griffin-lim", "degraded"), ("noise", "masked")):
        torch.manual_seed(0)
        plain = WaveFit(WaveFitConfig.tiny(start=fallback)).eval()
        torch.manual_seed(0)
        degraded = WaveFit(WaveFitConfig.tiny(start=start, start_fallback=fallback)).eval()
        assert degraded.uses_reference and not plain.uses_reference
        plain.generator.out.reset_parameters()
        degraded.load_state_dict(plain.state_dict())
        with torch.no_grad():
            a = plain(cond, generator=seeded(3))
            b = degraded(cond, generator=seeded(3))  # no reference: the TTS case
            c = plain(cond, generator=seeded(3), reference=clean)  # ignored by other starts
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_new_options_are_validated_and_round_trip():
    for bad, match in (
        (dict(start="zeros"), "start"),
        (dict(start_fallback="degraded"), "start_fallback"),
        (dict(network="conv"), "network"),
        (dict(stft_kernel=4), "stft_kernel"),
        (dict(stft_blocks=0), "stft_"),
        (dict(stft_n_fft=300), "stft_n_fft"),
        (dict(final_mask=-1.0), "final_mask"),
        (dict(fill="some"), "fill"),
        (dict(final_mask=1.0, gain="peak"), "final_mask"),
    ):
        with pytest.raises(ValueError, match=match):
            WaveFitConfig.tiny(**bad)
    config = WaveFitConfig.tiny(start="degraded", **STFT_NET)
    assert config.stft_n_fft == 4 * config.hop_length
    assert WaveFitConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    old = WaveFitConfig.tiny()
    assert (old.start, old.network) == ("griffin-lim", "wave")  # defaults unchanged


def test_untrained_stft_wavefit_returns_its_gain_adjusted_start(mel, clean):
    """Zero-initialized ``out``: mask 0, ``Y_hat = Y``, so every step returns the start."""
    cond = mel(clean[:, :12000]).transpose(1, 2)
    frames = cond.shape[1]
    for start, reference in (("griffin-lim", None), ("degraded", clean[:, :12000] + 0.01)):
        torch.manual_seed(0)
        vocoder = WaveFit(WaveFitConfig.tiny(start=start, steps=3, **STFT_NET)).eval()
        with torch.no_grad():
            outputs = vocoder(cond, return_all=True, generator=seeded(5), reference=reference)
            again = vocoder(cond, generator=seeded(5), reference=reference)
            other = vocoder(cond, generator=seeded(6), reference=reference)
        expected = start_of(vocoder, cond, reference, seed=5)
        assert len(outputs) == 3 and all(o.shape == (1, frames * 256) for o in outputs)
        for out in outputs:
            torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(again, outputs[-1], rtol=0, atol=0)
        assert not torch.allclose(again, other)


def test_stft_network_sizes_and_learns(mel, clean):
    counts = {}
    for size in ("tiny", "embedded"):
        model = WaveFit(getattr(WaveFitConfig, size)(network="stft"))
        counts[size] = sum(p.numel() for p in model.parameters())
    assert 2_000_000 < counts["embedded"] < 5_000_000, counts
    torch.manual_seed(0)
    vocoder = WaveFit(WaveFitConfig.tiny(steps=2, start="degraded", **STFT_NET))
    vocoder.generator.out.reset_parameters()  # from a random mask, not the zero one
    target = clean[:, :9000]
    cond = mel(target).transpose(1, 2)
    noisy = target + 0.05 * torch.randn(target.shape, generator=seeded())
    optimizer = torch.optim.Adam(vocoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        outputs = vocoder(cond, return_all=True, generator=seeded(), reference=noisy)
        total, _ = generator_loss(vocoder, None, cond, None, target, outputs)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        losses.append(total.item())
    assert vocoder.generator.out.weight.grad.abs().sum() > 0
    assert sum(losses[-3:]) < 0.8 * sum(losses[:3]), losses


def tone(hz: float, seconds: float = 0.3, amp: float = 0.1) -> torch.Tensor:
    return amp * torch.sin(2 * np.pi * hz * torch.arange(int(seconds * SR)) / SR)


def test_band_limited_loss_ignores_only_what_lies_above_the_cutoff(clean):
    target = clean[:, :7200].repeat(2, 1)
    pred = target + 0.02 * torch.randn(target.shape, generator=seeded())
    above, below = pred + tone(11000.0)[None], pred + tone(3000.0)[None]
    eight = torch.tensor([8000.0, 8000.0])

    def loss(p, cutoff=None):
        return [float(x) for x in multi_resolution_stft_loss(p, target, cutoff_hz=cutoff)]

    assert loss(pred, torch.tensor([12000.0, 12000.0])) == pytest.approx(loss(pred), rel=1e-5)
    assert loss(above, eight) == pytest.approx(loss(pred, eight), rel=1e-4)

    def changed(a, b):  # both terms, by margins far above float noise
        return a[0] > b[0] + 0.1 and a[1] > b[1] + 0.02

    assert changed(loss(above), loss(pred))  # without a cutoff the high tone counts
    assert changed(loss(below, eight), loss(pred, eight))  # a change below it always counts
    mixed = torch.tensor([8000.0, 12000.0])  # per item: only the full-band row sees the tone
    assert changed(loss(above, mixed), loss(pred, mixed))
    # identical outputs above the cutoff: the loss of a pair differing only up there is zero
    high = (tone(10000.0) * torch.hann_window(target.shape[1]))[None].repeat(2, 1)  # no clicks
    sc, log_mag = loss(target + high, eight)
    full_sc, full_log_mag = loss(target + high)
    assert sc < 1e-3 and log_mag < 0.01  # what is left: the window's leakage below 8 kHz
    assert full_sc > 100 * sc and full_log_mag > 10 * log_mag
