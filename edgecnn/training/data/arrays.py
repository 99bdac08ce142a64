"""A ``.npz`` file with ``x``, ``y`` and optional ``labels``."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset


def load_npz(path: Path) -> RawDataset:
    """Loads samples ``x`` and labels ``y`` (class indices or names) from a ``.npz``.

    ``labels`` (optional) names the classes that integer ``y`` values index. uint8 arrays
    shaped ``(N, H, W)`` or ``(N, H, W, C)`` count as images (scaled by 1/255); anything
    else is a plain numeric array.
    """
    arrays = _read_npz(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise DataError(f"{path}: no array {key!r}; found {sorted(arrays)} (need x and y)")
    x, y_raw = arrays["x"], arrays["y"]
    if x.ndim < 2:
        raise DataError(f"{path}: x has shape {x.shape}; expected (samples, ...) with ndim >= 2")
    y, labels = _encode_labels(path, y_raw, arrays.get("labels"))
    is_image = x.dtype == np.uint8 and x.ndim in (3, 4)
    if is_image and x.ndim == 3:
        x = x[..., np.newaxis]
    if not is_image and not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return RawDataset(
        x=x,
        y=y,
        labels=labels,
        kind=DataKind.IMAGE if is_image else DataKind.ARRAY,
        source=str(path),
        scale=1.0 / 255.0 if is_image else 1.0,
    )


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz file: {exc}") from None


def _encode_labels(
    path: Path, y: np.ndarray, labels: np.ndarray | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind in "US":
        names = tuple(sorted({str(v) for v in y}))
        lookup = {name: i for i, name in enumerate(names)}
        return np.asarray([lookup[str(v)] for v in y], dtype=np.int64), names
    if y.dtype.kind not in "iu":
        raise DataError(f"{path}: y has dtype {y.dtype}; use integer class indices or names")
    count = int(y.max()) + 1 if y.size else 0
    if labels is None:
        return y.astype(np.int64), tuple(str(i) for i in range(count))
    names = tuple(str(v) for v in np.asarray(labels).reshape(-1))
    if count > len(names) or (y.size and y.min() < 0):
        raise DataError(
            f"{path}: y holds values up to {count - 1} but labels names {len(names)} classes"
        )
    return y.astype(np.int64), names
