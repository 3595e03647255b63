"""Training state (optimizers, step, RNG) as safetensors + JSON, so resuming never unpickles.

An optimizer's ``state_dict`` is a nest of tensors and plain values: the tensors go into one
safetensors file under flat keys (``{name}/state/{param}/{key}``), everything else into the
file's JSON metadata.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

STATE_NAME = "trainer_state.safetensors"


def _flatten(name: str, opt_state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, entries in opt_state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{name}/state/{param_id}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(param_id), {})[key] = value
    return tensors, {"param_groups": opt_state["param_groups"], "scalars": scalars}


def save_training_state(
    directory: str | os.PathLike, step: int, optimizers: dict[str, torch.optim.Optimizer],
    extra: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Write ``trainer_state.safetensors`` atomically into ``directory``."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"step": step, "extra": extra or {}, "optimizers": {}}
    for name, opt in optimizers.items():
        t, m = _flatten(name, opt.state_dict())
        tensors.update(t)
        meta["optimizers"][name] = m
    tensors["rng/torch"] = torch.get_rng_state()
    path = Path(directory) / STATE_NAME
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"fleursr": json.dumps(meta)})
    os.replace(tmp, path)
    return path


def load_training_state(
    directory: str | os.PathLike, optimizers: dict[str, torch.optim.Optimizer]
) -> tuple[int, dict[str, Any]]:
    """Restore optimizers and the torch RNG; returns ``(step, extra)``."""
    path = Path(directory) / STATE_NAME
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["fleursr"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for name, opt in optimizers.items():
        if name not in meta["optimizers"]:
            raise ValueError(f"{path}: no state for optimizer {name!r}")
        m = meta["optimizers"][name]
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            parts = key.split("/")
            if parts[0] == name and parts[1] == "state":
                state.setdefault(int(parts[2]), {})[parts[3]] = value
        for param_id, scalars in m["scalars"].items():
            state.setdefault(int(param_id), {}).update(scalars)
        groups = [  # JSON turned tuples (betas) into lists
            {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
            for g in m["param_groups"]
        ]
        opt.load_state_dict({"state": state, "param_groups": groups})
    torch.set_rng_state(tensors["rng/torch"])
    return int(meta["step"]), meta["extra"]


def has_training_state(directory: str | os.PathLike) -> bool:
    return (Path(directory) / STATE_NAME).exists()


def _metadata(directory: str | os.PathLike) -> dict[str, Any]:
    with safe_open(str(Path(directory) / STATE_NAME), framework="pt") as f:
        return json.loads(f.metadata()["fleursr"])


def training_extra(directory: str | os.PathLike) -> dict[str, Any]:
    """The ``extra`` dict saved with the training state (read without loading tensors)."""
    return _metadata(directory)["extra"]


def training_step(directory: str | os.PathLike) -> int | None:
    """The steps done by the training state in ``directory`` (read without loading tensors);
    None where there is none."""
    return int(_metadata(directory)["step"]) if has_training_state(directory) else None
