"""The trainer base on a linear model: an interrupted run ends where an uninterrupted one does,
and a training state of another kind of run, or a model without its state, is refused."""

import csv
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import Dataset

from fleursr.nn.checkpoint import STATE_NAME
from fleursr.nn.pretrained import WEIGHTS_NAME
from fleursr.nn.trainer import BucketBatchSampler, Trainer, TrainerSettings


@dataclass
class LinearConfig:
    out: str
    steps: int = 12
    lr: float = 0.05
    warmup_steps: int | None = None
    min_lr_ratio: float = 0.1
    batch_size: int = 8
    log_every: int = 2
    save_every: int = 4
    val_every: int = 6
    device: str = "cpu"


class Points(Dataset):
    """Eight fixed points whose targets shift with the epoch."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(8, 3, generator=g)
        self.y = self.x @ torch.tensor([[1.0], [-2.0], [0.5]])
        self.epoch = 0

    def __len__(self) -> int:
        return 8

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        return i, self.x[i], self.y[i] + 0.01 * self.epoch


class Batch:
    def __init__(self, items: list) -> None:
        items = sorted(items, key=lambda item: item[0])  # one batch an epoch, in a fixed order
        self.x = torch.stack([item[1] for item in items])
        self.y = torch.stack([item[2] for item in items])

    def to(self, device: torch.device) -> "Batch":
        return self


class Linear:
    def __init__(self) -> None:
        self.net = torch.nn.Linear(3, 1)

    def save_pretrained(self, out) -> None:
        save_file(
            {k: v.contiguous() for k, v in self.net.state_dict().items()}, str(out / WEIGHTS_NAME)
        )


class LinearTrainer(Trainer):
    name, desc, log_fields = "linear", "train linear", ("step", "seconds", "lr", "mse", "val")
    collate = staticmethod(Batch)

    def __init__(self, cfg: LinearConfig, crash_at: int | None = None) -> None:
        super().__init__(TrainerSettings.of(cfg), cfg)
        self.validated: list[int] = []
        self.crash_at = crash_at

    def build(self) -> Linear:
        model = Linear()
        if (self.out / WEIGHTS_NAME).exists():
            model.net.load_state_dict(load_file(str(self.out / WEIGHTS_NAME)))
        return model

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        self.opt = torch.optim.AdamW(self.model.net.parameters(), lr=self.settings.lr)
        return {"linear": self.opt}

    def dataset(self) -> Points:
        return Points()

    def train_step(self, batch: Batch, step: int) -> dict[str, float]:
        if step == self.crash_at:
            raise KeyboardInterrupt
        noisy = batch.x + 0.1 * torch.randn(batch.x.shape)  # the torch RNG must resume too
        loss = torch.nn.functional.mse_loss(self.model.net(noisy), batch.y)
        self.update(self.opt, loss, self.model.net.parameters())
        return {"mse": loss.item()}

    def validate(self, step: int) -> dict[str, float]:
        self.validated.append(step)
        return {"val": float(self.model.net.weight.detach().sum())}


def _log(out):
    with open(out / "train_log.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_interrupted_run_ends_like_an_uninterrupted_one(tmp_path):
    once = LinearTrainer(LinearConfig(out=str(tmp_path / "once")))
    assert once.run(progress=False) == tmp_path / "once"
    assert once.validated == [6, 12]
    first = LinearTrainer(LinearConfig(out=str(tmp_path / "twice"), steps=6))
    first.run(progress=False)  # saved at step 4, then at its last step, 6
    again = LinearTrainer(LinearConfig(out=str(tmp_path / "twice"), steps=12))
    again.run(progress=False)
    assert again.start == 6 and again.validated == [12]

    a, b = (load_file(str(tmp_path / d / WEIGHTS_NAME)) for d in ("once", "twice"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = _log(tmp_path / "once")
    assert _log(tmp_path / "twice") == rows
    assert [r["step"] for r in rows] == ["2", "4", "6", "8", "10", "12"]
    assert [bool(r["val"]) for r in rows] == [False, False, True, False, False, True]
    assert rows[0]["lr"] == ""  # no schedule: the optimizer's own rate


def test_a_crashed_run_resumes_from_its_last_save_on_schedule(tmp_path):
    cfg = LinearConfig(out=str(tmp_path / "once"), warmup_steps=2, steps=20)
    LinearTrainer(cfg).run(progress=False)
    crashed = LinearConfig(out=str(tmp_path / "crashed"), warmup_steps=2, steps=20)
    with pytest.raises(KeyboardInterrupt):
        LinearTrainer(crashed, crash_at=10).run(progress=False)  # 10 steps done, 8 saved
    again = LinearTrainer(crashed)
    again.run(progress=False)
    assert again.start == 8
    a, b = (load_file(str(tmp_path / d / WEIGHTS_NAME)) for d in ("once", "crashed"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows, redone = _log(tmp_path / "once"), _log(tmp_path / "crashed")
    assert [r["step"] for r in redone][4:7] == ["10", "10", "12"]  # step 10 is logged again
    assert list({r["step"]: r for r in redone}.values()) == rows
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] == pytest.approx(0.05) and lrs == sorted(lrs, reverse=True)


def test_a_state_of_another_run_is_refused(tmp_path):
    LinearTrainer(LinearConfig(out=str(tmp_path), steps=2)).run(progress=False)

    class Other(LinearTrainer):
        name = "other"

    with pytest.raises(ValueError, match="holds a 'linear' run, not 'other'"):
        Other(LinearConfig(out=str(tmp_path), steps=4)).run(progress=False)


def test_bucket_batches_hold_similar_lengths_and_every_item_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 2000, size=1000).tolist()
    sampler = BucketBatchSampler(lengths, 16, torch.Generator().manual_seed(0), pool=10,
                                 drop_last=False)  # fmt: skip
    batches = list(sampler)
    assert len(batches) == len(sampler) == 63
    assert sorted(i for b in batches for i in b) == list(range(1000))

    def padding(groups):  # frames padded to each batch's longest item, over all frames
        real = sum(lengths[i] for b in groups for i in b)
        return sum(max(lengths[i] for i in b) * len(b) for b in groups) / real - 1

    shuffled = torch.randperm(1000, generator=torch.Generator().manual_seed(0)).tolist()
    random_batches = [shuffled[k : k + 16] for k in range(0, 1000, 16)]
    assert padding(batches) < 0.15 < 0.5 < padding(random_batches)
    # the same generator seed gives the same batches; the next epoch draws new ones
    again = BucketBatchSampler(lengths, 16, torch.Generator().manual_seed(0), pool=10,
                               drop_last=False)  # fmt: skip
    assert list(again) == batches and list(again) != batches
    dropped = BucketBatchSampler(lengths, 16, torch.Generator().manual_seed(0), pool=10)
    assert len(dropped) == 62 and all(len(b) == 16 for b in dropped)


def test_a_model_without_its_training_state_is_not_trained_over(tmp_path):
    """A finished voice kept without its state (as committed or shipped) would restart its
    schedule from step 0 and be overwritten at the first save: refused, the model untouched."""
    LinearTrainer(LinearConfig(out=str(tmp_path), steps=4)).run(progress=False)
    (tmp_path / STATE_NAME).unlink()
    before = (tmp_path / WEIGHTS_NAME).read_bytes()
    with pytest.raises(ValueError, match="holds a model .* but no training state"):
        LinearTrainer(LinearConfig(out=str(tmp_path), steps=8)).run(progress=False)
    assert (tmp_path / WEIGHTS_NAME).read_bytes() == before
