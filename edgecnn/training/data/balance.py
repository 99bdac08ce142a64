"""Class balancing on the training split only."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import DataError


class Balance(StrEnum):
    """How to counter class imbalance."""

    NONE = "none"
    WEIGHTS = "weights"
    OVERSAMPLE = "oversample"
    UNDERSAMPLE = "undersample"
    SMOTE = "smote"


def class_weights(y: np.ndarray, num_classes: int) -> dict[int, float]:
    """Weights inversely proportional to class frequency, averaging 1 over samples."""
    counts = np.bincount(y, minlength=num_classes).astype(float)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return {i: float(w) for i, w in enumerate(weights)}


def resample(
    x: np.ndarray, y: np.ndarray, method: Balance, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Over- or under-samples (or SMOTEs) the training split; other methods return it as is."""
    if method in (Balance.NONE, Balance.WEIGHTS):
        return x, y
    if method == Balance.SMOTE:
        return _smote(x, y, seed)
    rng = np.random.default_rng(seed)
    counts = np.bincount(y)
    target = counts[counts > 0].max() if method == Balance.OVERSAMPLE else counts[counts > 0].min()
    picks = [
        rng.choice(np.flatnonzero(y == c), size=target, replace=counts[c] < target)
        for c in np.flatnonzero(counts)
    ]
    idx = rng.permutation(np.concatenate(picks))
    return x[idx], y[idx]


def _smote(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    over = optional.require("imblearn.over_sampling", extra="train", package="imbalanced-learn")
    smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
    if smallest < 2:
        raise DataError("SMOTE needs at least 2 training samples in every class; use oversample")
    sampler = over.SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
    flat, y_new = sampler.fit_resample(x.reshape(len(x), -1), y)
    return flat.reshape((-1, *x.shape[1:])).astype(np.float32), np.asarray(y_new, dtype=np.int64)
