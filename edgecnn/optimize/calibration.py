"""Calibration samples for full-integer quantization: loaded from a file or drawn.

A calibration file is a ``.npz`` with ``x`` holding samples preprocessed exactly as in
training (float32, shaped like the model input without the batch axis).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.shapes import format_shape

MIN_SAMPLES = 10
DEFAULT_SAMPLES = 300


def load_calibration(path: str | Path, *, input_shape: tuple[int, ...]) -> np.ndarray:
    """Loads and checks a calibration ``.npz`` against the model's input shape.

    Raises:
        BadInputError: unreadable file, no ``x``, wrong shape or dtype, NaN/inf, or fewer
            than 10 samples.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if "x" not in data.files:
                raise BadInputError(
                    f"calibration file {path} has no array 'x' (found {data.files})"
                )
            x = data["x"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise BadInputError(f"calibration file {path} is not a readable .npz: {exc}") from None
    return check_calibration(x, input_shape=input_shape, source=str(path))


def check_calibration(x: np.ndarray, *, input_shape: tuple[int, ...], source: str) -> np.ndarray:
    """Returns ``x`` as float32 after checking shape, dtype, values and count."""
    if x.dtype.kind != "f":
        raise BadInputError(
            f"calibration samples in {source} have dtype {x.dtype}; they must be float, "
            "preprocessed exactly as in training (see calibration/README.md)"
        )
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise BadInputError(
            f"calibration samples in {source} are shaped {format_shape(x.shape[1:])}; the "
            f"model takes {format_shape(input_shape)}"
        )
    if len(x) < MIN_SAMPLES:
        raise BadInputError(
            f"calibration set {source} has {len(x)} samples; at least {MIN_SAMPLES} are needed "
            f"(a few hundred is better)"
        )
    if not np.isfinite(x).all():
        raise BadInputError(f"calibration samples in {source} contain NaN or inf")
    return x.astype(np.float32)


def draw_balanced(x: np.ndarray, y: np.ndarray, *, count: int, seed: int = 0) -> np.ndarray:
    """Draws up to ``count`` samples with classes as equal as the data allows."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    pools = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    picked: list[int] = []
    depth = 0
    while len(picked) < min(count, len(x)):
        picked += [int(pool[depth]) for pool in pools if depth < len(pool)]
        depth += 1
    return x[np.sort(np.asarray(picked[:count]))]
