"""Datasets that ship inside installed packages, so nothing is downloaded.

``builtin:digits`` is read here; ``builtin:keywords`` is a generated folder of WAV clips
that :func:`edgecnn.training.data.sources.load_data` reads as any audio folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset

BUILTINS = ("digits", "keywords")


def check_builtin(name: str) -> None:
    """Refuses a ``builtin:NAME`` that does not exist.

    Raises:
        DataError: an unknown name, with the ones available.
    """
    if name not in BUILTINS:
        raise DataError(
            f"unknown builtin dataset {name!r}; available: "
            + ", ".join(f"builtin:{b}" for b in BUILTINS)
        )


def load_digits() -> RawDataset:
    """``builtin:digits``: scikit-learn's 8x8 handwritten digits."""
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


def keyword_folder() -> tuple[Path, tuple[str, ...]]:
    """``builtin:keywords``: the folder of spoken words (made offline with espeak-ng,
    generated once into a cache) and its target words, the default classes."""
    from edgecnn.training.data.keywords import ensure_keywords

    root = ensure_keywords()
    words = json.loads((root / "keywords.json").read_text(encoding="utf-8"))["words"]
    return root, tuple(words)
