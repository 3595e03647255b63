"""Composition of degradations: chain configuration, presets and the ``degrade`` entry point.

A draw leaves an utterance clean with probability ``clean_share``; otherwise it picks 1..3
distinct kinds (weighted, without replacement) and applies them in the realistic order of
``KIND_ORDER`` whatever order they were drawn in. After each step a wave whose peak exceeds
full scale is scaled down to peak 1.0 (reported as ``peak_scale`` in that step's params).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fleursr.corpus.config import UnknownSettingError
from fleursr.degrade.codec import CodecConfig, apply_codec, available_codecs
from fleursr.degrade.filters import (
    BandLimitConfig,
    ClippingConfig,
    GainConfig,
    PacketLossConfig,
    apply_band_limit,
    apply_clipping,
    apply_gain,
    apply_packet_loss,
    complete_weights,
)
from fleursr.degrade.noise import NoiseConfig, apply_noise, available_noise_kinds
from fleursr.degrade.reverb import ReverbConfig, apply_reverb

KIND_ORDER = ("reverb", "noise", "band_limit", "codec", "packet_loss", "clipping", "gain")
APPLY: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "reverb": apply_reverb,
    "noise": apply_noise,
    "band_limit": apply_band_limit,
    "codec": apply_codec,
    "packet_loss": apply_packet_loss,
    "clipping": apply_clipping,
    "gain": apply_gain,
}


@dataclass(frozen=True)
class ChainConfig:
    """Chain settings. ``weights``: relative chance of each kind of KIND_ORDER (0 or missing
    disables). ``count_probs``: probabilities of combining 1, 2, 3... kinds (0.5/0.35/0.15).
    ``clean_share``: share of utterances left untouched, default 0.1 (FIELD_NOTES: 5..20%).
    The remaining fields are the per-kind configs, each documenting its own ranges."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "reverb": 2.0,
            "noise": 3.0,
            "band_limit": 1.5,
            "codec": 1.5,
            "packet_loss": 0.5,
            "clipping": 1.0,
            "gain": 1.0,
        }
    )
    count_probs: tuple[float, ...] = (0.5, 0.35, 0.15)
    clean_share: float = 0.1
    reverb: ReverbConfig = field(default_factory=ReverbConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    band_limit: BandLimitConfig = field(default_factory=BandLimitConfig)
    codec: CodecConfig = field(default_factory=CodecConfig)
    packet_loss: PacketLossConfig = field(default_factory=PacketLossConfig)
    clipping: ClippingConfig = field(default_factory=ClippingConfig)
    gain: GainConfig = field(default_factory=GainConfig)

    def __post_init__(self) -> None:
        complete_weights(self, "weights", KIND_ORDER)
        if not self.count_probs or min(self.count_probs) < 0 or sum(self.count_probs) <= 0:
            raise ValueError(f"count_probs {self.count_probs} must be >= 0 with a positive sum")
        if not 0.0 <= self.clean_share <= 1.0:
            raise ValueError(f"clean_share {self.clean_share} outside [0, 1]")

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any]) -> ChainConfig:
        """Config from a YAML-style dict: optional ``"preset"`` name (default "default"), then
        field overrides; nested per-kind dicts and weight dicts are merged key by key, lists
        become tuples. Unknown keys raise ``UnknownSettingError`` (a ``KeyError``) naming the
        key."""
        rest = dict(overrides)
        base = resolve_config(rest.pop("preset", "default"))
        return _override(base, rest)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists instead of tuples) that ``from_dict`` turns back into this config."""
        return _plain(dataclasses.asdict(self))


def _override(obj: Any, overrides: Mapping[str, Any]) -> Any:
    if not isinstance(overrides, Mapping):
        raise TypeError(f"{type(obj).__name__} overrides must be a mapping, got {overrides!r}")
    known = {f.name for f in dataclasses.fields(obj)}
    changes = {}
    for key, value in overrides.items():
        if key not in known:
            name = type(obj).__name__
            raise UnknownSettingError(f"unknown {name} setting {key!r}; known: {sorted(known)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            value = _override(current, value)
        elif isinstance(current, dict):
            value = {**current, **value}
        elif isinstance(current, tuple):
            value = tuple(value)
        changes[key] = value
    return dataclasses.replace(obj, **changes)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


PRESETS: dict[str, ChainConfig] = {
    "default": ChainConfig(),
    "light": ChainConfig(
        weights={
            "reverb": 2.0,
            "noise": 3.0,
            "band_limit": 1.0,
            "codec": 1.0,
            "clipping": 0.5,
            "gain": 1.0,
        },
        count_probs=(1.0,),
        reverb=ReverbConfig(rt60=(0.2, 0.4)),
        noise=NoiseConfig(snr_db=(20.0, 30.0)),
        band_limit=BandLimitConfig(cutoff_hz=(5000.0, 7000.0), resample_rates=(16000, 22050)),
        codec=CodecConfig(
            weights={"mp3": 1.0, "opus": 1.0, "vorbis": 0.5},
            mp3_kbps=(64.0, 128.0),
            opus_kbps=(20.0, 32.0),
            vorbis_quality=(4, 8),
        ),
        clipping=ClippingConfig(quantile=(0.97, 0.995)),
        gain=GainConfig(gain_db=(-12.0, 0.0)),
    ),
    "heavy": ChainConfig(
        count_probs=(0.0, 0.6, 0.4),
        clean_share=0.05,
        reverb=ReverbConfig(rt60=(0.5, 1.0)),
        noise=NoiseConfig(snr_db=(-5.0, 10.0)),
        band_limit=BandLimitConfig(cutoff_hz=(2000.0, 4000.0), resample_rates=(8000, 11025)),
        codec=CodecConfig(
            mp3_kbps=(16.0, 32.0),
            opus_kbps=(6.0, 12.0),
            vorbis_quality=(1, 2),
            amr_wb_kbps=(6.6, 12.65),
            amr_nb_kbps=(4.75, 7.4),
        ),
        packet_loss=PacketLossConfig(loss_rate=(0.1, 0.25)),
        clipping=ClippingConfig(quantile=(0.85, 0.93)),
    ),
    "noise": ChainConfig(weights={"noise": 1.0}, count_probs=(1.0,)),
    "telephone": ChainConfig(
        weights={"band_limit": 1.0, "codec": 2.0, "packet_loss": 0.5},
        count_probs=(0.2, 0.4, 0.4),
        band_limit=BandLimitConfig(
            methods={"resample": 1.0, "lowpass": 0.0},
            cutoff_hz=(3400.0, 3800.0),
            resample_rates=(8000,),
        ),
        codec=CodecConfig(weights={"alaw": 1.0, "amr_wb": 1.0, "amr_nb": 1.0}),
        packet_loss=PacketLossConfig(loss_rate=(0.02, 0.15)),
    ),
}


def resolve_config(config: ChainConfig | str | Mapping[str, Any]) -> ChainConfig:
    """A ChainConfig from a config, a preset name or a ``from_dict`` style mapping."""
    if isinstance(config, ChainConfig):
        return config
    if isinstance(config, str):
        if config not in PRESETS:
            raise KeyError(f"unknown preset {config!r}; known: {sorted(PRESETS)}")
        return PRESETS[config]
    return ChainConfig.from_dict(config)


def utterance_seed(base_seed: int, utterance_id: str) -> int:
    """Stable seed in [0, 2**63) for one utterance: SHA-256 of ``"{base_seed}:{utterance_id}"``,
    independent of processing order and of Python's hash randomisation."""
    digest = hashlib.sha256(f"{int(base_seed)}:{utterance_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def eligible_kinds(
    config: ChainConfig, babble_pool: Sequence[np.ndarray] | None = None
) -> list[str]:
    """Kinds with positive weight that can run: noise needs a generable noise kind, codec an
    available codec with positive weight."""
    usable = []
    for kind in KIND_ORDER:
        if config.weights.get(kind, 0.0) <= 0:
            continue
        if kind == "noise" and not available_noise_kinds(config.noise, babble_pool):
            continue
        if kind == "codec" and not any(
            config.codec.weights.get(c, 0.0) > 0 for c in available_codecs()
        ):
            continue
        usable.append(kind)
    return usable


def draw_kinds(rng: np.random.Generator, config: ChainConfig, eligible: Sequence[str]) -> list[str]:
    """Draw how many kinds to combine, then which (weighted, distinct); in KIND_ORDER."""
    if not eligible:
        return []
    probs = np.asarray(config.count_probs, dtype=np.float64)
    count = min(int(rng.choice(probs.size, p=probs / probs.sum())) + 1, len(eligible))
    weights = np.array([config.weights[k] for k in eligible], dtype=np.float64)
    picked = rng.choice(len(eligible), size=count, replace=False, p=weights / weights.sum())
    return [k for k in KIND_ORDER if k in {eligible[int(i)] for i in picked}]


def degrade(
    wave: np.ndarray,
    sr: int,
    seed_or_rng: int | np.random.Generator,
    config: ChainConfig | str | Mapping[str, Any] = "default",
    babble_pool: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Degrade a mono wave (n,) at ``sr`` Hz; returns (float32 wave (n,) in [-1, 1], applied).

    ``applied`` lists ``{"name": kind, "params": {...}}`` in application order (empty for a
    clean pass, which returns the input clipped to [-1, 1]). The same seed, input and config
    give bit-identical output. ``babble_pool``: other utterances at ``sr`` for babble noise.
    """
    cfg = resolve_config(config)
    rng = seed_or_rng
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"expected a finite mono wave of shape (n,), got shape {x.shape}")
    if rng.random() < cfg.clean_share or x.size == 0:
        return np.clip(x, -1.0, 1.0), []
    y = x.astype(np.float64)
    applied = []
    for kind in draw_kinds(rng, cfg, eligible_kinds(cfg, babble_pool)):
        y, params = APPLY[kind](y, sr, rng, getattr(cfg, kind), babble_pool=babble_pool)
        peak = float(np.max(np.abs(y)))
        if peak > 1.0:
            y, params = y / peak, {**params, "peak_scale": 1.0 / peak}
        applied.append({"name": kind, "params": params})
    return np.clip(y, -1.0, 1.0).astype(np.float32), applied
