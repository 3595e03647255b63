"""Lossy codec round trips through PyAV, entirely in memory.

A wave (n,) at rate ``sr`` is resampled (soxr) to a rate the encoder accepts, encoded into
its container in an ``io.BytesIO``, decoded, resampled back to ``sr``, aligned against the
input by cross-correlation within +-``max_lag_s`` (removes encoder priming and padding) and
trimmed or zero-padded to n samples.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import soxr
from scipy.signal import correlate

from fleursr.degrade.filters import complete_weights, draw, fit_length, weighted_choice


class CodecUnavailableError(RuntimeError):
    """The requested codec has no working encoder in this PyAV build."""


@dataclass(frozen=True)
class CodecSpec:
    """How to run one codec: encoder name, container, accepted rates (None: any), channel
    layout, encoder options, bit rates (bps) it offers and the one used when none is given."""

    encoder: str
    container: str
    rates: tuple[int, ...] | None
    layout: str = "mono"
    options: tuple[tuple[str, str], ...] = ()
    bitrates: tuple[int, ...] = ()
    default_bitrate: int | None = None


_MP3_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
CODECS: dict[str, CodecSpec] = {
    "mp3": CodecSpec(
        "libmp3lame",
        "mp3",
        (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
        bitrates=tuple(k * 1000 for k in _MP3_KBPS),
        default_bitrate=64000,
    ),
    "opus": CodecSpec("libopus", "ogg", (8000, 12000, 16000, 24000, 48000), default_bitrate=24000),
    # the native Vorbis encoder is experimental and encodes stereo only
    "vorbis": CodecSpec("vorbis", "ogg", None, layout="stereo", options=(("strict", "-2"),)),
    "alaw": CodecSpec("pcm_alaw", "wav", (8000,)),
    "amr_wb": CodecSpec(
        "libvo_amrwbenc",
        "amr",
        (16000,),
        default_bitrate=23850,
        bitrates=(6600, 8850, 12650, 14250, 15850, 18250, 19850, 23050, 23850),
    ),
    "amr_nb": CodecSpec(
        "libopencore_amrnb",
        "amr",
        (8000,),
        default_bitrate=12200,
        bitrates=(4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200),
    ),
}


def _spec(codec: str) -> CodecSpec:
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; expected one of {sorted(CODECS)}")
    return CODECS[codec]


def codec_rate(codec: str, sr: int) -> int:
    """Encoder rate for input rate ``sr``: the lowest accepted rate >= sr, else the highest."""
    rates = _spec(codec).rates
    if rates is None:
        return sr
    above = [r for r in rates if r >= sr]
    return min(above) if above else max(rates)


def _encode(
    wave: np.ndarray, rate: int, spec: CodecSpec, bitrate: int | None, quality: int | None
) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=spec.container) as container:
        stream = container.add_stream(spec.encoder, rate=rate, layout=spec.layout)
        context = stream.codec_context
        context.options = dict(spec.options)
        if bitrate is not None:
            stream.bit_rate = int(bitrate)
        if quality is not None:  # Vorbis: global_quality 1 (coarse) .. 8 (encoder default)
            context.qscale = True
            context.global_quality = int(quality)
        channels = 2 if spec.layout == "stereo" else 1
        planes = np.repeat(np.clip(wave, -1.0, 1.0).astype(np.float32)[None, :], channels, 0)
        frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=spec.layout)
        frame.sample_rate, frame.pts = rate, 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to a mono float64 wave (channels averaged) and its rate."""
    chunks, rate = [], 0
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        converter = av.AudioResampler(format="fltp")
        for frame in container.decode(stream):
            for planar in converter.resample(frame):
                chunks.append(planar.to_ndarray().astype(np.float64).mean(axis=0))
                rate = planar.sample_rate
    return (np.concatenate(chunks) if chunks else np.zeros(0)), rate or stream.codec_context.rate


def codec_roundtrip(
    wave: np.ndarray, sr: int, codec: str, bitrate: int | None = None, quality: int | None = None
) -> np.ndarray:
    """Encode and decode ``wave`` (n,); returns the raw decoded wave at ``sr`` (length ~ n,
    neither aligned nor trimmed). Raises CodecUnavailableError if the encoder is missing."""
    spec = _spec(codec)
    if codec not in available_codecs():
        raise CodecUnavailableError(
            f"codec {codec!r} is not available: PyAV has no working {spec.encoder!r} encoder"
        )
    rate = codec_rate(codec, sr)
    x = np.asarray(wave, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    x = soxr.resample(x, sr, rate) if rate != sr else x
    bitrate = spec.default_bitrate if bitrate is None else bitrate
    decoded, decoded_rate = _decode(_encode(x, rate, spec, bitrate, quality))
    return soxr.resample(decoded, decoded_rate, sr) if decoded_rate != sr else decoded


def find_delay(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """Lag L in [-max_lag, max_lag] maximising sum(decoded[t + L] * reference[t])."""
    if not reference.size or not decoded.size or not np.any(reference):
        return 0
    corr = correlate(decoded, reference, mode="full", method="fft")
    zero = reference.size - 1
    low, high = max(zero - max_lag, 0), min(zero + max_lag, corr.size - 1)
    return int(np.argmax(corr[low : high + 1])) + low - zero


def transcode(
    wave: np.ndarray,
    sr: int,
    codec: str,
    bitrate: int | None = None,
    quality: int | None = None,
    max_lag_s: float = 0.1,
) -> tuple[np.ndarray, int]:
    """Codec round trip aligned to the input: returns (wave (n,), removed delay in samples)."""
    x = np.asarray(wave, dtype=np.float64)
    decoded = codec_roundtrip(x, sr, codec, bitrate, quality)
    delay = find_delay(x, decoded, int(round(max_lag_s * sr)))
    shifted = decoded[delay:] if delay >= 0 else np.concatenate([np.zeros(-delay), decoded])
    return fit_length(shifted, x.size), delay


@functools.cache
def available_codecs() -> tuple[str, ...]:
    """Names of CODECS whose encoder works here (probed once with a short round trip)."""
    working = []
    for name, spec in CODECS.items():
        rate = spec.rates[0] if spec.rates else 16000
        try:
            _decode(_encode(np.zeros(rate // 10), rate, spec, spec.default_bitrate, None))
        except (av.FFmpegError, OSError, ValueError, KeyError, IndexError):
            continue
        working.append(name)
    return tuple(working)


@dataclass(frozen=True)
class CodecConfig:
    """Lossy codecs. ``weights`` per codec (unavailable ones are skipped). Ranges: ``mp3_kbps``
    16..128 (standard MP3 rates inside it), ``opus_kbps`` 6..32, ``vorbis_quality`` 1..4 (the
    native encoder's global_quality; 8 is its default), AMR-WB 6.6..23.85 kbps and AMR-NB
    4.75..12.2 kbps modes. A-law (8 kHz, G.711) has no parameter."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "mp3": 1.0,
            "opus": 1.0,
            "vorbis": 0.5,
            "alaw": 0.5,
            "amr_wb": 0.5,
            "amr_nb": 0.5,
        }
    )
    mp3_kbps: tuple[float, float] = (16.0, 128.0)
    opus_kbps: tuple[float, float] = (6.0, 32.0)
    vorbis_quality: tuple[int, int] = (1, 4)
    amr_wb_kbps: tuple[float, float] = (6.6, 23.85)
    amr_nb_kbps: tuple[float, float] = (4.75, 12.2)

    def __post_init__(self) -> None:
        complete_weights(self, "weights", tuple(CODECS))


def _draw_setting(rng: np.random.Generator, codec: str, cfg: CodecConfig) -> dict[str, int]:
    """Bit rate (bps) or quality for ``codec`` drawn from the ranges of ``cfg``."""
    if codec == "vorbis":
        low, high = cfg.vorbis_quality
        return {"quality": int(rng.integers(low, high + 1))}
    if codec == "alaw":
        return {}
    low, high = (1000.0 * float(b) for b in getattr(cfg, f"{codec}_kbps"))
    offered = [b for b in CODECS[codec].bitrates if low - 1 <= b <= high + 1]
    if offered:
        return {"bitrate": int(offered[int(rng.integers(len(offered)))])}
    return {"bitrate": int(round(draw(rng, (low, high))))}


def apply_codec(
    wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: CodecConfig, **ctx: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Round trip through an available codec drawn from ``cfg``; params: codec, bitrate or
    quality, codec_rate and the removed delay in samples."""
    codec = weighted_choice(rng, cfg.weights, available_codecs())
    setting = _draw_setting(rng, codec, cfg)
    out, delay = transcode(wave, sr, codec, **setting)
    return out, {"codec": codec, **setting, "codec_rate": codec_rate(codec, sr), "delay": delay}
