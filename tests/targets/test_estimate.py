import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.modes import Mode
from edgecnn.costfit.boardfit import calibrate
from edgecnn.costfit.fit import fit
from edgecnn.device import opgraph
from edgecnn.device.interpreter import interpreter_class, without_delegates
from edgecnn.optimize.convert import convert
from edgecnn.targets.boards import get_board
from edgecnn.targets.costmodel import COST_MODEL_PATH, Coefficients, group_key, latency_ms
from edgecnn.targets.estimate import estimate
from edgecnn.targets.graph import read_graph
from edgecnn.targets.micro import check_micro
from edgecnn.training.models.registry import build_model
from edgecnn.training.summary import summarize
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"


def interpreter_for(data: bytes):
    interpreter = interpreter_class()(model_content=data, **without_delegates())
    interpreter.allocate_tensors()
    return interpreter


@pytest.mark.slow
@pytest.mark.parametrize(
    "family, shape",
    [
        ("resnet8", (32, 32, 3)),
        ("dscnn", (49, 10, 1)),
        ("mobilenet_v1", (32, 32, 3)),
        ("inception_tiny", (16, 16, 3)),
        ("densenet_tiny", (16, 16, 3)),
        ("cnn1d", (64, 3)),
        ("inception1d", (24, 3)),
        ("lenet5", (28, 28, 1)),
    ],
)
def test_tflite_macs_per_op_equal_the_keras_count(family, shape):
    """Also: the ops read from the flatbuffer are the ones LiteRT's interpreter lists.

    int8 for every family (its graph has the most ops to account for); fp32 for two, as
    each conversion costs seconds."""
    model = build_model(family, input_shape=shape, num_classes=5, seed=0)
    calibration = np.random.default_rng(0).random((4, *shape), dtype=np.float32)
    modes = (Mode.FP32, Mode.INT8) if family in ("cnn1d", "lenet5") else (Mode.INT8,)
    for mode in modes:
        data = convert(model, mode, calibration=calibration)
        graph = read_graph(data)
        assert graph.macs == summarize(model).total_macs, (family, mode)
        from_interpreter = opgraph.ops_from_interpreter(interpreter_for(data))
        assert opgraph.read_ops(data) == from_interpreter, (family, mode)


def test_estimate_on_linux_and_mcu_boards():
    pi, nano = estimate(INT8, boards=["rpi-4b", "arduino-nano-33-ble-sense"])
    assert pi.latency_ms > 0 and pi.threads == 4 and pi.arena_bytes is None and pi.fits
    assert pi.basis.startswith("fitted on rpi-4b")
    assert nano.arena_bytes == check_micro(INT8.read_bytes()).arena_bytes
    assert nano.flash_bytes > INT8.stat().st_size and nano.fits
    assert nano.latency_ms == pytest.approx(sum(op.latency_ms for op in nano.ops), abs=1e-2)
    assert nano.latency_ms > 10 * pi.latency_ms


def test_fewer_threads_are_slower_and_a_faster_clock_is_faster():
    (four,) = estimate(INT8, boards=["rpi-4b"])
    (one,) = estimate(INT8, boards=["rpi-4b"], threads=1)
    assert one.latency_ms > four.latency_ms
    (zero,) = estimate(INT8, boards=["rpi-zero-2w"])
    (three,) = estimate(INT8, boards=["rpi-3b-plus"])
    assert zero.latency_ms == pytest.approx(three.latency_ms * 1400 / 1000, rel=1e-2)


def test_fp32_on_a_microcontroller_does_not_fit():
    (row,) = estimate(FIXTURES / "digits-lenet5-fp32.tflite", boards=["arduino-nano-33-ble-sense"])
    assert not row.fits and "int8" in row.reason and row.basis == "prior"


def test_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="unknown board"):
        estimate(INT8, boards=["rpi-6"])
    with pytest.raises(BadInputError, match="at least one"):
        estimate(INT8, boards=[])
    with pytest.raises(BadInputError, match="does not exist"):
        estimate(tmp_path / "none.tflite", boards=["rpi-4b"])
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(BadInputError, match="not a valid"):
        estimate(junk, boards=["rpi-4b"])


def test_group_keys():
    nano, pi = get_board("arduino-nano-33-ble-sense"), get_board("rpi-4b")
    assert group_key(nano, "int8") == "cmsis-nn:Cortex-M4F|int8"
    assert group_key(nano, "int8", "reference") == "reference:Cortex-M4F|int8"
    assert group_key(nano, "float32") == "reference:Cortex-M4F|float32"
    assert group_key(pi, "fp32") == "Cortex-A72|float32"


def test_calibration_reproduces_the_stored_coefficients():
    stored = Coefficients.from_dict(fileio.read_json(COST_MODEL_PATH)["coefficients"])
    report = calibrate(write=False)
    for group, value in stored.groups.items():
        assert report.coefficients.groups[group] == pytest.approx(value, rel=1e-6), group
    assert report.coefficients.fitted_from == stored.fitted_from
    for point in report.points:
        assert point.fitted_ms > 0 and point.loo_ms > 0
    assert report.median_ape("linux", loo=True) is not None


def test_fit_recovers_known_coefficients():
    """Points made by a known model are fitted back to it (the priors barely pull)."""
    from edgecnn.costfit.points import Point
    from edgecnn.targets.boards import Measurement

    truth = Coefficients.priors()
    truth.groups["Cortex-A72|int8"] = 20.0
    board = get_board("rpi-4b")
    points = []
    for dense, dw, ops in (
        (5e8, 2e7, 31),
        (3e8, 2e7, 65),
        (1e8, 5e6, 20),
        (2e7, 1e6, 10),
        (8e8, 1e7, 40),
        (5e7, 4e7, 50),
        (2e8, 0, 12),
        (1e6, 1e5, 5),
    ):
        features = {"dense_macs": dense, "depthwise_macs": dw, "ops": ops, "dtype": "int8"}
        measured = latency_ms(features, board, truth)
        m = Measurement("m", None, None, "", None, "int8", "x", 4, measured, "test", "test")
        points.append(Point(board, m, features))
    fitted = fit(points)
    assert fitted.groups["Cortex-A72|int8"] == pytest.approx(20.0, rel=0.1)


def test_cli_estimate_json():
    result = CliRunner().invoke(
        cli, ["estimate", str(INT8), "--board", "rpi-pico", "--board", "rpi-5", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    for key in ("board", "latency_ms", "arena_bytes", "flash_bytes", "ram_bytes", "fits"):
        assert key in rows[0]
    bad = CliRunner().invoke(cli, ["estimate", str(INT8), "--board", "nope"])
    assert bad.exit_code == 2 and "unknown board" in bad.stderr


def test_memory_bound_ops_are_costed_by_the_bytes_they_move():
    import dataclasses

    from edgecnn.targets.costmodel import load_coefficients, op_cycles
    from edgecnn.targets.graph import read_graph

    graph = read_graph(FIXTURES / "digits-lenet5-int8.tflite")
    pools = [op for op in graph.ops if op.name == "MAX_POOL_2D"]
    assert pools and all(op.kind == "memory" for op in pools)
    assert graph.features()["memory_bytes"] == sum(op.activation_bytes for op in pools) > 0

    linux = {"depthwise_factor": 3.0, "op_overhead_cycles": 100.0, "bytes_per_cycle": 2.0}
    mcu = {"depthwise_factor": 3.0, "op_overhead_cycles": 100.0}
    assert op_cycles("memory", 0, efficiency=1.0, family=linux, moved_bytes=1000) == 600.0
    assert op_cycles("memory", 0, efficiency=1.0, family=mcu, moved_bytes=1000) == 100.0
    assert op_cycles("dense", 10, efficiency=1.0, family=linux, moved_bytes=1000) == 110.0

    base = load_coefficients()
    families = {k: dict(v) for k, v in base.families.items()}
    families["linux"]["bytes_per_cycle"] = 1e30
    without = dataclasses.replace(base, families=families)
    board = get_board("rpi-4b")
    gained = (estimate(FIXTURES / "digits-lenet5-int8.tflite", boards=["rpi-4b"])[0].latency_ms
              - estimate(FIXTURES / "digits-lenet5-int8.tflite", boards=["rpi-4b"],
                         coefficients=without)[0].latency_ms)
    expected_cycles = graph.features()["memory_bytes"] / base.families["linux"]["bytes_per_cycle"]
    from edgecnn.targets.costmodel import PUBLISHED_THREADS, thread_speedup

    scale = thread_speedup(PUBLISHED_THREADS) / thread_speedup(board.cores)
    assert gained == pytest.approx(1000 * expected_cycles / (board.clock_mhz * 1e6) * scale,
                                   rel=0.02, abs=2e-4)


def test_a_refit_stored_before_bytes_per_cycle_keeps_its_prior():
    from edgecnn.targets.costmodel import FAMILY_PRIORS, Coefficients

    old = Coefficients.priors().to_dict()
    del old["families"]["linux"]["bytes_per_cycle"]
    loaded = Coefficients.from_dict(old)
    assert loaded.families["linux"]["bytes_per_cycle"] == FAMILY_PRIORS["linux"]["bytes_per_cycle"]
    assert "bytes_per_cycle" not in loaded.families["mcu"]
