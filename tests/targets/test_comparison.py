"""compare_models: the benchmark table's rows from Python, without the CLI."""


import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.device.doctor import EMULATION_ENV
from edgecnn.targets.comparison import compare_models
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"
FP32 = FIXTURES / "digits-lenet5-fp32.tflite"


def test_rows_in_order_with_an_estimate_per_board(monkeypatch):
    monkeypatch.delenv(EMULATION_ENV, raising=False)
    lines = []
    comparison = compare_models(
        [INT8, FP32], runs=3, warmup=0, boards=["rpi-5", "rpi-pico"], log=lines.append
    )
    assert [r.bench.mode for r in comparison.rows] == ["int8", "fp32"]
    assert comparison.boards == ("rpi-5", "rpi-pico") and comparison.remote is None
    assert set(comparison.rows[0].estimates) == {"rpi-5", "rpi-pico"}
    assert comparison.rows[0].estimates["rpi-5"].latency_ms > 0
    rows = comparison.to_list()
    assert rows[0]["estimates"]["rpi-pico"].keys() == {"latency_ms", "fits"}
    assert rows[1]["runs"] == 3 and lines == []


def test_no_boards_no_estimates_and_the_emulation_note(monkeypatch):
    monkeypatch.setenv(EMULATION_ENV, "qemu-aarch64")
    lines = []
    comparison = compare_models([INT8], runs=2, warmup=0, log=lines.append)
    assert comparison.to_list()[0]["estimates"] == {}
    assert len(lines) == 1 and "running under emulation (qemu-aarch64)" in lines[0]


def test_remote_edgecnn_needs_remote():
    with pytest.raises(BadInputError, match="--remote-edgecnn needs --remote"):
        compare_models([INT8], remote_edgecnn="~/.venv/bin/edgecnn")
