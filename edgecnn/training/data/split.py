"""Seeded train/validation/test splits that never leak a recording across splits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edgecnn.core.errors import DataError
from edgecnn.core.records import Record
from edgecnn.training.data.dataset import RawDataset

MIN_GROUPS_PER_CLASS = 3


class SplitMethod(StrEnum):
    """How samples were assigned to splits."""

    STRATIFIED = "stratified"
    BY_RECORDING = "by-recording"
    IN_TIME = "in-time-within-recording"
    BY_SPEAKER = "by-speaker"


@dataclass(frozen=True)
class Split(Record):
    """Sample indices of each split and how they were chosen."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    method: SplitMethod
    seed: int

    def to_dict(self) -> dict:
        """The fields, with how it was chosen and the counts before the index lists."""
        counts = {"train": len(self.train), "val": len(self.val), "test": len(self.test)}
        first = {"method": self.method.value, "seed": self.seed, "counts": counts}
        return first | super().to_dict()  # the keys already in ``first`` keep their place


def split_dataset(
    ds: RawDataset, *, val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0
) -> Split:
    """Splits stratified by class; by recording when the data has recordings; by speaker
    for audio clips that name their speakers.

    With at least three recordings per class, whole recordings go to one split. With fewer,
    each recording is cut in time (first part train, then validation, then test) and windows
    that straddle a cut are dropped, so no sample is seen in two splits.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(
            f"validation ({val_fraction}) and test ({test_fraction}) fractions must be in (0, 1) "
            "and sum to less than 1"
        )
    rng = np.random.default_rng(seed)
    if ds.groups is not None and ds.info.get("speakers"):
        parts = _by_speaker(ds.groups, val_fraction, test_fraction, rng)
        method = SplitMethod.BY_SPEAKER
    elif ds.groups is None:
        parts = _stratified(ds.y, ds.labels, val_fraction, test_fraction, rng)
        method = SplitMethod.STRATIFIED
    elif _groups_per_class(ds).min() >= MIN_GROUPS_PER_CLASS:
        parts = _by_group(ds, val_fraction, test_fraction, rng)
        method = SplitMethod.BY_RECORDING
    else:
        parts = _in_time(ds, val_fraction, test_fraction)
        method = SplitMethod.IN_TIME
    train, val, test = (np.sort(p).astype(np.int64) for p in parts)
    _check_nonempty(ds, train, val, test, method)
    return Split(train=train, val=val, test=test, method=method, seed=seed)


def _counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    n_test = max(1, round(n * test_fraction))
    n_val = max(1, round(n * val_fraction))
    return n_val, n_test


def _stratified(y, labels, val_fraction, test_fraction, rng):
    train, val, test = [], [], []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        if len(idx) < 3:
            raise DataError(
                f"class {labels[cls]!r} has {len(idx)} sample(s); each class needs at least 3 "
                "(one each for training, validation and test)"
            )
        n_val, n_test = _counts(len(idx), val_fraction, test_fraction)
        test.append(idx[:n_test])
        val.append(idx[n_test : n_test + n_val])
        train.append(idx[n_test + n_val :])
    return np.concatenate(train), np.concatenate(val), np.concatenate(test)


def _group_classes(ds: RawDataset) -> dict[int, int]:
    """The majority class of each recording."""
    return {int(g): int(np.bincount(ds.y[ds.groups == g]).argmax()) for g in np.unique(ds.groups)}


def _groups_per_class(ds: RawDataset) -> np.ndarray:
    classes = np.asarray(list(_group_classes(ds).values()))
    return np.bincount(classes, minlength=len(np.unique(ds.y)))[np.unique(ds.y)]


def _by_group(ds, val_fraction, test_fraction, rng):
    owner = _group_classes(ds)
    picked: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for cls in sorted(set(owner.values())):
        groups = rng.permutation([g for g, c in owner.items() if c == cls])
        n_val, n_test = _counts(len(groups), val_fraction, test_fraction)
        picked["test"] += list(groups[:n_test])
        picked["val"] += list(groups[n_test : n_test + n_val])
        picked["train"] += list(groups[n_test + n_val :])
    return tuple(np.flatnonzero(np.isin(ds.groups, picked[k])) for k in ("train", "val", "test"))


def _by_speaker(groups, val_fraction, test_fraction, rng):
    """Whole speakers to one split each: every speaker says many words, so no class owns one."""
    speakers = rng.permutation(np.unique(groups))
    n_val, n_test = _counts(len(speakers), val_fraction, test_fraction)
    cuts = {"test": speakers[:n_test], "val": speakers[n_test : n_test + n_val]}
    cuts["train"] = speakers[n_test + n_val :]
    return tuple(np.flatnonzero(np.isin(groups, cuts[k])) for k in ("train", "val", "test"))


def _in_time(ds, val_fraction, test_fraction):
    start, end = ds.spans[:, 0], ds.spans[:, 1]
    val_at, test_at = 1 - val_fraction - test_fraction, 1 - test_fraction
    eps = 1e-9
    train = np.flatnonzero(end <= val_at + eps)
    val = np.flatnonzero((start >= val_at - eps) & (end <= test_at + eps))
    test = np.flatnonzero(start >= test_at - eps)
    return train, val, test


def _check_nonempty(ds, train, val, test, method):
    for name, idx in (("training", train), ("validation", val), ("test", test)):
        missing = sorted(set(range(len(ds.labels))) - set(ds.y[idx].tolist()))
        if missing and set(ds.y.tolist()) & set(missing):
            hint = (
                " (recordings are split in time: make them longer or the window shorter)"
                if method == SplitMethod.IN_TIME
                else ""
            )
            names = ", ".join(repr(ds.labels[m]) for m in missing if m in set(ds.y.tolist()))
            raise DataError(f"{ds.source}: the {name} split has no sample of {names}{hint}")
