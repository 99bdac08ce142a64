"""The training run folder: where each artefact lives and how splits are stored.

Later steps (prune, quantize, pipeline) read the same folder, so they evaluate on exactly
the held-out test split the training run set aside.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import Preprocessing

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run folder."""

    root: Path

    @classmethod
    def new_default(cls) -> RunDir:
        """``runs/<timestamp>`` in the current directory."""
        return cls(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))

    config = property(lambda self: self.root / "run.json")
    data = property(lambda self: self.root / "data.npz")
    split = property(lambda self: self.root / "split.json")
    labels = property(lambda self: self.root / "labels.txt")
    preprocessing = property(lambda self: self.root / "preprocessing.json")
    model = property(lambda self: self.root / "model.keras")
    report = property(lambda self: self.root / "train.json")
    curves_png = property(lambda self: self.root / "curves.png")
    confusion_png = property(lambda self: self.root / "confusion.png")
    checkpoint_dir = property(lambda self: self.root / "checkpoint")
    last_checkpoint = property(lambda self: self.root / "checkpoint" / "last.keras")
    best_weights = property(lambda self: self.root / "checkpoint" / "best.weights.h5")
    state = property(lambda self: self.root / "checkpoint" / "state.json")

    def is_complete(self) -> bool:
        """True once training finished and wrote its report."""
        return self.report.exists() and self.model.exists()


@dataclass(frozen=True)
class SplitArrays:
    """Raw samples and labels of the three splits (before preprocessing)."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


def save_split_arrays(run: RunDir, arrays: SplitArrays) -> None:
    """Writes ``data.npz`` with ``x_train``, ``y_train``, ... atomically."""
    payload = {f"x_{s}": arrays.x[s] for s in SPLITS} | {f"y_{s}": arrays.y[s] for s in SPLITS}

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez_compressed(handle, **payload)

    fileio.write_with(run.data, write)


def load_split_arrays(run: RunDir) -> SplitArrays:
    """Reads ``data.npz`` written by :func:`save_split_arrays`."""
    if not run.data.exists():
        raise BadInputError(f"{run.root} is not a training run folder (no {run.data.name})")
    with np.load(run.data, allow_pickle=False) as data:
        return SplitArrays(
            x={s: data[f"x_{s}"] for s in SPLITS}, y={s: data[f"y_{s}"] for s in SPLITS}
        )


def load_labels(run: RunDir) -> list[str]:
    """Class names, one per line, in class-index order."""
    return run.labels.read_text(encoding="utf-8").splitlines()


def load_preprocessing(run: RunDir) -> Preprocessing:
    """The preprocessing the run trained with."""
    return Preprocessing.from_dict(fileio.read_json(run.preprocessing))
