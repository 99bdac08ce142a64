"""The in-memory dataset every source produces, before splitting and normalization."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind


@dataclass(frozen=True)
class RawDataset:
    """Raw samples with integer labels.

    Attributes:
        x: raw samples, shape ``(N, *sample_shape)``: uint8 images already resized, or
            float32 sensor windows, or any numeric array.
        y: class indices, shape ``(N,)``.
        labels: class names; ``y`` indexes into them.
        kind: what a sample is.
        source: a short description of where the data came from.
        groups: per-sample recording/segment id (windows of one recording share it), or None.
        spans: per-sample (start, end) position inside its recording as fractions 0..1, used
            to split single long recordings in time without overlap; or None.
        scale: the raw-to-[0, 1]-ish scale natural for the source (1/255 for images).
        info: source-specific settings to record (channels, window, hop, sample rate, ...).
        background: audio only: background noise recordings joined, at the clips' sample
            rate, for the ``bgnoise`` augmentation; or None.
    """

    x: np.ndarray
    y: np.ndarray
    labels: tuple[str, ...]
    kind: DataKind
    source: str
    groups: np.ndarray | None = None
    spans: np.ndarray | None = None
    scale: float = 1.0
    info: dict = field(default_factory=dict)
    background: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_dataset(self)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(int(s) for s in self.x.shape[1:])

    def fingerprint(self) -> str:
        """A short sha256 over samples, labels and class names: same data, same print."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.x).tobytes())
        digest.update(np.asarray(self.y, dtype=np.int64).tobytes())
        digest.update("\n".join(self.labels).encode())
        return digest.hexdigest()[:16]


def check_dataset(ds: RawDataset) -> None:
    """Rejects datasets no model could learn from, with a message naming the source."""
    if len(ds.x) == 0:
        raise DataError(f"{ds.source}: no samples found")
    if len(ds.x) != len(ds.y):
        raise DataError(f"{ds.source}: {len(ds.x)} samples but {len(ds.y)} labels")
    if not np.issubdtype(ds.x.dtype, np.number):
        raise DataError(f"{ds.source}: samples have dtype {ds.x.dtype}; numbers are needed")
    if np.issubdtype(ds.x.dtype, np.floating) and not np.isfinite(ds.x).all():
        bad = int((~np.isfinite(ds.x)).reshape(len(ds.x), -1).any(axis=1).sum())
        raise DataError(f"{ds.source}: {bad} samples contain NaN or inf; clean or drop them")
    present = np.unique(ds.y)
    if len(present) < 2:
        only = ds.labels[int(present[0])] if len(present) else "none"
        raise DataError(
            f"{ds.source}: only one class ({only!r}) found; a classifier needs at least 2"
        )
    if present.min() < 0 or present.max() >= len(ds.labels):
        raise DataError(f"{ds.source}: labels must index 0..{len(ds.labels) - 1}")
