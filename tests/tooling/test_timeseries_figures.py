"""The pure parts of benchmarks/timeseries_figures.py: padding and the sensor-CSV export.

The figure script compares edgecnn with MiniRocket on windows it exported itself, so the
export must give edgecnn exactly the windows MiniRocket gets: read back through edgecnn's
own sensor CSV loader, one window per series, padded as the script says.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from edgecnn.training.data.sensors import load_sensor_csv
from tests.testkit import BENCHMARKS, script_module

SCRIPT = BENCHMARKS / "timeseries_figures.py"

@pytest.fixture(scope="module")
def figures():
    """The script as a module (benchmarks/ is not a package)."""
    with script_module(SCRIPT, "timeseries_figures") as module:
        yield module


def _fake_set() -> tuple[list[np.ndarray], np.ndarray]:
    """aeon's variable-length layout: a list of (channels, length) series, lengths 3 to 6."""
    rng = np.random.default_rng(0)
    lengths = [3, 6, 4, 5, 6, 3, 4, 5]
    series = [rng.normal(size=(2, n)) for n in lengths]
    return series, np.asarray(["b", "a"] * 4)


def test_variable_length_series_are_padded_at_the_end_with_their_last_value(figures):
    series, _ = _fake_set()
    padded = figures.pad_series(series)
    assert padded.shape == (8, 6, 2)  # (series, longest length, channels)
    first = series[0]  # length 3: samples 3..5 repeat sample 2 of each channel
    np.testing.assert_array_equal(padded[0, :3], first.T)
    np.testing.assert_array_equal(padded[0, 3:], np.repeat(first[:, -1:].T, 3, axis=0))
    np.testing.assert_array_equal(padded[1], series[1].T)  # full length: unchanged


def test_zero_padding_leaves_the_step_that_marks_the_end(figures):
    series, _ = _fake_set()
    padded = figures.pad_series(series, "zero")
    np.testing.assert_array_equal(padded[0, :3], series[0].T)
    assert not padded[0, 3:].any() and padded.shape == (8, 6, 2)


def test_equal_length_array_is_only_made_channel_last(figures):
    x = np.arange(24, dtype=float).reshape(3, 2, 4)  # aeon's (series, channels, length)
    np.testing.assert_array_equal(figures.pad_series(x), x.transpose(0, 2, 1))


def test_exported_csv_reads_back_as_the_same_windows(figures, tmp_path):
    series, labels = _fake_set()
    windows = figures.pad_series(series)
    path = figures.write_sensor_csv(tmp_path / "fake.csv", windows, labels)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["segment", "t", "c0", "c1", "label"]
    assert len(rows) == 1 + 8 * 6  # every padded sample is a row
    assert [r[1] for r in rows[1:7]] == ["0", "1", "2", "3", "4", "5"]  # t = sample index
    ds = load_sensor_csv(path, window=6, hop=6)
    assert ds.info["channels"] == ["c0", "c1"] and ds.info["recordings"] == 8
    np.testing.assert_array_equal(ds.groups, np.arange(8))  # one window per series, in order
    np.testing.assert_array_equal(ds.x, windows.astype(np.float32))
    assert [ds.labels[i] for i in ds.y] == labels.tolist()
