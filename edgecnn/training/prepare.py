"""Turns a data source into the split, preprocessed arrays a training run needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.errors import BadInputError, DataError
from edgecnn.core.preprocess import DataKind, Preprocessing, channel_stats
from edgecnn.core.shapes import format_shape
from edgecnn.training.data.dataset import RawDataset
from edgecnn.training.data.sources import load_data
from edgecnn.training.data.split import Split, split_dataset
from edgecnn.training.rundir import (
    DAMAGED,
    SPLITS,
    RunDir,
    SplitArrays,
    load_labels,
    load_preprocessing,
    load_split_arrays,
    read_object,
    save_split_arrays,
)
from edgecnn.training.trainconfig import TrainConfig


@dataclass(frozen=True)
class PreparedData:
    """Split raw arrays, class names and the preprocessing fitted on the training split."""

    arrays: SplitArrays
    labels: tuple[str, ...]
    preprocessing: Preprocessing
    description: dict
    split: dict

    @property
    def num_classes(self) -> int:
        """How many classes the model predicts."""
        return len(self.labels)

    def inputs(self, split: str) -> np.ndarray:
        """Model input (preprocessed float32) of one split."""
        return self.preprocessing.apply(self.arrays.x[split])

    def groups(self, split: str) -> np.ndarray | None:
        """The recording id of each sample of one split, or None without recordings."""
        groups = self.split.get("groups")
        return None if not isinstance(groups, dict) else np.asarray(groups[split], dtype=np.int64)


def prepare_data(config: TrainConfig) -> PreparedData:
    """Loads, checks, splits and fits normalization statistics on the training split."""
    ds = load_data(config.data, config.data_options)
    wanted = config.data_options.input_shape
    if wanted and ds.kind == DataKind.AUDIO:
        raise DataError(
            f"{ds.source}: audio clips become the front end's features; --input-shape "
            f"{format_shape(wanted)} does not apply (set the features with --audio-features)"
        )
    if wanted and tuple(wanted) != ds.sample_shape:
        raise DataError(
            f"{ds.source}: samples are shaped {format_shape(ds.sample_shape)} but --input-shape "
            f"is {format_shape(wanted)}; only image folders are resized (omit it to use the "
            "data's own shape)"
        )
    split = split_dataset(
        ds, val_fraction=config.val_fraction, test_fraction=config.test_fraction, seed=config.seed
    )
    arrays = SplitArrays(
        x={s: ds.x[getattr(split, s)] for s in SPLITS},
        y={s: ds.y[getattr(split, s)] for s in SPLITS},
        background=ds.background,
    )
    return PreparedData(
        arrays=arrays,
        labels=ds.labels,
        preprocessing=fit_preprocessing(ds, split.train),
        description=_describe(ds, split),
        split=split.to_dict() | _split_groups(ds, split),
    )


def _split_groups(ds: RawDataset, split: Split) -> dict:
    """The recording id of each sample per split, for recording-level accuracy later.

    Audio clips' groups are speakers, not recordings: they are not recorded.
    """
    if ds.groups is None or ds.kind == DataKind.AUDIO:
        return {}
    return {"groups": {s: ds.groups[getattr(split, s)].tolist() for s in SPLITS}}


def fit_preprocessing(ds: RawDataset, train_idx: np.ndarray) -> Preprocessing:
    """Images keep their natural scale; sensor and plain arrays are standardized per channel.

    Statistics come from the training split only, so nothing of the test split leaks in.
    """
    info = ds.info
    audio = AudioFrontEnd.from_dict(info["audio"]) if info.get("audio") else None
    base = Preprocessing(
        kind=ds.kind,
        input_shape=audio.feature_shape if audio else ds.sample_shape,
        scale=ds.scale,
        color_mode=info.get("color_mode"),
        resize=info.get("resize"),
        channels=tuple(info["channels"]) if info.get("channels") else None,
        window=info.get("window"),
        hop=info.get("hop"),
        sample_rate_hz=info.get("sample_rate_hz"),
        audio=audio,
    )
    if ds.kind == DataKind.IMAGE:
        return base
    train = base.apply(ds.x[train_idx]) if audio else ds.x[train_idx]
    mean, std = channel_stats(train, scale=ds.scale, offset=0.0)
    return base.with_stats(mean, std)


def _describe(ds: RawDataset, split: Split) -> dict:
    return {
        "source": ds.source,
        "fingerprint": ds.fingerprint(),
        "kind": str(ds.kind),
        "sample_shape": list(ds.sample_shape),
        "samples": len(ds.x),
        "class_counts": {label: int((ds.y == i).sum()) for i, label in enumerate(ds.labels)},
        "split_method": str(split.method),
        "split_counts": {s: len(getattr(split, s)) for s in SPLITS},
        "info": ds.info,
    }


def save_prepared(run: RunDir, prepared: PreparedData) -> None:
    """Writes the split arrays, sample indices, labels and preprocessing."""
    save_split_arrays(run, prepared.arrays)
    fileio.write_json(run.split, prepared.split)
    fileio.write_text(run.labels, "\n".join(prepared.labels) + "\n")
    fileio.write_json(run.preprocessing, prepared.preprocessing.to_dict())


def load_prepared(run: RunDir, description: dict) -> PreparedData:
    """Reads back what :func:`save_prepared` wrote (for resuming and later steps).

    Raises:
        BadInputError: a file is damaged, or the files do not agree with each other.
    """
    prepared = PreparedData(
        arrays=load_split_arrays(run),
        labels=tuple(load_labels(run)),
        preprocessing=load_preprocessing(run),
        description=description,
        split=read_object(run.split),
    )
    _check_agree(run, prepared)
    return prepared


def _check_agree(run: RunDir, prepared: PreparedData) -> None:
    """The split's indices, the arrays, the labels and the input shape must fit together."""
    classes = len(prepared.labels)
    for s in SPLITS:
        x, y, indices = prepared.arrays.x[s], prepared.arrays.y[s], prepared.split.get(s)
        if not isinstance(indices, list) or len(indices) != len(y):
            count = len(indices) if isinstance(indices, list) else indices
            raise BadInputError(
                f"{run.split}: split {s!r} lists {count!r} samples but {run.data.name} holds "
                f"{len(y)}; {DAMAGED}"
            )
        if x.shape[1:] != prepared.preprocessing.raw_shape:
            raise BadInputError(
                f"{run.data}: {s} samples are shaped {format_shape(x.shape[1:])} but "
                f"{run.preprocessing.name} says "
                f"{format_shape(prepared.preprocessing.raw_shape)}; {DAMAGED}"
            )
        groups = prepared.split.get("groups")
        if groups is not None and (
            not isinstance(groups, dict) or len(groups.get(s) or ()) != len(y)
        ):
            raise BadInputError(
                f"{run.split}: the recording ids of split {s!r} do not match its {len(y)} "
                f"samples; {DAMAGED}"
            )
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise BadInputError(
                f"{run.data}: {s} labels run from class {y.min()} to {y.max()} but "
                f"{run.labels} names {classes} classes; {DAMAGED}"
            )
