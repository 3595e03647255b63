"""The training loop every trainer shares, and the pieces it is made of.

:class:`Trainer` makes ``out``, seeds, resolves the device, builds the model (a subclass resumes
it from ``out`` or starts it from elsewhere), refuses a training state in ``out`` left by another
kind of run, restores the one it owns, then steps through an endless shuffled loader from the
saved step to ``steps``. Each step sets the learning rate (:meth:`Trainer.learning_rate`), asks
the subclass for its losses, validates every ``val_every`` steps, appends a row to
``train_log.csv`` every ``log_every`` steps (and when a validation gives values for it), and
every ``save_every`` steps writes the checkpoint and the training state (``fleursr.nn.checkpoint``).
The last step always validates, logs and saves.

A resumed run reshuffles from a loader generator seeded with ``seed + start`` and restores the
torch RNG; its epochs count on from ``start`` (``dataset.set_epoch``, where the dataset has one).
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from fleursr.nn.checkpoint import (
    STATE_NAME,
    has_training_state,
    load_training_state,
    save_training_state,
    training_extra,
)
from fleursr.nn.pretrained import WEIGHTS_NAME
from fleursr.nn.runtime import resolve_device, seed_everything

LOG_NAME = "train_log.csv"


def warmup_cosine(step: int, steps: int, lr: float, warmup_steps: int, min_ratio: float) -> float:
    """Learning rate of step ``step`` (0-based): linear warm-up over ``warmup_steps`` (at most a
    tenth of the run, at least one step), then a cosine decay to ``min_ratio * lr``."""
    warm = max(1, min(warmup_steps, steps // 10))
    if step < warm:
        return lr * (step + 1) / warm
    cos = 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, steps - warm))))
    return lr * (min_ratio + (1 - min_ratio) * cos)


def endless(loader: Iterable[Any], dataset: Any = None, start_epoch: int = 0) -> Iterator[Any]:
    """The loader's batches epoch after epoch, forever; ``dataset.set_epoch(epoch)`` first where
    the dataset draws per-epoch randomness (on-the-fly degradations). ``None`` batches (every
    item unreadable) are skipped."""
    epoch = start_epoch
    while True:
        if dataset is not None:
            dataset.set_epoch(epoch)
        yield from (batch for batch in loader if batch is not None)
        epoch += 1


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of items of similar length: every epoch the items are shuffled, cut into pools of
    ``pool`` batches, each pool sorted by ``lengths`` and cut into batches, and the batches
    shuffled. Padding to the longest item of a batch then costs little, where a transformer over
    frames pays for it quadratically. Drawn from ``generator``, so a run is reproducible."""

    def __init__(
        self, lengths: Sequence[int], batch_size: int, generator: torch.Generator,
        pool: int = 50, drop_last: bool = True,
    ) -> None:  # fmt: skip
        self.lengths, self.batch_size, self.generator = list(lengths), batch_size, generator
        self.pool, self.drop_last = pool, drop_last and len(self.lengths) >= batch_size

    def __len__(self) -> int:
        n, b = len(self.lengths), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), size):
            chunk = sorted(order[start : start + size], key=lambda i: self.lengths[i])
            batches += [
                chunk[k : k + self.batch_size] for k in range(0, len(chunk), self.batch_size)
            ]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        for k in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[k]


def append_csv(
    path: str | os.PathLike, row: dict[str, Any], fields: Sequence[str] | None = None
) -> None:
    """Append ``row`` to the CSV log at ``path``, writing the header (``fields`` or the row's
    keys) when the file is new. Columns missing from ``row`` stay empty."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields or row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def autocast(device: torch.device) -> torch.autocast:
    """bfloat16 autocast on CUDA; a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def clipped_step(
    opt: torch.optim.Optimizer, loss: torch.Tensor, params: Iterable[torch.Tensor], clip: float
) -> None:
    """One update: zero the gradients, back-propagate the scalar ``loss``, clip the gradient
    norm of ``params`` to ``clip``, step ``opt``."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, clip)
    opt.step()


def _due(done: int, every: int, steps: int) -> bool:
    """Whether a cadence of ``every`` steps (0: the last step only) falls after ``done`` steps
    of ``steps``."""
    return done == steps or (every > 0 and done % every == 0)


@dataclass
class TrainerSettings:
    """What the loop needs of a trainer's config. A cadence (``*_every``) of 0: the last step
    only. ``warmup_steps=None``: the learning rate stays the optimizers' own; else
    :func:`warmup_cosine` from ``lr`` down to ``min_lr_ratio * lr``."""

    out: str | os.PathLike
    steps: int
    lr: float
    seed: int = 0
    device: str = "auto"
    batch_size: int = 8
    loader_workers: int = 0
    grad_clip: float = 5.0
    log_every: int = 10
    save_every: int = 250
    val_every: int = 0
    warmup_steps: int | None = None
    min_lr_ratio: float = 0.0

    @classmethod
    def of(cls, config: Any, **overrides: Any) -> TrainerSettings:
        """The settings of a config dataclass: its fields of the same names, then ``overrides``
        (a field named otherwise there, e.g. ``val_every=cfg.eval_every``)."""
        own = {f.name: getattr(config, f.name) for f in fields(cls) if hasattr(config, f.name)}
        return cls(**(own | overrides))


class Trainer:
    """The loop; a subclass says what differs. ``config`` (a dataclass) is saved with the state.

    Hooks, in the order :meth:`run` calls them: :meth:`build` (the model, in train mode, and
    whatever the steps need), :meth:`optimizers`, :meth:`dataset` (after the resume, so
    ``self.start`` is known), then per step :meth:`fetch`, :meth:`learning_rate`,
    :meth:`train_step`, :meth:`validate`, :meth:`log_values`, :meth:`save`; :meth:`finish`
    at the end.
    """

    name: str = "train"  # stored as ``stage`` in the training state; another one is refused
    desc: str = "train"  # the progress bar's label
    log_fields: Sequence[str] | None = None  # CSV columns in order; None: the first row's keys
    collate: Callable[[list[Any]], Any] | None = None  # the loader's collate_fn

    def __init__(self, settings: TrainerSettings, config: Any) -> None:
        self.settings, self.config = settings, config
        self.out = Path(settings.out)
        self.device = torch.device("cpu")
        self.start = 0
        self.model: Any = None

    # ---- hooks ----
    def build(self) -> Any:
        """The model to train on ``self.device`` (resumed from ``out``, started from elsewhere or
        fresh), in train mode; :meth:`save` writes it with ``save_pretrained``."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers by name, as saved in the training state (called once)."""
        raise NotImplementedError

    def dataset(self) -> Dataset:
        """The training items; a ``set_epoch(epoch)`` method, if any, is called every epoch."""
        raise NotImplementedError

    def item_lengths(self) -> Sequence[int] | None:
        """Each training item's length, to batch items of similar length together
        (:class:`BucketBatchSampler`); None (the default): batches of random items."""
        return None

    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """One update on ``batch`` at 0-based ``step``; returns the losses to log."""
        raise NotImplementedError

    def fetch(self, batches: Iterator[Any]) -> Any:
        """The next batch, on the device."""
        return next(batches).to(self.device)

    def learning_rate(self, step: int) -> float | None:
        """The learning rate of 0-based ``step`` for every optimizer; None: leave it as it is."""
        s = self.settings
        if s.warmup_steps is None:
            return None
        return warmup_cosine(step, s.steps, s.lr, s.warmup_steps, s.min_lr_ratio)

    def validate(self, step: int) -> dict[str, Any] | None:
        """Called every ``val_every`` steps and at the last (``step`` counts steps done); the
        values returned go into that step's log row, which is then written whatever
        ``log_every`` says."""
        return None

    def log_values(self, parts: dict[str, float]) -> dict[str, Any]:
        """What a log row holds besides ``step``, ``seconds`` and ``lr``, given the last step's
        losses (a subclass may average since the last row instead)."""
        return parts

    def save(self, out: Path) -> None:
        """Write the checkpoint (and any training-only weights) into ``out``."""
        self.model.save_pretrained(out)

    def finish(self) -> None:
        """End-of-run handling, after the last step (or none, when nothing was left to do)."""

    def foreign_state(self, found: Any) -> str:
        """The error for a training state in ``out`` whose ``stage`` is ``found``."""
        return f"{self.out}: holds a {found!r} run, not {self.name!r}: use another out"

    # ---- shared steps ----
    def autocast(self) -> torch.autocast:
        return autocast(self.device)

    def update(
        self, opt: torch.optim.Optimizer, loss: torch.Tensor, params: Iterable[torch.Tensor]
    ) -> None:
        clipped_step(opt, loss, params, self.settings.grad_clip)

    def resume(self, optimizers: dict[str, torch.optim.Optimizer]) -> int:
        """The step to start from: 0, or the one of the training state in ``out``, restored into
        ``optimizers`` (and the torch RNG) after checking that it is this kind of run."""
        if not has_training_state(self.out):
            if (self.out / WEIGHTS_NAME).exists():  # a finished or shipped model, state dropped
                raise ValueError(
                    f"{self.out}: holds a model ({WEIGHTS_NAME}) but no training state "
                    f"({STATE_NAME}): training would restart its schedule and overwrite it; "
                    "train into another out (its --init where the run has one)"
                )
            return 0
        found = training_extra(self.out).get("stage")
        if found != self.name:
            raise ValueError(self.foreign_state(found))
        step, _ = load_training_state(self.out, optimizers)
        return step

    def checkpoint(self, done: int, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.save(self.out)
        extra = {"stage": self.name, "config": asdict(self.config)}
        save_training_state(self.out, done, optimizers, extra)

    def run(self, progress: bool = True) -> Path:
        """Train (or resume training) up to ``steps``; returns ``out``."""
        s = self.settings
        self.out.mkdir(parents=True, exist_ok=True)
        seed_everything(s.seed)
        self.device = resolve_device(s.device)
        self.model = self.build()
        optimizers = self.optimizers()
        self.start = self.resume(optimizers)
        data = self.dataset()
        shuffle = torch.Generator().manual_seed(s.seed + self.start)
        lengths = self.item_lengths()
        if lengths is None:
            loader = DataLoader(data, batch_size=s.batch_size, shuffle=True,
                                collate_fn=self.collate, num_workers=s.loader_workers,
                                drop_last=len(data) >= s.batch_size, generator=shuffle)  # fmt: skip
        else:
            sampler = BucketBatchSampler(lengths, s.batch_size, shuffle)
            loader = DataLoader(data, batch_sampler=sampler, collate_fn=self.collate,
                                num_workers=s.loader_workers)  # fmt: skip
        epoch = self.start // max(1, len(loader))
        batches = endless(loader, data if hasattr(data, "set_epoch") else None, epoch)
        bar = tqdm(range(self.start, s.steps), desc=self.desc, unit="step", disable=not progress,
                   initial=self.start, total=s.steps)  # fmt: skip
        t0 = time.perf_counter()
        for step in bar:
            batch = self.fetch(batches)
            lr = self.learning_rate(step)
            if lr is not None:
                for opt in optimizers.values():
                    for group in opt.param_groups:
                        group["lr"] = lr
            parts = self.train_step(batch, step)
            done = step + 1
            checked = self.validate(done) if _due(done, s.val_every, s.steps) else None
            if _due(done, s.log_every, s.steps) or checked:
                row: dict[str, Any] = {"step": done, "seconds": round(time.perf_counter() - t0, 2)}
                if lr is not None:
                    row["lr"] = f"{lr:.3g}"
                values = self.log_values(parts) | (checked or {})
                row |= {k: v if isinstance(v, str) else round(v, 5) for k, v in values.items()}
                append_csv(self.out / LOG_NAME, row, self.log_fields)
                shown = [(k, v) for k, v in values.items() if isinstance(v, float)][:4]
                bar.set_postfix({k: f"{v:.3f}" for k, v in shown})
            if _due(done, s.save_every, s.steps):
                self.checkpoint(done, optimizers)
        self.finish()
        return self.out
