import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.core.manifest import load_manifest
from edgecnn.core.modes import IOType
from edgecnn.optimize.quantize import quantize
from edgecnn.training.modelio import load_keras_model, save_keras_model
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig
from tests.testkit import REPO

SHIPPED_DIGITS_CALIBRATION = REPO / "calibration" / "digits.npz"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("q") / "run"
    config = TrainConfig(data="builtin:digits", model="lenet5", epochs=6, lr=3e-3)
    train(config, out=out, log=lambda _line: None)
    return out


@pytest.fixture
def run(trained_run, tmp_path):
    return Path(shutil.copytree(trained_run, tmp_path / "run"))


def tflite_files(folder):
    return sorted(p.name for p in folder.glob("*.tflite"))


@pytest.mark.slow
def test_every_mode_is_written_with_a_verified_manifest(run):
    result = quantize(run, modes=["fp32,fp16", "dynamic", "int8", "int16x8"])
    by_mode = {v.mode: v for v in result.variants}
    assert list(by_mode) == ["fp32", "fp16", "dynamic", "int8", "int16x8"]
    for variant in result.variants:
        manifest = load_manifest(variant.path)
        assert manifest.size_bytes == Path(variant.path).stat().st_size
        assert manifest.labels == [str(i) for i in range(10)]
        assert manifest.preprocessing.scale == pytest.approx(1 / 16)
        assert manifest.metrics["accuracy"] == variant.accuracy
    assert by_mode["int8"].size_bytes < by_mode["fp16"].size_bytes < by_mode["fp32"].size_bytes
    report = json.loads(Path(result.report_path).read_text())
    assert len(report["variants"]) == 5


@pytest.mark.slow
def test_fp32_matches_keras_and_int8_agrees(run):
    result = quantize(run, modes=["fp32", "int8"])
    fp32, int8 = result.variants
    assert fp32.max_abs_diff < 1e-4 and fp32.agreement == 1.0
    assert int8.agreement >= 0.97
    assert abs(int8.delta) <= 0.03


@pytest.mark.slow
def test_int8_io_is_int8_with_sane_scales(run):
    (variant,) = quantize(run, modes=["int8"]).variants
    manifest = load_manifest(variant.path)
    assert manifest.input["dtype"] == "int8" and manifest.output["dtype"] == "int8"
    # inputs span [0, 1]: about 1/255 per step; softmax outputs: 1/256 from -128
    assert manifest.input["scale"] == pytest.approx(1 / 255, rel=0.05)
    assert (
        manifest.output["scale"] == pytest.approx(1 / 256) and manifest.output["zero_point"] == -128
    )


@pytest.mark.slow
def test_float_io_keeps_float_tensors(run):
    (variant,) = quantize(run, modes=["int8"], io=IOType.FLOAT).variants
    assert variant.input_dtype == "float32" and variant.path.endswith("-floatio.tflite")


@pytest.mark.slow
def test_shipped_calibration_set(run):
    result = quantize(run, modes=["int8"], calibration=SHIPPED_DIGITS_CALIBRATION)
    assert result.calibration["samples"] == 200 and result.variants[0].agreement >= 0.97


@pytest.mark.slow
def test_tampered_model_is_refused(run):
    (variant,) = quantize(run, modes=["fp32"]).variants
    data = bytearray(Path(variant.path).read_bytes())
    data[-1] ^= 0xFF
    Path(variant.path).write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="does not match its manifest"):
        load_manifest(variant.path)


def make_fragile(run):
    """Float outputs unchanged, but one huge constant unit in fc1 wrecks int8 ranges."""
    model = load_keras_model(run / "model.keras")
    fc1, fc2 = model.get_layer("fc1"), model.get_layer("fc2")
    kernel, bias = fc1.get_weights()
    kernel[:, 0], bias[0] = 0.0, 1e4
    fc1.set_weights([kernel, bias])
    kernel2, bias2 = fc2.get_weights()
    kernel2[0, :] = 0.0
    fc2.set_weights([kernel2, bias2])
    return save_keras_model(model, run / "fragile.keras")


@pytest.mark.slow
def test_max_drop_keeps_the_fragile_layer_in_float(run):
    fragile = make_fragile(run)
    (plain,) = quantize(fragile, modes=["int8"]).variants
    assert plain.delta < -0.3  # int8 collapses without help
    (kept,) = quantize(fragile, modes=["int8"], max_drop=0.01).variants
    assert "fc1" in kept.float_layers and kept.delta >= -0.03
    assert load_manifest(kept.path).variant.float_layers == tuple(kept.float_layers)


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((20, 8, 8, 3), np.float32)}, "shaped 8x8x3"),
        ({"x": np.zeros((20, 8, 8, 1), np.uint8)}, "dtype uint8"),
        ({"x": np.zeros((5, 8, 8, 1), np.float32)}, "at least 10"),
        ({"y": np.zeros(20)}, "no array 'x'"),
    ],
)
def test_bad_calibration_writes_nothing(run, tmp_path, arrays, message):
    path = write_npz(tmp_path / "cal.npz", **arrays)
    with pytest.raises(BadInputError, match=message):
        quantize(run, modes=["fp32", "int8"], calibration=path)
    assert tflite_files(run) == []


@pytest.mark.slow
def test_bad_sources(run, tmp_path):
    with pytest.raises(BadInputError, match="unknown mode"):
        quantize(run, modes=["int4"])
    with pytest.raises(BadInputError, match="max-drop"):
        quantize(run, modes=["int8"], max_drop=1.5)
    (run / "notes.keras").write_text("not a model")
    with pytest.raises(ModelError):
        quantize(run / "notes.keras", modes=["fp32"])
    truncated = run / "cut.keras"
    truncated.write_bytes((run / "model.keras").read_bytes()[:5000])
    with pytest.raises(ModelError):
        quantize(truncated, modes=["fp32"])
    loose = tmp_path / "loose.keras"
    shutil.copy(run / "model.keras", loose)
    with pytest.raises(BadInputError, match="not inside a training run"):
        quantize(loose, modes=["fp32"])
    assert tflite_files(run) == []


@pytest.mark.slow
def test_cli_json(run):
    result = CliRunner().invoke(cli, ["quantize", str(run), "--mode", "fp32,int8", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [v["mode"] for v in data["variants"]] == ["fp32", "int8"]
    for key in ("mode", "path", "size_bytes", "accuracy", "agreement"):
        assert key in data["variants"][0]


@pytest.mark.slow
def test_cli_bad_mode_exits_2(run):
    result = CliRunner().invoke(cli, ["quantize", str(run), "--mode", "int4"])
    assert result.exit_code == 2 and "unknown mode" in result.stderr


def test_unsupported_op_message_names_ops_and_layers():
    from edgecnn.optimize.convert import describe_failure

    text = (
        "Some ops are not supported by the native TFLite runtime, you can enable TF kernels "
        'fallback using TF Select.\n tf.Erfinv {device = ""} loc(fused["Erfinv:", '
        '"model/warp/Erfinv@__inference_serving_default_123"])'
    )
    message = describe_failure(RuntimeError(text))
    assert "tf.Erfinv" in message and "layer(s) warp" in message and "builtin" in message


@pytest.mark.slow
def test_board_check_on_a_microcontroller(run):
    result = quantize(run, modes=["int8", "dynamic"], boards=["arduino-nano-33-ble-sense"])
    int8, dynamic = (v.boards[0] for v in result.variants)
    assert int8.fits and int8.arena_bytes > 0
    assert not dynamic.fits and "hybrid" in dynamic.reason
    with pytest.raises(BadInputError, match="unknown board"):
        quantize(run, modes=["int8"], boards=["rpi-6"])
