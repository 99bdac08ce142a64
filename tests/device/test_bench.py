import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.device.bench import benchmark, sample_input
from edgecnn.device.interpreter import TFLiteModel
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"


def test_statistics_are_consistent():
    result = benchmark(INT8, runs=50, warmup=3, threads=1)
    assert result.runs == 50 and result.mode == "int8" and result.accuracy > 0.5
    assert result.min_ms <= result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms
    assert result.min_ms <= result.mean_ms <= result.max_ms
    assert result.init_ms > 0 and result.first_ms > 0 and result.peak_rss_bytes > 10_000_000
    assert result.inferences_per_s == pytest.approx(1000 / result.mean_ms, rel=0.01)


def test_sample_input_covers_the_int8_range():
    sample = sample_input(TFLiteModel(INT8))
    assert sample.dtype == np.int8 and sample.shape == (1, 8, 8, 1)
    assert sample.min() < -64 and sample.max() > 64


def test_bad_model_files(tmp_path):
    with pytest.raises(BadInputError, match="does not exist"):
        benchmark(tmp_path / "none.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(BadInputError, match="not a valid .tflite"):
        benchmark(junk)
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes(INT8.read_bytes()[:1000])
    with pytest.raises(BadInputError):
        benchmark(truncated)


def test_cli_json_rows_have_the_documented_keys():
    result = CliRunner().invoke(cli, ["benchmark", str(INT8), "--runs", "5", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    for key in ("path", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "init_ms", "peak_rss_bytes"):
        assert key in row


def test_cli_table_and_bad_file(tmp_path):
    result = CliRunner().invoke(cli, ["benchmark", str(INT8), "--runs", "5"])
    assert result.exit_code == 0 and "p50" in result.output and "int8" in result.output
    missing = CliRunner().invoke(cli, ["benchmark", str(tmp_path / "x.tflite")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_cli_adds_board_estimate_columns():
    args = ["benchmark", str(INT8), "--runs", "5", "--board", "rpi-5", "--board", "rpi-pico"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "est rpi-5" in table.output
    result = CliRunner().invoke(cli, [*args, "--json"])
    (row,) = json.loads(result.stdout)
    assert set(row["estimates"]) == {"rpi-5", "rpi-pico"}
    assert row["estimates"]["rpi-pico"]["latency_ms"] > row["estimates"]["rpi-5"]["latency_ms"]
