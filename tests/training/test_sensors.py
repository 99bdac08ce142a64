import numpy as np
import pytest

from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.sensors import CsvColumns, load_sensor_csv


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_windows_from_generated_csv(sensor_csv):
    ds = load_sensor_csv(sensor_csv, window=50, hop=25)
    # 12 recordings of 200 rows: (200 - 50) / 25 + 1 = 7 windows each
    assert ds.x.shape == (84, 50, 3) and ds.kind == DataKind.SENSOR
    assert ds.labels == ("idle", "shake", "walk")
    assert ds.info["channels"] == ["ax", "ay", "az"]  # time/segment/label are not channels
    assert ds.info["sample_rate_hz"] == pytest.approx(50.0)
    assert len(np.unique(ds.groups)) == 12


def test_windows_never_cross_segments(tmp_path):
    rows = [[i, "s1" if i < 5 else "s2", "a" if i < 5 else "b"] for i in range(10)]
    path = write_csv(tmp_path / "s.csv", ["v", "segment", "label"], rows)
    ds = load_sensor_csv(path, window=3, hop=1)
    # each segment of 5 rows gives 3 windows; none mixes rows 0-4 with 5-9
    assert len(ds.x) == 6
    for window, group in zip(ds.x[:, :, 0], ds.groups, strict=True):
        assert (window < 5).all() if group == 0 else (window >= 5).all()


def test_without_segment_column_label_runs_are_recordings(tmp_path):
    rows = [[i, "a" if i < 6 or i >= 12 else "b"] for i in range(18)]
    ds = load_sensor_csv(write_csv(tmp_path / "r.csv", ["v", "label"], rows), window=4, hop=2)
    assert len(np.unique(ds.groups)) == 3
    assert all(len(set(ds.y[ds.groups == g])) == 1 for g in np.unique(ds.groups))


def test_majority_label_inside_a_recording(tmp_path):
    rows = [[i, "r", "a" if i < 3 else "b"] for i in range(8)]
    ds = load_sensor_csv(
        write_csv(tmp_path / "m.csv", ["v", "segment", "label"], rows), window=4, hop=4
    )
    assert [ds.labels[c] for c in ds.y] == ["a", "b"]


def test_custom_columns(tmp_path):
    rows = [[i, i * 2, "x" if i < 10 else "y", f"r{i // 10}"] for i in range(20)]
    path = write_csv(tmp_path / "c.csv", ["ms", "v", "cls", "rec"], rows)
    ds = load_sensor_csv(path, window=5, columns=CsvColumns("cls", "rec", "ms"))
    assert ds.info["channels"] == ["v"] and ds.labels == ("x", "y")


@pytest.mark.parametrize(
    "header, rows, message",
    [
        (["v", "cls"], [[1, "a"]], "no column 'label'"),
        (["v", "label"], [[1, "a"], ["oops", "b"]], "'oops' is not a number"),
        (["v", "label"], [[1, "a"], ["nan", "b"]], "NaN or inf"),
        (["v", "label"], [[1, "a"], [2]], "1 fields"),
        (["label"], [["a"]], "no sensor channel"),
        (["v", "label"], [[1, "a"], [2, "b"]], "fewer samples than a window"),
    ],
)
def test_bad_csv(tmp_path, header, rows, message):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(DataError, match=message):
        load_sensor_csv(path, window=4)


def test_missing_named_segment_column(sensor_csv):
    with pytest.raises(DataError, match="--segment-column"):
        load_sensor_csv(sensor_csv, window=8, columns=CsvColumns(segment="session"))


def test_a_csv_that_is_not_utf8_is_one_line_naming_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"v,label\n1,a\n2,caf\xe9\n")
    with pytest.raises(DataError, match=r"latin1.csv is not UTF-8 text: byte 0xe9 on line 3"):
        load_sensor_csv(path, window=1, hop=1)


@pytest.mark.parametrize("value", ["1_0", "\uff11"])
def test_csv_numbers_for_training_are_plain_ascii_decimals(tmp_path, value):
    path = tmp_path / "s.csv"
    path.write_text(f"v,label\n1,a\n{value},a\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3, column 'v'.*is not a number"):
        load_sensor_csv(path, window=1, hop=1)
