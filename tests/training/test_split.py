import numpy as np
import pytest

from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset
from edgecnn.training.data.sensors import load_sensor_csv
from edgecnn.training.data.split import SplitMethod, split_dataset
from edgecnn.training.data.synthetic import make_sensor_csv


def plain(n_per_class=20, classes=3):
    y = np.repeat(np.arange(classes), n_per_class)
    x = np.arange(len(y), dtype=np.float32)[:, None]
    return RawDataset(x=x, y=y, labels=tuple("abc"[:classes]), kind=DataKind.ARRAY, source="t")


def test_stratified_split_is_disjoint_complete_and_seeded():
    ds = plain()
    split = split_dataset(ds, seed=3)
    assert split.method == SplitMethod.STRATIFIED
    joined = np.concatenate([split.train, split.val, split.test])
    assert sorted(joined.tolist()) == list(range(60))
    assert all(np.bincount(ds.y[split.test]).tolist() == [3, 3, 3] for _ in range(1))
    again = split_dataset(ds, seed=3)
    assert np.array_equal(split.test, again.test)
    assert not np.array_equal(split.test, split_dataset(ds, seed=4).test)


def test_split_by_recording_keeps_each_recording_in_one_split(sensor_csv):
    ds = load_sensor_csv(sensor_csv, window=40, hop=20)
    split = split_dataset(ds, seed=0)
    assert split.method == SplitMethod.BY_RECORDING
    groups = [set(ds.groups[getattr(split, s)].tolist()) for s in ("train", "val", "test")]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert set(ds.y[split.test].tolist()) == {0, 1, 2}


def test_few_recordings_split_in_time_without_overlap(tmp_path):
    path = make_sensor_csv(tmp_path / "one.csv", recordings_per_class=1, samples_per_recording=400)
    ds = load_sensor_csv(path, window=20, hop=10)
    split = split_dataset(ds)
    assert split.method == SplitMethod.IN_TIME
    for group in np.unique(ds.groups):
        spans = {
            s: ds.spans[np.intersect1d(getattr(split, s), np.flatnonzero(ds.groups == group))]
            for s in ("train", "val", "test")
        }
        assert spans["train"][:, 1].max() <= spans["val"][:, 0].min() + 1e-9
        assert spans["val"][:, 1].max() <= spans["test"][:, 0].min() + 1e-9
    assert len(split.train) + len(split.val) + len(split.test) < len(ds.x)  # straddlers dropped


def test_too_few_samples_per_class():
    with pytest.raises(DataError, match="at least 3"):
        split_dataset(plain(n_per_class=2))


def test_bad_fractions():
    with pytest.raises(DataError, match="fractions"):
        split_dataset(plain(), val_fraction=0.6, test_fraction=0.5)
