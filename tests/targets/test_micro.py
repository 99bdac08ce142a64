import numpy as np
import pytest

from edgecnn.core.modes import Mode
from edgecnn.optimize.convert import convert
from edgecnn.targets.boardcheck import check_on_board
from edgecnn.targets.boards import get_board
from edgecnn.targets.micro import check_micro
from edgecnn.training.models.registry import build_model


@pytest.fixture(scope="module")
def variants():
    model = build_model("dscnn", input_shape=(16, 8, 1), num_classes=3, seed=0)
    calibration = np.random.default_rng(0).normal(size=(20, 16, 8, 1)).astype(np.float32)
    return {
        m: convert(model, m, calibration=calibration)
        for m in (Mode.INT8, Mode.DYNAMIC, Mode.FP16, Mode.FP32)
    }


@pytest.mark.slow
def test_arena_is_the_smallest_that_really_allocates(variants):
    from tflite_micro.python.tflite_micro import runtime

    check = check_micro(variants[Mode.INT8])
    assert check.ok and check.arena_bytes > 0
    runtime.Interpreter.from_bytes(variants[Mode.INT8], arena_size=check.arena_bytes)
    with pytest.raises(RuntimeError):
        runtime.Interpreter.from_bytes(variants[Mode.INT8], arena_size=check.arena_bytes - 16)


@pytest.mark.slow
def test_hybrid_and_fp16_models_are_refused_with_a_reason(variants):
    assert "hybrid" in check_micro(variants[Mode.DYNAMIC]).problem
    assert "float16" in check_micro(variants[Mode.FP16]).problem


@pytest.mark.slow
def test_board_verdicts(variants):
    nano, pi = get_board("arduino-nano-33-ble-sense"), get_board("rpi-zero-2w")
    int8 = check_on_board(variants[Mode.INT8], mode="int8", board=nano)
    assert int8.fits and int8.ram_margin_bytes == nano.ram_bytes - int8.arena_bytes
    dynamic = check_on_board(variants[Mode.DYNAMIC], mode="dynamic", board=nano)
    assert not dynamic.fits and "hybrid" in dynamic.reason
    fp32 = check_on_board(variants[Mode.FP32], mode="fp32", board=nano)
    assert not fp32.fits and "int8" in fp32.reason
    assert check_on_board(variants[Mode.DYNAMIC], mode="dynamic", board=pi).fits


@pytest.mark.slow
def test_arena_larger_than_ram_does_not_fit(variants, tmp_path, monkeypatch):
    tiny = tmp_path / "tiny-mcu.toml"
    tiny.write_text(
        'id = "tiny-mcu"\nname = "t"\nkind = "mcu"\nruntime = "tflm"\nkernels = "reference"\n'
        '[cpu]\ncore = "M0"\nclock_mhz = 48\ncores = 1\n[memory]\nram_kib = 1\nflash_kib = 4\n'
    )
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path))
    check = check_on_board(variants[Mode.INT8], mode="int8", board=get_board("tiny-mcu"))
    assert not check.fits and "exceeds" in check.reason and check.ram_margin_bytes < 0
