"""The degraded twin of a clean corpus: same utterances, simulated real-world damage.

Each utterance is degraded with a seed derived from the run seed and its id, so the twin does
not depend on the order or the number of workers. The twin's manifest keeps, per utterance,
``clean_path`` (the clean reference, relative to the twin's root when both live on one
filesystem tree), ``degradations`` (JSON: the names and exact parameters applied) and
``degrade_preset``. A clean file that cannot be read becomes an error row, never a lost one.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

from fleursr.corpus.audio import AudioError, resample, write_audio
from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance
from fleursr.corpus.validate import open_corpus
from fleursr.degrade import PRESETS, ChainConfig, degrade, utterance_seed

BABBLE_POOL_SIZE = 24

_state: dict = {}


def _init_worker(
    clean_root: str,
    out_root: str,
    preset: str,
    config: ChainConfig,
    seed: int,
    pool: list[np.ndarray],
    rate: int | None = None,
    external_paths: bool = False,
) -> None:
    _state.update(
        rate=rate,
        clean=Corpus(clean_root, external_paths=external_paths),
        out=Path(out_root),
        preset=preset,
        config=config,
        seed=seed,
        pool=pool,
    )


def _clean_reference(clean: Corpus, utt: Utterance, out_root: Path) -> str:
    source = os.path.abspath(clean.resolve(utt.path))  # not resolve(): a link loop is the reader's
    try:
        return os.path.relpath(source, os.path.abspath(out_root))
    except ValueError:  # another drive: keep it absolute
        return str(source)


def _degrade_one(utt: Utterance) -> Utterance:
    clean: Corpus = _state["clean"]
    out_root: Path = _state["out"]
    rel = f"audio/{utt.language}/{utt.split}/{utt.id}.flac"
    extra = dict(
        utt.extra,
        degrade_preset=_state["preset"],
        degradations=None,
        clean_path=_clean_reference(clean, utt, out_root) if utt.audio is None else None,
    )
    twin = dataclasses.replace(utt, path=rel, audio=None, extra=extra)
    if not utt.ok:
        return twin
    try:
        wave, sr = clean.load_audio(utt)
    except AudioError as err:
        return twin.with_error(err)
    # Babble is made of other utterances: leave this one out of its own crowd.
    pool = [p for p in _state["pool"] if len(p) != len(wave) or not np.array_equal(p, wave)]
    seed = utterance_seed(_state["seed"], utt.id)
    degraded, applied = degrade(wave, sr, seed, config=_state["config"], babble_pool=pool or None)
    if _state.get("rate") and _state["rate"] < sr:  # recorded at a lower rate, as FLEURS is
        degraded, sr = resample(degraded, sr, _state["rate"]), _state["rate"]
    write_audio(out_root / rel, degraded, sr)
    twin.extra["degradations"] = json.dumps(applied, sort_keys=True)
    twin.num_samples, twin.sampling_rate = len(degraded), sr
    return twin


def _babble_pool(clean: Corpus, seed: int, size: int) -> list[np.ndarray]:
    """A fixed random sample of clean utterances to build babble noise from."""
    ids = [u for u in clean if u.ok]
    random.Random(f"babble-{seed}").shuffle(ids)
    pool = []
    for utt in ids[:size]:
        try:
            pool.append(clean.load_audio(utt)[0])
        except AudioError:
            continue
    return pool


def load_chain_config(preset: str) -> ChainConfig:
    """A preset name, or a YAML/JSON file of overrides (``{"preset": "heavy", "noise": {...}}``)."""
    if preset in PRESETS:
        return PRESETS[preset]
    path = Path(preset)
    if path.suffix in (".yaml", ".yml", ".json"):
        if not path.exists():
            raise FileNotFoundError(f"{path}: degradation config file does not exist")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of ChainConfig fields")
        return ChainConfig.from_dict(data)
    raise ValueError(
        f"unknown degradation preset {preset!r}; choose from {sorted(PRESETS)} or give a .yaml file"
    )


def degrade_corpus(
    clean_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    preset: str = "default",
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    rate: int | None = None,
    external_paths: bool = False,
) -> Path:
    """Write the degraded twin of ``clean_dir`` into ``out_dir``; returns the manifest path.
    ``rate``: write degraded audio sampled higher than this at this rate (16000: as FLEURS is
    recorded, so a restorer has to extend the band the clean reference has above 8 kHz). The
    clean corpus is validated at open (``external_paths``: :func:`fleursr.corpus.validate.
    open_corpus`)."""
    if rate is not None and rate < 8000:
        raise ValueError(f"rate must be >= 8000 Hz, got {rate}")
    config = load_chain_config(preset)
    clean = open_corpus(clean_dir, external_paths)
    out = Path(out_dir)
    if out.resolve() == clean.root.resolve():
        raise ValueError(f"{out}: the degraded twin must not overwrite its clean corpus")
    pool = _babble_pool(clean, seed, BABBLE_POOL_SIZE)
    init = (str(clean.root), str(out), preset, config, seed, pool, rate, external_paths)
    workers = workers or os.cpu_count() or 1
    utts = list(clean)
    bar = dict(total=len(utts), desc=f"degrade ({preset})", unit="utt", disable=not progress)
    if workers == 1:
        _init_worker(*init)
        done = list(tqdm(map(_degrade_one, utts), **bar))
    else:
        # spawned, not forked: a worker forked from a process whose codec threads held a lock
        # waits on it forever (a twin test hung so, mid-encode)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, spawn, _init_worker, init) as ex:
            done = list(tqdm(ex.map(_degrade_one, utts, chunksize=8), **bar))
    return write_manifest(out, done)
