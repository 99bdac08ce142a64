"""The options of a training run, saved in ``run.json`` so ``--resume`` can reuse them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.training.data.balance import Balance
from edgecnn.training.data.sources import DataOptions


@dataclass(frozen=True)
class TrainConfig(Record):
    """Everything that decides what a training run does.

    Attributes:
        data: the data source (folder, .npz, .csv or builtin:NAME).
        model: a zoo model name (``edgecnn models`` lists them).
        data_options: how the source is read (input shape, window, columns).
        epochs: the most epochs to train; early stopping may end sooner. None: enough
            for a minimum number of optimizer steps (``training.schedule``).
        batch_size: samples per batch.
        lr: Adam learning rate.
        augment: training-only augmentation spec, e.g. ``"shift,noise=0.02"``.
        balance: how to counter class imbalance.
        seed: seeds the split, initialization, shuffling and augmentation.
        width: the model's width multiplier; None uses the family's default.
        patience: epochs without validation-loss improvement before stopping; None: an
            eighth of the epochs, at least 8.
        val_fraction: share of samples (or recordings) for validation.
        test_fraction: share held out for the final test.
        mixed_precision: float16 compute (useful on recent GPUs only).
        label_smoothing: share of each target spread evenly over the other classes; it
            keeps small data sets from being fitted with overconfident outputs.
    """

    data: str
    model: str
    data_options: DataOptions = field(default_factory=DataOptions)
    epochs: int | None = None
    batch_size: int = 32
    lr: float = 2e-3
    augment: str | None = None
    balance: Balance = Balance.NONE
    seed: int = 0
    width: float | None = None
    patience: int | None = None
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    mixed_precision: bool = False
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs is None or self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": 0 < self.lr < 1,
            "width": self.width is None or 0 < self.width <= 8,
            "patience": self.patience is None or self.patience >= 1,
            "label_smoothing": 0 <= self.label_smoothing < 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise BadInputError(f"{name}={getattr(self, name)!r} is out of range")

    @classmethod
    def from_options(
        cls, *, data: str, model: str, balance: str = "none", **options: Any
    ) -> TrainConfig:
        """A config from flat options, as the CLI and the pipeline take them: DataOptions
        fields (input_shape, window, hop, ...) go to ``data_options``; None means default."""
        given = {k: v for k, v in options.items() if v is not None}
        reading = {k: given.pop(k) for k in _DATA_OPTION_NAMES & given.keys()}
        return cls(
            data=data,
            model=model,
            data_options=DataOptions(**reading),
            balance=Balance(balance),
            **given,
        )


_DATA_OPTION_NAMES = {f.name for f in fields(DataOptions)}
