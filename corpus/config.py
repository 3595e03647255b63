"""Settings as data: one strict ``Config.from_dict`` for every settings dataclass, and model
sizes with overrides (``tiny`` / ``embedded`` / ``full`` / ``my.yaml`` -> a config dict).

``Config`` is a mixin of dataclasses: ``to_dict`` gives plain JSON-ready data, ``from_dict``
rebuilds the dataclass, turning nested dicts into the nested ``Config`` fields they belong to
and refusing any key it does not know with :class:`UnknownSettingError`, which names the key
and the class. A size is a dict; an experiment is a short override of one (``resolve_size``),
merged key by key, never a copied file.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

C = TypeVar("C", bound="Config")


class UnknownSettingError(KeyError, ValueError):
    """A settings dict holds a key its dataclass does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Config:
    """Mixin of settings dataclasses: strict ``from_dict``, plain ``to_dict``."""

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any] | C) -> C:
        """The dataclass from a dict of its fields; nested ``Config`` fields may be dicts.

        Raises :class:`UnknownSettingError` naming the first key the class does not know, and
        ``TypeError`` when ``data`` is not a mapping.
        """
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}: expected a mapping of settings, got {data!r}")
        known = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise UnknownSettingError(
                    f"unknown {cls.__name__} setting {key!r}; known: {sorted(known)}"
                )
            kind = hints.get(key)
            if isinstance(kind, type) and issubclass(kind, Config) and isinstance(value, Mapping):
                value = kind.from_dict(value)
            values[key] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (nested configs as dicts) that ``from_dict`` turns back into this one."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


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
