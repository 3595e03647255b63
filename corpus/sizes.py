"""Model sizes with overrides: the one way every package turns ``tiny`` / ``embedded`` /
``full`` / ``my.yaml`` into a config dict.

A config is a size name, a dict of overrides whose ``size`` key picks the base (default
``embedded``), or a YAML/JSON file of such overrides. Overrides merge into the base size's dict
recursively, so an experiment is a short override, not a copied file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``overrides`` merged in (nested dicts merge key by key)."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out


def resolve_size(
    size_or_file: str | Mapping[str, Any], sizes: Mapping[str, dict[str, Any]], what: str
) -> dict[str, Any]:
    """The config dict named by ``size_or_file``: a key of ``sizes``, a dict of overrides, or a
    YAML/JSON file of overrides; the result holds ``size``. ``what`` names the model in errors.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unknown size.
    """
    if isinstance(size_or_file, Mapping):
        overrides = dict(size_or_file)
    elif size_or_file in sizes:
        overrides = {"size": size_or_file}
    elif Path(size_or_file).suffix in (".yaml", ".yml", ".json"):
        path = Path(size_or_file)
        if not path.exists():
            raise FileNotFoundError(f"{path}: {what} config file does not exist")
        overrides = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    else:
        raise ValueError(f"unknown {what} size {size_or_file!r}; choose from {tuple(sizes)}")
    size = overrides.pop("size", "embedded")
    if size not in sizes:
        raise ValueError(f"unknown {what} size {size!r}; choose from {tuple(sizes)}")
    return merge_overrides(sizes[size], overrides) | {"size": size}
