"""The models a batch job needs, loaded once per worker by a dask worker plugin.

A :class:`ModelSpec` names them (restorer, ASR, MOS predictor) as short strings, so it travels
to workers cheaply. :class:`ModelPlugin` loads them when a worker starts (or joins later) and
keeps them on the worker; tasks fetch them with :func:`worker_models`, so a model loads once
per worker, never once per task. Outside a worker (a plain in-process loop) the same call
loads them once per process.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

PLUGIN_PREFIX = "fleursr-models"


@dataclass(frozen=True)
class ModelSpec:
    restorer: str | None = None  # a load_restorer spec (embedded, DIR, hub id, a peer); None: none
    asr: str | None = None  # fleursr.quality.asr.load_asr spec; None or "none": no ASR
    mos: str | None = None  # fleursr.quality.mos.build_mos name; None or "none": no MOS
    device: str = "auto"

    @property
    def key(self) -> str:
        """A name that changes whenever the spec does (the plugin's name)."""
        text = json.dumps([self.restorer, self.asr, self.mos, self.device])
        return f"{PLUGIN_PREFIX}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


@dataclass
class Models:
    restorer: Any = None  # a fleursr.restore.base.SpeechRestorer
    asr: Any = None  # fleursr.quality.asr.ASR
    mos: Any = None  # fleursr.quality.mos.MOSPredictor


def _off(name: str | None) -> bool:
    return name is None or name.strip().lower() in ("", "none", "off")


def load_models(spec: ModelSpec) -> Models:
    """Load what ``spec`` names; raises the loaders' errors (FileNotFoundError, ValueError).
    Also tunes this process's allocator for them (:func:`fleursr.nn.runtime.keep_buffers`)."""
    from fleursr.nn.runtime import keep_buffers

    keep_buffers()
    models = Models()
    if not _off(spec.restorer):
        from fleursr.restore.apply import load_restorer

        models.restorer = load_restorer(spec.restorer, spec.device)
    if not _off(spec.asr):
        from fleursr.quality.asr import load_asr

        models.asr = load_asr(spec.asr, spec.device)
    if not _off(spec.mos):
        from fleursr.quality.mos import build_mos

        models.mos = build_mos(spec.mos)
    return models


def check_spec(spec: ModelSpec) -> None:
    """Fail before any work where a model cannot be had (nothing is loaded here): shipped
    weights that are not installed, a checkpoint directory that does not exist, an ASR spec
    that names no backend, an unknown MOS predictor. Hub ids are left to the loaders."""
    if not _off(spec.restorer):
        from fleursr.restore.peers import check_peer, peer_name

        if spec.restorer == "embedded":
            from fleursr.restore.apply import shipped_restorer

            shipped_restorer()
        elif peer_name(spec.restorer) is not None:  # another restorer: is its package there?
            check_peer(spec.restorer)
        else:
            _check_local("--model", spec.restorer)
    if not _off(spec.asr):
        from fleursr.quality.asr.load import check_asr_spec, parse_asr_spec, shipped_asr

        kind, target = parse_asr_spec(spec.asr)
        if kind == "embedded" and target is None:
            shipped_asr()
        elif kind == "embedded":
            _check_local("--asr", target)
        elif kind == "faster-whisper":  # faster-whisper (and the Whisper base parts) installed?
            check_asr_spec(spec.asr)
    if not _off(spec.mos):
        from fleursr.quality.mos import BACKENDS

        if spec.mos.strip().lower() not in BACKENDS:
            raise ValueError(
                f"unknown MOS predictor {spec.mos!r}; choose one of {sorted(BACKENDS)} or none"
            )


def _check_local(flag: str, name: str) -> None:
    """A name that is not a hub id (``org/name``) must be an existing directory."""
    from fleursr.nn.pretrained import is_hub_id

    if not is_hub_id(name) and not Path(name).expanduser().is_dir():
        raise FileNotFoundError(f"{flag} {name}: no such checkpoint directory")


class ModelPlugin(WorkerPlugin):
    """Loads the models of ``spec`` once on every worker (present and future)."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = spec.key

    def setup(self, worker: Any) -> None:
        import torch

        torch.set_num_threads(max(1, int(getattr(worker, "nthreads", 1) or 1)))
        _cache(worker)[self.spec] = load_models(self.spec)

    def teardown(self, worker: Any) -> None:
        _cache(worker).pop(self.spec, None)


_LOCAL: dict[ModelSpec, Models] = {}
_LOCK = threading.Lock()


def _cache(worker: Any) -> dict[ModelSpec, Models]:
    if not hasattr(worker, "_fleursr_models"):
        worker._fleursr_models = {}
    return worker._fleursr_models


def release_models(spec: ModelSpec) -> None:
    """Forget the models of ``spec`` loaded in this process (outside a worker)."""
    with _LOCK:
        _LOCAL.pop(spec, None)


def worker_models(spec: ModelSpec) -> Models:
    """The models of ``spec`` on this worker (loaded by the plugin), or in this process."""
    try:
        cache = _cache(get_worker())
    except ValueError:  # not inside a dask worker
        cache = _LOCAL
    with _LOCK:
        if spec not in cache:  # a worker that missed the plugin's setup
            cache[spec] = load_models(spec)
        return cache[spec]
