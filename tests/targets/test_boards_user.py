"""Board values, the user's board folder (EDGECNN_BOARDS) and where a refit is stored."""

import os

import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.targets import costmodel
from edgecnn.targets.boards import get_board, load_board_file
from edgecnn.targets.costmodel import COST_MODEL_PATH, load_coefficients
from edgecnn.targets.estimate import estimate
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"
GOOD = """
id = "my-board"
name = "Mine"
kind = "linux"
runtime = "litert"
kernels = "xnnpack"
[cpu]
core = "Cortex-A72"
clock_mhz = 1500
cores = 4
[memory]
ram_kib = 1024
flash_kib = 2048
[[measured]]
model = "m"
rebuild = "zoo m"
dtype = "int8"
runtime = "x"
threads = 4
latency_ms = 5.0
source = "test"
"""


def write_board(folder, text=GOOD, name="my-board"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    """A fresh user config folder; no EDGECNN_BOARDS."""
    monkeypatch.delenv("EDGECNN_BOARDS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "edgecnn"


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("clock_mhz = 1500", "clock_mhz = 0", r"'cpu.clock_mhz' is 0; it must be greater than 0"),
        ("clock_mhz = 1500", "clock_mhz = -5.0", r"'cpu.clock_mhz' is -5.0; it must be greater"),
        ("clock_mhz = 1500", "clock_mhz = nan", r"'cpu.clock_mhz' is nan; it must be greater"),
        ("cores = 4", "cores = 0", r"'cpu.cores' is 0; it must be at least 1"),
        ("cores = 4", "cores = -2", r"'cpu.cores' is -2; it must be at least 1"),
        ("ram_kib = 1024", "ram_kib = -1", r"'memory.ram_kib' is -1; it must be greater than 0"),
        ("ram_kib = 1024", "ram_kib = 0", r"'memory.ram_kib' is 0; it must be greater than 0"),
        ("flash_kib = 2048", "flash_kib = -4", r"'memory.flash_kib' is -4; it must be greater"),
        ("latency_ms = 5.0", "latency_ms = 0", r"'measured\[0\].latency_ms' is 0; it must be"),
        ("threads = 4", "threads = 0", r"'measured\[0\].threads' is 0; it must be at least 1"),
    ],
)
def test_impossible_board_values_are_refused_with_file_key_and_value(tmp_path, old, new, message):
    path = write_board(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BadInputError, match=message) as refused:
        load_board_file(path)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize("verb", ["estimate", "benchmark"])
def test_a_zero_clock_is_one_line_and_exit_2(tmp_path, monkeypatch, verb):
    """Before: ZeroDivisionError traceback (exit 1) in estimate and benchmark --board."""
    write_board(tmp_path / "boards", GOOD.replace("clock_mhz = 1500", "clock_mhz = 0"))
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path / "boards"))
    runs = ["--runs", "1"] if verb == "benchmark" else []
    args = [verb, str(INT8), "--board", "my-board", *runs]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "my-board.toml" in result.stderr and "clock_mhz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_a_board_folder_that_is_not_a_folder_is_refused(tmp_path, monkeypatch, kind):
    """Before: a missing EDGECNN_BOARDS folder was silently ignored."""
    folder = tmp_path / "boards"
    if kind == "a file":
        folder.write_text("")
    monkeypatch.setenv("EDGECNN_BOARDS", str(folder))
    result = CliRunner().invoke(cli, ["estimate", str(INT8), "--board", "rpi-4b"])
    assert result.exit_code == 2, result.output
    assert "EDGECNN_BOARDS" in result.stderr and str(folder) in result.stderr
    assert "not a folder" in result.stderr


def test_a_broken_file_in_the_board_folder_is_reported_when_the_folder_is_used(
    tmp_path, monkeypatch
):
    """Before: estimate on a shipped board ignored the broken user file silently."""
    folder = tmp_path / "boards"
    write_board(folder)
    write_board(folder, "id = 'broken'\n[cpu\n", name="broken")
    monkeypatch.setenv("EDGECNN_BOARDS", str(folder))
    result = CliRunner().invoke(cli, ["estimate", str(INT8), "--board", "rpi-4b"])
    assert result.exit_code == 2 and "broken.toml" in result.stderr, result.output
    (folder / "broken.toml").unlink()
    assert get_board("my-board").cores == 4 and estimate(INT8, boards=["rpi-4b"])[0].fits


def test_calibrate_writes_to_the_user_folder_and_estimate_reads_it(user_config):
    """Before: the refit was written into the package (site-packages on a wheel install)."""
    shipped = COST_MODEL_PATH.read_bytes(), os.stat(COST_MODEL_PATH).st_mtime_ns
    result = CliRunner().invoke(cli, ["boards", "calibrate"])
    assert result.exit_code == 0, result.output
    refit = user_config / "cost-model.json"
    assert refit.is_file() and f"stored {refit}" in result.output
    assert (COST_MODEL_PATH.read_bytes(), os.stat(COST_MODEL_PATH).st_mtime_ns) == shipped
    assert costmodel.cost_model_path() == refit
    (before,) = estimate(INT8, boards=["rpi-4b"])
    data = fileio.read_json(refit)
    data["coefficients"]["groups"]["Cortex-A72|int8"] /= 2  # the user's refit wins
    fileio.write_json(refit, data)
    (after,) = estimate(INT8, boards=["rpi-4b"])
    assert after.latency_ms > before.latency_ms


def test_calibrate_with_a_board_folder_stores_the_refit_there(tmp_path, monkeypatch, user_config):
    folder = tmp_path / "boards"
    write_board(folder)
    monkeypatch.setenv("EDGECNN_BOARDS", str(folder))
    result = CliRunner().invoke(cli, ["boards", "calibrate"])
    assert result.exit_code == 0, result.output
    assert (folder / "cost-model.json").is_file() and not user_config.exists()


def test_a_damaged_refit_is_one_line(user_config):
    user_config.mkdir(parents=True)
    (user_config / "cost-model.json").write_text('{"coefficients": {"groups": ')
    with pytest.raises(BadInputError, match="cost-model.json.*calibrate"):
        load_coefficients()
    fileio.write_json(user_config / "cost-model.json", {"coefficients": {"groups": {"x": 0}}})
    with pytest.raises(BadInputError, match="cost-model.json"):
        load_coefficients()
    result = CliRunner().invoke(cli, ["boards", "calibrate"])  # what the message advises
    assert result.exit_code == 0, result.output
    assert load_coefficients().groups == pytest.approx(load_coefficients(COST_MODEL_PATH).groups)
