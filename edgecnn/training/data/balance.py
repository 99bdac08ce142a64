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
    """Over- or under-samples (or SMOTEs) the training split; other methods return it as is.

    Random over- and under-sampling are imbalanced-learn's: every class is brought to the
    largest (oversample: every sample kept, extra ones drawn with replacement) or smallest
    (undersample: drawn without replacement) class count. The result is shuffled so that
    batches do not come class by class.
    """
    if method in (Balance.NONE, Balance.WEIGHTS):
        return x, y
    if method == Balance.SMOTE:
        return _smote(x, y, seed)
    picks = _random_picks(y, method, seed)
    idx = np.random.default_rng(seed).permutation(picks)
    return x[idx], y[idx]


def _random_picks(y: np.ndarray, method: Balance, seed: int) -> np.ndarray:
    """Indices of the training samples to keep, each as often as it is drawn."""
    if np.count_nonzero(np.bincount(y)) < 2:  # imbalanced-learn refuses a single class
        return np.arange(len(y))
    if method == Balance.OVERSAMPLE:
        sampler = _imblearn("over_sampling").RandomOverSampler(random_state=seed)
    else:
        sampler = _imblearn("under_sampling").RandomUnderSampler(random_state=seed)
    # Sample indices rather than the arrays: any sample shape and dtype, and no copy of x.
    picked, _ = sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), y)
    return picked.ravel()


def _imblearn(module: str):
    return optional.require(f"imblearn.{module}", extra="train", package="imbalanced-learn")


def _smote(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    over = _imblearn("over_sampling")
    smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
    if smallest < 2:
        raise DataError("SMOTE needs at least 2 training samples in every class; use oversample")
    sampler = over.SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
    flat, y_new = sampler.fit_resample(x.reshape(len(x), -1), y)
    return flat.reshape((-1, *x.shape[1:])).astype(np.float32), np.asarray(y_new, dtype=np.int64)
