"""Predicted MOS: DNSMOS (offline default, weights in the ``speechmos`` wheel), UTMOS and SQUIM.

    from fleursr.quality.mos import build_mos
    mos = build_mos("dnsmos")                      # or DNSMOS(personalized=False, num_threads=1)
    mos.predict([wave_a, wave_b], sr=16000)        # [{"dnsmos_sig": ..., "dnsmos_ovrl": ...}, ...]

Backends import their heavy dependencies (onnxruntime, librosa, torch, torchaudio) only when a
predictor is built, so importing this package is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleursr.quality.mos.base import MOSBackendUnavailable, MOSPredictor
from fleursr.quality.mos.dnsmos import DNSMOS
from fleursr.quality.mos.optional import SQUIM, UTMOS


def _dnsmos_fast(**kw: Any) -> DNSMOS:
    """DNSMOS with one window per short clip (about 4x faster on CPU; within 0.3 of the
    reference windowing, tests/quality/test_mos.py)."""
    return DNSMOS(**{"exact_reference": False, **kw})


BACKENDS: dict[str, Callable[..., MOSPredictor]] = {
    "dnsmos": DNSMOS, "dnsmos-fast": _dnsmos_fast, "utmos": UTMOS, "squim": SQUIM,
}  # fmt: skip


def build_mos(name: str, **kw: Any) -> MOSPredictor:
    """Build the predictor called ``name`` ("dnsmos" | "dnsmos-fast" | "utmos" | "squim");
    ``kw`` go to it.

    Raises ``ValueError`` for an unknown name and :class:`MOSBackendUnavailable` where the
    backend's package or weights cannot be had here.
    """
    key = name.strip().lower()
    if key not in BACKENDS:
        raise ValueError(f"unknown MOS predictor {name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[key](**kw)


__all__ = ["BACKENDS", "DNSMOS", "SQUIM", "UTMOS", "MOSBackendUnavailable", "MOSPredictor",
           "build_mos"]  # fmt: skip
