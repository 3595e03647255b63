import importlib.util
import pickle

import numpy as np
import pytest

from fleursr.corpus.testing import speech_like
from fleursr.quality.mos import DNSMOS, SQUIM, UTMOS, MOSBackendUnavailable, build_mos


def with_noise(wave, snr_db, seed=0):
    noise = np.random.default_rng(seed).standard_normal(wave.size).astype(np.float32)
    scale = np.sqrt(np.mean(wave**2) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return (wave + scale * noise).astype(np.float32)


@pytest.fixture(scope="module")
def dnsmos():
    return DNSMOS()


def test_dnsmos_ranks_clean_above_noisy_at_5_db(dnsmos):
    clean = [speech_like(3.0, f0=f0, seed=s) for s, f0 in enumerate((110.0, 180.0, 240.0))]
    noisy = [with_noise(w, 5.0, seed=i) for i, w in enumerate(clean)]
    scores = dnsmos.predict(clean + noisy, sr=16000, batch_size=4)
    assert len(scores) == 6
    assert set(scores[0]) == {"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"}
    assert all(1.0 <= v <= 5.0 for s in scores for v in s.values())
    for c, n in zip(scores[:3], scores[3:]):
        assert c["dnsmos_ovrl"] > n["dnsmos_ovrl"]
        assert c["dnsmos_bak"] > n["dnsmos_bak"] + 0.5


def test_dnsmos_is_batch_and_rate_invariant():
    dnsmos = DNSMOS(exact_reference=False)  # one window per short clip: cheaper, same invariants
    a, b = speech_like(2.0, seed=3), with_noise(speech_like(11.0, seed=4), 10.0)
    together = dnsmos.predict([a, b], sr=16000, batch_size=3)
    alone = [dnsmos.predict([w], sr=16000, batch_size=1)[0] for w in (a, b)]
    for x, y in zip(together, alone):
        assert x == pytest.approx(y, abs=1e-4)
    # 48 kHz input of the same audio is resampled to 16 kHz first: close scores
    import soxr

    up = soxr.resample(a, 16000, 48000).astype(np.float32)
    at48 = dnsmos.predict([up], sr=48000)[0]
    assert at48["dnsmos_ovrl"] == pytest.approx(alone[0]["dnsmos_ovrl"], abs=0.1)


def test_dnsmos_fast_windowing_stays_close_to_the_reference(dnsmos):
    fast = DNSMOS(exact_reference=False)
    wave = with_noise(speech_like(4.0, seed=5), 15.0)
    ref, quick = dnsmos.predict([wave], 16000)[0], fast.predict([wave], 16000)[0]
    assert quick["dnsmos_ovrl"] == pytest.approx(ref["dnsmos_ovrl"], abs=0.3)


def test_bad_waves_are_refused_with_their_index(dnsmos):
    good = speech_like(1.0)
    for bad, match in [
        (np.zeros(0, np.float32), "wave 1: empty"),
        (np.full(100, np.nan, np.float32), "wave 1: holds NaN"),
        (np.zeros((2, 100), np.float32), "wave 1: expected 1-D"),
        (np.zeros(100, np.int16), "wave 1: expected float"),
    ]:
        with pytest.raises(ValueError, match=match):
            dnsmos.predict([good, bad], 16000)
    with pytest.raises(ValueError, match="batch_size"):
        dnsmos.predict([good], 16000, batch_size=0)
    assert dnsmos.predict([], 16000) == []


def test_predictor_survives_pickling_for_dask_workers():
    dnsmos = DNSMOS(exact_reference=False)
    clone = pickle.loads(pickle.dumps(dnsmos))
    wave = speech_like(1.5, seed=7)
    assert clone.predict([wave], 16000) == dnsmos.predict([wave], 16000)


def test_dnsmos_threads_follow_torch_unless_given():
    import torch

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # what a one-thread dask worker sets before loading models
        one = DNSMOS(exact_reference=False)
        torch.set_num_threads(2)  # a plain process on two cores
        two, given = DNSMOS(exact_reference=False), DNSMOS(num_threads=3)
    finally:
        torch.set_num_threads(threads)
    for mos, expected in ((one, 1), (two, 2), (given, 3)):
        assert mos.num_threads == expected
        for session in (mos.primary_session, mos.p808_session):
            assert session.get_session_options().intra_op_num_threads == expected


def test_build_mos_by_name_and_unknown_names():
    assert isinstance(build_mos(" DNSMOS ", num_threads=1), DNSMOS)
    assert build_mos("dnsmos", personalized=True).names[0] == "pdnsmos_sig"
    with pytest.raises(ValueError, match="unknown MOS predictor 'nisqa'"):
        build_mos("nisqa")


@pytest.mark.skipif(importlib.util.find_spec("torchaudio") is not None,
                    reason="torchaudio is installed here")  # fmt: skip
@pytest.mark.parametrize("backend", [UTMOS, SQUIM])
def test_optional_backends_say_what_is_missing(backend):
    with pytest.raises(
        MOSBackendUnavailable, match=r"torchaudio.*pip install fleursr\[torchaudio\]"
    ):
        backend()
    err = MOSBackendUnavailable("X", "no network", "pip install x", "note")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
