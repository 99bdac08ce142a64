"""``replay:FILE.csv`` reads true labels and recordings from the columns training used."""

import csv
import json
from pathlib import Path

import pytest

from edgecnn.core.manifest import load_manifest
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.io.sources import CsvReplay
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from edgecnn.optimize.quantize import quantize
from edgecnn.training.data.sensors import CsvColumns, load_sensor_csv
from edgecnn.training.data.sources import DataOptions
from edgecnn.training.data.synthetic import make_sensor_csv
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig
from tests.testkit import FIXTURES


def renamed_csv(path: Path, names: dict[str, str]) -> Path:
    """The synthetic IMU CSV with its header columns renamed."""
    make_sensor_csv(path, recordings_per_class=2, samples_per_recording=160)
    rows = list(csv.reader(path.open(newline="")))
    rows[0] = [names.get(name, name) for name in rows[0]]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.mark.slow
def test_custom_label_and_segment_columns_reach_the_manifest_and_the_replay(tmp_path):
    data = renamed_csv(tmp_path / "imu.csv", {"label": "activity", "segment": "take"})
    options = DataOptions(window=16, hop=8, label_column="activity", segment_column="take")
    config = TrainConfig(data=str(data), model="cnn1d", epochs=1, data_options=options)
    train(config, out=tmp_path / "run", log=lambda _line: None)
    (variant,) = quantize(tmp_path / "run", modes=["fp32"]).variants
    pre = load_manifest(variant.path).preprocessing
    assert (pre.label_column, pre.segment_column) == ("activity", "take")

    summary = run(variant.path, source=f"replay:{data}", sinks=(),
                  options=RunOptions(rate_hz=0), log=lambda _line: None)  # fmt: skip
    trained = load_sensor_csv(data, window=16, hop=8, columns=CsvColumns("activity", "take"))
    # Windows restart at each recording (as in training) and each one has its true label.
    assert summary.windows == summary.labelled == len(trained.x)


def test_a_manifest_without_the_columns_keeps_label_and_segment(tmp_path):
    manifest = json.loads((FIXTURES / "imu-cnn1d-int8.json").read_text())
    pre = Preprocessing.from_dict(manifest["preprocessing"])
    assert pre.label_column is None and pre.segment_column is None
    path = tmp_path / "r.csv"
    path.write_text("segment,label,ax,ay,az\na,walk,1,2,3\na,walk,1,2,3\nb,idle,1,2,3\n")
    items = list(CsvReplay(path, pre, rate_hz=0))
    assert [(i.label, i.new_recording) for i in items] == [
        ("walk", False), ("walk", False), ("idle", True)
    ]
