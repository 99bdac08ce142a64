"""Datasets that ship inside installed packages, so nothing is downloaded."""

from __future__ import annotations

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset

BUILTINS = ("digits",)


def load_builtin(name: str) -> RawDataset:
    """Loads ``builtin:NAME``; today only ``digits`` (scikit-learn's 8x8 handwritten digits)."""
    if name != "digits":
        raise DataError(f"unknown builtin dataset {name!r}; available: builtin:digits")
    datasets = optional.require("sklearn.datasets", extra="train", package="scikit-learn")
    bunch = datasets.load_digits()
    # Pixel values are integers 0..16; keep them raw and record the 1/16 scale.
    x = bunch.images.astype(np.float32)[..., np.newaxis]
    return RawDataset(
        x=x,
        y=bunch.target.astype(np.int64),
        labels=tuple(str(n) for n in bunch.target_names),
        kind=DataKind.IMAGE,
        source="builtin:digits",
        scale=1.0 / 16.0,
        info={"color_mode": "grayscale", "raw_range": [0, 16]},
    )
