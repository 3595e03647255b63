"""Loop pieces every trainer shares: the learning-rate schedule, endless epochs, the CSV log."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


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


def append_csv(
    path: str | os.PathLike, row: dict[str, Any], fields: Sequence[str] | None = None
) -> None:
    """Append ``row`` to the CSV log at ``path``, writing the header (``fields`` or the row's
    keys) when the file is new."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields or row))
        if new:
            writer.writeheader()
        writer.writerow(row)
