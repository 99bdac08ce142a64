"""Datasets that ship inside installed packages, so nothing is downloaded."""

from __future__ import annotations

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset

BUILTINS = ("digits", "keywords")


def load_builtin(name: str, options=None) -> RawDataset:
    """Loads ``builtin:NAME``: ``digits`` (scikit-learn's 8x8 handwritten digits) or
    ``keywords`` (spoken words made offline with espeak-ng, generated once into a cache)."""
    if name == "keywords":
        return _keywords(options)
    if name != "digits":
        raise DataError(
            f"unknown builtin dataset {name!r}; available: "
            + ", ".join(f"builtin:{b}" for b in BUILTINS)
        )
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


def _keywords(options) -> RawDataset:
    """The generated keyword set; its target words are the classes unless others are asked
    (the unknown words become ``_unknown_``, and ``_silence_`` is added)."""
    import dataclasses
    import json

    from edgecnn.training.data.keywords import ensure_keywords
    from edgecnn.training.data.sources import DataOptions, load_audio

    root = ensure_keywords()
    options = options or DataOptions()
    if options.audio_classes is None:
        words = json.loads((root / "keywords.json").read_text(encoding="utf-8"))["words"]
        options = dataclasses.replace(options, audio_classes=tuple(words))
    dataset = load_audio(root, options)
    return dataclasses.replace(dataset, source="builtin:keywords")
