"""Checkpoints, one way for every model: ``config.json`` + ``model.safetensors``, never a pickle.

A class that mixes in :class:`Pretrained` says how to describe itself (``pretrained_config``:
JSON that rebuilds it) and how to rebuild from that description (``from_pretrained_config``);
the mixin does the rest:

- ``save_pretrained(dir)`` writes both files atomically; ``config.json`` carries the class's
  ``checkpoint_format`` and ``format_version`` so a checkpoint of one model is never read as
  another's;
- ``from_pretrained(dir | hub id | "embedded")`` reads them back with strict keys: a missing,
  unexpected or wrongly shaped tensor is a ``ValueError`` naming the file; ``"embedded"`` is the
  checkpoint shipped inside the package (:func:`shipped_checkpoint` says clearly when this
  installation has none);
- ``push_to_hub(repo_id)`` uploads the same two files to the Hugging Face Hub.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from safetensors.torch import load_file, save_file

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
SHIPPED = "embedded"
HUB_ID = re.compile(r"[\w-][\w.-]*/[\w.-]+")

T = TypeVar("T", bound="Pretrained")


def is_hub_id(spec: str | os.PathLike) -> bool:
    """Whether ``spec`` reads as ``owner/name`` and is not an existing local path."""
    return not Path(spec).exists() and HUB_ID.fullmatch(str(spec)) is not None


def shipped_checkpoint(directory: Path, what: str, hint: str) -> Path:
    """``directory`` if it holds shipped weights; else ``FileNotFoundError`` saying that this
    installation ships no ``what`` and what to do instead (``hint``)."""
    if not (Path(directory) / WEIGHTS_NAME).exists():
        raise FileNotFoundError(f"this installation ships no {what} ({directory}); {hint}")
    return Path(directory)


def check_state(
    path: str | os.PathLike, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> None:
    """Raise ``ValueError`` naming ``path`` unless ``state`` has exactly ``expected``'s keys,
    each with the expected shape."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    if missing or unexpected or wrong:
        raise ValueError(
            f"{path}: weights do not match the config (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, wrong shape {wrong[:5]})"
        )


def _write_atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


class Pretrained:
    """Mixin of every model that saves and loads checkpoints (restorer, embedded ASR, TTS voice).

    Subclasses set ``checkpoint_format`` (and ``format_version``, ``shipped_dir``,
    ``shipped_what``, ``shipped_hint`` where weights ship in the package) and implement
    :meth:`pretrained_config` and :meth:`from_pretrained_config`. ``pretrained_state`` and
    ``load_pretrained_state`` default to the whole ``state_dict`` of ``pretrained_module``.
    """

    checkpoint_format: ClassVar[str]
    format_version: ClassVar[int] = 1
    shipped_dir: ClassVar[Path | None] = None
    shipped_what: ClassVar[str] = "weights"
    shipped_hint: ClassVar[str] = "train a model and pass its directory"

    # ------------------------------------------------------------------ what subclasses say
    def pretrained_config(self) -> dict[str, Any]:
        """JSON-serializable settings that rebuild this model (without format and version)."""
        raise NotImplementedError

    @classmethod
    def from_pretrained_config(cls: type[T], config: dict[str, Any], **kwargs: Any) -> T:
        """A model with fresh weights built from what :meth:`pretrained_config` wrote."""
        raise NotImplementedError

    @property
    def pretrained_module(self) -> torch.nn.Module:
        """The module whose tensors the checkpoint holds (default: the object itself)."""
        return self  # type: ignore[return-value]

    def pretrained_state(self) -> dict[str, torch.Tensor]:
        """The tensors to save, CPU and contiguous."""
        state = self.pretrained_module.state_dict()
        return {k: v.detach().cpu().contiguous() for k, v in state.items()}

    def load_pretrained_state(self, path: Path, state: dict[str, torch.Tensor]) -> None:
        """Load tensors read from ``path``; every expected key must be there, nothing else."""
        check_state(path, state, self.pretrained_state())
        self.pretrained_module.load_state_dict(state, strict=False)

    # -------------------------------------------------------------------- the one mechanism
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (each atomically); returns the dir."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"format": self.checkpoint_format, "version": self.format_version}
        text = json.dumps(meta | self.pretrained_config(), indent=2, ensure_ascii=False) + "\n"
        state = self.pretrained_state()
        _write_atomic(out / WEIGHTS_NAME, lambda p: save_file(
            state, str(p), metadata={"format": "pt", "library": "fleursr"}))  # fmt: skip
        _write_atomic(out / CONFIG_NAME, lambda p: p.write_text(text, encoding="utf-8"))
        return out

    @classmethod
    def checkpoint_files(
        cls, spec: str | os.PathLike, revision: str | None = None, token: str | bool | None = None
    ) -> tuple[Path, Path]:
        """``(config.json, model.safetensors)`` of a directory, a hub id or ``"embedded"``."""
        if str(spec) == SHIPPED and cls.shipped_dir is not None:
            root = shipped_checkpoint(cls.shipped_dir, cls.shipped_what, cls.shipped_hint)
        elif is_hub_id(spec):
            from huggingface_hub import hf_hub_download

            files = [hf_hub_download(str(spec), name, revision=revision, token=token)
                     for name in (CONFIG_NAME, WEIGHTS_NAME)]  # fmt: skip
            return Path(files[0]), Path(files[1])
        else:
            root = Path(spec)
        config, weights = root / CONFIG_NAME, root / WEIGHTS_NAME
        if not config.exists():
            raise FileNotFoundError(f"{root}: no {CONFIG_NAME}: not a {cls.checkpoint_format} "
                                    "checkpoint")  # fmt: skip
        if not weights.exists():
            raise FileNotFoundError(f"{weights}: checkpoint weights are missing")
        return config, weights

    @classmethod
    def read_pretrained_config(cls, path: Path) -> dict[str, Any]:
        """The settings in ``config.json``, after checking its format and version."""
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        found = meta.pop("format", None)
        if found != cls.checkpoint_format:
            raise ValueError(f"{path}: format {found!r} is not {cls.checkpoint_format!r}")
        version = meta.pop("version", 0)
        if version > cls.format_version:
            raise ValueError(f"{path}: format version {version} is newer than this code "
                             f"({cls.format_version})")  # fmt: skip
        return meta

    @classmethod
    def from_pretrained(
        cls: type[T], spec: str | os.PathLike, device: str | torch.device = "cpu",
        revision: str | None = None, token: str | bool | None = None, **kwargs: Any,
    ) -> T:  # fmt: skip
        """Load a checkpoint directory, a hub id (``owner/name``) or ``"embedded"`` (the weights
        shipped in the package). ``kwargs`` go to :meth:`from_pretrained_config`."""
        config_path, weights_path = cls.checkpoint_files(spec, revision, token)
        model = cls.from_pretrained_config(cls.read_pretrained_config(config_path), **kwargs)
        model.load_pretrained_state(weights_path, load_file(str(weights_path), device="cpu"))
        module = model.pretrained_module
        module.to(device).eval()
        return model

    def push_to_hub(
        self, repo_id: str, private: bool = False, token: str | None = None,
        commit_message: str = "Upload fleursr checkpoint",
    ) -> str:  # fmt: skip
        """Upload ``config.json`` and ``model.safetensors`` to a hub model repo; returns its URL."""
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp)
            api.upload_folder(folder_path=tmp, repo_id=repo_id, commit_message=commit_message)
        return str(url)
