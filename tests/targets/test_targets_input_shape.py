"""Models with dynamic input sizes (None x None x 3): one clear line, or --input-shape."""

import json

import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.device.bench import benchmark
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.targets.estimate import estimate
from edgecnn.targets.graph import read_graph
from edgecnn.training import tfdeps
from tests.memlimit import run_capped

keras, tf = tfdeps.keras(), tfdeps.tensorflow()


def tiny_cnn(shape):
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def convert_plain(model) -> bytes:
    """fp32, as a user would convert it outside edgecnn (no fixed batch of one)."""
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dynamic")
    dynamic, static = folder / "dynamic.tflite", folder / "static.tflite"
    built = tiny_cnn((None, None, 3))
    dynamic.write_bytes(convert_plain(built))
    fixed = tiny_cnn((32, 32, 3))
    fixed.set_weights(built.get_weights())
    static.write_bytes(convert_plain(fixed))
    return dynamic, static


def test_estimate_of_a_dynamic_model_says_how_to_fix_it(models):
    """Before: a RuntimeError traceback from allocate_tensors (exit 1)."""
    result = CliRunner().invoke(cli, ["estimate", str(models[0]), "--board", "rpi-4b"])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "\n" not in message and "dynamic" in message and "--input-shape" in message
    assert "?x?x3" in message


def test_estimate_with_input_shape_equals_the_static_model(models):
    dynamic, static = models
    assert read_graph(dynamic, input_shape=(32, 32, 3)).macs == read_graph(static).macs
    result = CliRunner().invoke(
        cli, ["estimate", str(dynamic), "--board", "rpi-4b", "--input-shape", "32x32x3", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    (expected,) = estimate(static, boards=["rpi-4b"])
    assert row["latency_ms"] == expected.latency_ms and row["fits"]


def test_benchmark_of_a_dynamic_model(models):
    dynamic = str(models[0])
    refused = CliRunner().invoke(cli, ["benchmark", dynamic, "--runs", "2"])
    assert refused.exit_code == 2 and "--input-shape" in refused.stderr, refused.output
    result = CliRunner().invoke(
        cli, ["benchmark", dynamic, "--runs", "2", "--input-shape", "32x32x3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["runs"] == 2
    assert benchmark(dynamic, runs=2, warmup=0, input_shape=(20, 24, 3)).p50_ms > 0


def test_input_shape_must_fit_the_model(models):
    dynamic, static = models
    with pytest.raises(BadInputError, match="32x32x1.*\\?x\\?x3"):
        read_graph(dynamic, input_shape=(32, 32, 1))
    with pytest.raises(BadInputError, match="fixed"):
        read_graph(static, input_shape=(64, 64, 3))
    assert read_graph(static, input_shape=(32, 32, 3)).macs == read_graph(static).macs
    with pytest.raises(BadInputError, match="dynamic"):
        TFLiteModel(dynamic)


def test_a_dynamic_model_on_a_microcontroller_gets_a_reason(models):
    pi, nano = estimate(
        models[0], boards=["rpi-4b", "arduino-nano-33-ble-sense"], input_shape=(32, 32, 3)
    )
    assert pi.fits and not nano.fits and "fixed input shape" in nano.reason


def test_remote_benchmark_passes_the_input_shape_on():
    from edgecnn.targets.remote import remote_script

    script = remote_script(
        ["0/m.tflite"], remote_edgecnn="edgecnn", threads=None, runs=5, warmup=1,
        input_shape=(224, 224, 3),
    )
    assert "--input-shape 224x224x3" in script.splitlines()[-1]


@pytest.mark.parametrize("command", ["estimate", "benchmark"])
def test_an_input_shape_too_large_is_one_line(models, command):
    """Before: 20000x20000x3 (1.2e9 values) was allocated: killed for memory, or a traceback.

    Run under an address-space cap so that the old behaviour fails the test, not the machine.
    """
    board = ["--board", "rpi-4b"] if command == "estimate" else []
    args = [command, str(models[0]), *board, "--input-shape", "20000x20000x3"]
    done = run_capped("from edgecnn.cli import cli", f"cli.main({args!r})")
    assert done.returncode == 2, done.stderr[-2000:]
    message = done.stderr.strip()
    assert "\n" not in message and "20000x20000x3" in message
    assert "1,200,000,000 values" in message and "at most 4,194,304" in message


def test_the_api_refuses_a_too_large_input_shape_before_allocating(models):
    done = run_capped(
        "from edgecnn.core.errors import BadInputError\n"
        "from edgecnn.device.bench import benchmark\n"
        "from edgecnn.targets.graph import read_graph",
        f"""
        for call in (lambda: read_graph({str(models[0])!r}, input_shape=(20000, 20000, 3)),
                     lambda: benchmark({str(models[0])!r}, runs=1, input_shape=(2049, 2048, 1))):
            try:
                call()
            except BadInputError as exc:
                assert "at most 4,194,304" in str(exc), exc
            else:
                raise AssertionError("accepted")
        """,
    )
    assert done.returncode == 0, done.stderr[-2000:]
