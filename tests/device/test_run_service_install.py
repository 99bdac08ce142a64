"""``edgecnn service install`` refuses, at install time, what ``edgecnn run`` would refuse."""


import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from tests.testkit import FIXTURES

IMU = FIXTURES / "imu-cnn1d-int8.tflite"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "stdin", "--rate", "-5"], "--rate"),
        (["--source", "stdin", "--min-interval", "-1"], "--min-interval"),
        (["--source", "stdin", "--metrics-every", "-1"], "--metrics-every"),
        (["--source", "stdin", "--threshold", "2"], "--threshold"),
        (["--source", "replay:{d}/missing.csv"], "does not exist"),
        (["--source", "replay:{d}/x.npz?rate=abc"], "rate='abc'"),
        (["--source", "ftp:x"], "not understood"),
        (["--source", "dir:{d}"], "not images"),
        (["--source", "stdin", "--sink", "ftp://host/x"], "is not understood"),
        (["--source", "stdin", "--sink", "jsonl:"], "is not understood"),
        (["--source", "stdin", "--sink", "mqtt:///topic"], "needs a host"),
        (["--source", "stdin", "--sink", "http://u:pw@host:port/x"], "port"),
        (["--source", "stdin", "--sink", "mqtt://h/t?max_records=lots"], "max_records"),
        (["--source", "stdin", "--sink", "gpio:x"], "is not understood"),
    ],
)
def test_install_refuses_what_run_would_refuse_and_writes_nothing(tmp_path, args, message):
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 32, 3), np.float32))
    out = tmp_path / "units"
    words = [w.format(d=tmp_path) for w in args]
    result = CliRunner().invoke(cli, ["service", "install", str(IMU), *words, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("edgecnn: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not out.exists()


def test_install_accepts_what_run_accepts(tmp_path):
    out = tmp_path / "units"
    args = ["--source", "stdin", "--smooth", "3", "--rate", "0", "--out", str(out)]
    result = CliRunner().invoke(cli, ["service", "install", str(IMU), *args])
    assert result.exit_code == 0, result.output
    assert (out / "edgecnn-imu-cnn1d-int8.service").is_file()


def test_install_refuses_a_damaged_bundle(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(IMU.read_bytes())
    model.with_suffix(".json").write_text(IMU.with_suffix(".json").read_text())
    model.write_bytes(model.read_bytes()[:-1] + b"\x00")
    result = CliRunner().invoke(
        cli, ["service", "install", str(model), "--source", "stdin", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "does not match its manifest" in result.stderr
    assert not list(tmp_path.glob("*.service"))


@pytest.mark.parametrize("out", ["afile", "afile/units", "afile/u.service", "adir.service"])
def test_install_out_that_is_a_file_where_a_folder_is_needed_is_one_line(tmp_path, out):
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "adir.service").mkdir()
    args = ["--source", "stdin", "--out", str(tmp_path / out)]
    result = CliRunner().invoke(cli, ["service", "install", str(IMU), *args])
    if out == "adir.service":  # an existing folder is a folder, whatever its name
        assert result.exit_code == 0, result.output
        assert (tmp_path / out / "edgecnn-imu-cnn1d-int8.service").is_file()
        return
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("edgecnn: error: --out ") and result.stderr.count("\n") == 1
    assert f"{tmp_path / 'afile'} is a file" in result.stderr
    assert (tmp_path / "afile").read_text() == "keep me"
