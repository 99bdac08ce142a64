"""The training run folder: where each artefact lives and how splits are stored.

Later steps (prune, quantize, pipeline) read the same folder, so they evaluate on exactly
the held-out test split the training run set aside. Every file is checked where it is read
back: a damaged folder is one clear error, never a traceback.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import repeated_label
from edgecnn.core.preprocess import DataKind, Preprocessing

SPLITS = ("train", "val", "test")
# Ends every error about a file of a run folder: edgecnn wrote it, so it was damaged since.
DAMAGED = "the run folder is damaged: train again, or restore the file"


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
    """Raw samples and labels of the three splits (before preprocessing).

    ``background``: audio only, the background noise recordings for augmentation, or None.
    """

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    background: np.ndarray | None = None


def save_split_arrays(run: RunDir, arrays: SplitArrays) -> None:
    """Writes ``data.npz`` with ``x_train``, ``y_train``, ... atomically."""
    payload = {f"x_{s}": arrays.x[s] for s in SPLITS} | {f"y_{s}": arrays.y[s] for s in SPLITS}
    if arrays.background is not None:
        payload["background"] = arrays.background

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez_compressed(handle, **payload)

    fileio.write_with(run.data, write)


def load_split_arrays(run: RunDir) -> SplitArrays:
    """Reads ``data.npz`` written by :func:`save_split_arrays`.

    Raises:
        BadInputError: the file is missing, truncated, lacks a split or holds a split whose
            samples and labels do not pair up.
    """
    if not run.data.exists():
        raise BadInputError(f"{run.root} is not a training run folder (no {run.data.name})")
    keys = [f"{axis}_{s}" for s in SPLITS for axis in ("x", "y")]
    try:
        with np.load(run.data, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise BadInputError(f"{run.data} lacks {', '.join(missing)}; {DAMAGED}")
            found = {k: data[k] for k in keys}
            background = data["background"] if "background" in data.files else None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise BadInputError(
            f"{run.data} is truncated or not an .npz written by edgecnn train ({exc}); {DAMAGED}"
        ) from None
    arrays = SplitArrays(
        x={s: found[f"x_{s}"] for s in SPLITS},
        y={s: found[f"y_{s}"] for s in SPLITS},
        background=background,
    )
    _check_arrays(run, arrays)
    return arrays


def _check_arrays(run: RunDir, arrays: SplitArrays) -> None:
    for s in SPLITS:
        x, y = arrays.x[s], arrays.y[s]
        if y.ndim != 1 or y.dtype.kind not in "iu" or x.ndim < 2 or len(x) != len(y):
            raise BadInputError(
                f"{run.data}: split {s!r} holds samples {x.shape} and labels {y.shape} "
                f"({y.dtype}); expected one integer label per sample; {DAMAGED}"
            )


def load_labels(run: RunDir) -> list[str]:
    """Class names, one per line, in class-index order.

    Raises:
        BadInputError: the file is missing, unreadable, empty, or has a blank or repeated
            name.
    """
    try:
        labels = run.labels.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read {run.labels} ({exc}); {DAMAGED}") from None
    if not labels:
        raise BadInputError(
            f"{run.labels} holds no class names (one per line, in class-index order); {DAMAGED}"
        )
    blank = [i for i, label in enumerate(labels) if not label.strip()]
    if blank:
        raise BadInputError(f"{run.labels} line {blank[0] + 1} is blank; {DAMAGED}")
    twice = repeated_label(labels)
    if twice is not None:
        first, again = twice
        raise BadInputError(
            f"{run.labels} line {again + 1} repeats {labels[first]!r} of line {first + 1}; "
            f"each class needs its own name; {DAMAGED}"
        )
    return labels


def load_preprocessing(run: RunDir) -> Preprocessing:
    """The preprocessing the run trained with.

    Raises:
        BadInputError: not a JSON object, an unknown kind, or fields that do not fit.
    """
    data = read_object(run.preprocessing)
    known = [k.value for k in DataKind]
    if data.get("kind") not in known:
        raise BadInputError(
            f"{run.preprocessing}: unknown kind {data.get('kind')!r}; known: "
            f"{', '.join(known)}; {DAMAGED}"
        )
    try:
        return Preprocessing.from_dict(data)
    except (BadInputError, TypeError, ValueError) as exc:
        raise BadInputError(f"{run.preprocessing}: {exc}; {DAMAGED}") from None


def read_object(path: Path) -> dict:
    """A JSON object file of a run folder.

    Raises:
        BadInputError: the file is missing, not valid JSON or not a JSON object.
    """
    try:
        data = fileio.read_json(path)
    except FileNotFoundError:
        raise BadInputError(f"{path} is missing; {DAMAGED}") from None
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise BadInputError(f"{path} is not valid JSON ({exc}); {DAMAGED}") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{path} must hold a JSON object, got {type(data).__name__}; {DAMAGED}")
    return data
