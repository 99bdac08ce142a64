"""The time-series families fcn1d, resnet1d and inception1d: a tiny training run, then
LiteRT, TFLite Micro and the pruner; minimum windows, kernel shortening, options, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import ModelError
from edgecnn.training import tfdeps
from edgecnn.training.models import MODELS, build_model
from tests.testkit import accuracy_of, assert_learned

FAMILIES = ("fcn1d", "resnet1d", "inception1d")
WINDOW = (24, 3)
NANO = "arduino-nano-33-ble-sense"
SEED = 0  # the smoke training's; seeds 0-2 were each run three times without a failure
# Tiny and shallow where it keeps what matters: conversion time grows with the layer count.
# resnet1d keeps a projected and an identity shortcut, inception1d its residual around three
# modules, two kernel lengths (40 shortened to the window) and the pool branch.
TINY = {
    "fcn1d": {"width": 0.125},
    "resnet1d": {"width": 0.125, "filters": (64, 64)},
    "inception1d": {"width": 0.125, "kernel_sizes": (40, 10)},
}


def windows(count=48, classes=3):
    """Sine windows whose frequency is the class, with noise; balanced labels."""
    rng = np.random.default_rng(0)
    y = np.arange(count) % classes
    t = np.arange(WINDOW[0])[None, :, None] / WINDOW[0]
    phase = rng.uniform(0, 2 * np.pi, size=(count, 1, WINDOW[1]))
    x = np.sin(2 * np.pi * (y[:, None, None] + 1) * t + phase)
    return (x + 0.2 * rng.normal(size=x.shape)).astype(np.float32), y


@pytest.fixture(scope="module", params=FAMILIES)
def trained(request, tmp_path_factory):
    """One tiny model of a family, trained three epochs (seeded), converted to fp32 and int8."""
    from edgecnn.core.modes import Mode
    from edgecnn.optimize.convert import convert

    keras = tfdeps.keras()
    keras.utils.set_random_seed(SEED)
    x, y = windows()
    model = build_model(
        request.param, input_shape=WINDOW, num_classes=3, seed=SEED, **TINY[request.param]
    )
    # Eagerly: the same kernels without tracing a training graph, several times faster here.
    # A high learning rate: three epochs of 6 steps then separate the classes.
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", run_eagerly=True)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    int8 = convert(model, Mode.INT8, calibration=x[:32])
    path = tmp_path_factory.mktemp(request.param) / "model-int8.tflite"
    path.write_bytes(int8)
    return {
        "name": request.param,
        "model": model,
        "losses": history.history["loss"],
        "accuracy": accuracy_of(model.predict(x, verbose=0), y),
        "x": x[:8],
        "fp32": convert(model, Mode.FP32),
        "int8": int8,
        "int8_path": path,
    }


@pytest.mark.slow
def test_training_lowers_the_loss_and_beats_chance(trained):
    assert_learned(trained["losses"], trained["accuracy"], classes=3)
    probs = trained["model"].predict(trained["x"], verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_litert_fp32_matches_keras(trained):
    from edgecnn.device.interpreter import TFLiteModel

    keras_out = trained["model"].predict(trained["x"], verbose=0)
    litert_out = TFLiteModel(trained["fp32"]).predict(trained["x"])
    np.testing.assert_allclose(litert_out, keras_out, atol=1e-4)


@pytest.mark.slow
def test_int8_runs_alike_in_litert_and_tflite_micro(trained):
    """The int8 model runs in both runtimes, and the TFLM kernels compute what LiteRT does
    (up to a few output steps of rounding: TFLM's reference ADD rounds differently)."""
    from tflite_micro.python.tflite_micro import runtime

    from edgecnn.device.interpreter import TFLiteModel

    litert = TFLiteModel(trained["int8"])
    assert litert.input.dtype == "int8" and litert.output.dtype == "int8"
    micro = runtime.Interpreter.from_bytes(trained["int8"], arena_size=256 * 1024)
    for sample in trained["x"]:
        q = litert.quantize_input(sample[None])
        micro.set_input(q, 0)
        micro.invoke()
        expected = litert.dequantize_output(litert.invoke_raw(q))
        np.testing.assert_allclose(
            litert.dequantize_output(micro.get_output(0)), expected, atol=0.02
        )
        assert expected.sum() == pytest.approx(1.0, abs=0.02)


@pytest.mark.slow
def test_int8_allocates_in_tflite_micro_as_board_checks_do(trained):
    """`edgecnn estimate --board`: a real TFLM allocation, then the board's cost model."""
    from edgecnn.targets.estimate import estimate

    (nano,) = estimate(trained["int8_path"], boards=[NANO])
    assert nano.fits and nano.arena_bytes > 0, nano.reason
    assert 0 < nano.latency_ms < 50


@pytest.mark.slow
def test_structured_pruning_handles_the_family(trained):
    from edgecnn.optimize.pruning import prune_structured

    thin, _ = prune_structured(trained["model"], ratio=0.5)
    assert thin.count_params() < trained["model"].count_params()
    assert thin.predict(trained["x"], verbose=0).shape == (8, 3)


@pytest.mark.parametrize("name", FAMILIES)
def test_builds_at_the_minimum_window_and_refuses_shorter(name):
    least = MODELS[name].min_input[0]
    model = build_model(name, input_shape=(least, 2), num_classes=2)
    assert model.output.shape[-1] == 2
    message = (
        f"model {name} takes windows shaped TxC (samples x channels) of at least {least} "
        f"samples; got {least - 1}x2"
    )
    with pytest.raises(ModelError) as err:
        build_model(name, input_shape=(least - 1, 2), num_classes=2)
    assert str(err.value) == message


def test_short_window_on_the_command_line_is_one_line_and_exit_2():
    result = CliRunner().invoke(cli, ["summary", "inception1d", "--input-shape", "7x1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "edgecnn: error: model inception1d takes windows shaped TxC (samples x channels) of "
        "at least 8 samples; got 7x1"
    )


def test_training_on_too_short_windows_is_refused_before_any_work(sensor_csv, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--data", str(sensor_csv), "--model", "fcn1d", "--window", "6"]
    result = CliRunner().invoke(cli, [*args, "--hop", "3", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().endswith(
        "model fcn1d takes windows shaped TxC (samples x channels) of at least 8 samples; got 6x3"
    )
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_kernels_longer_than_the_window_are_shortened_to_it():
    model = build_model("inception1d", input_shape=(24, 1), num_classes=2)
    kernels = [model.get_layer(f"module1_conv{i}").kernel_size[0] for i in (1, 2, 3)]
    assert kernels == [24, 20, 10]
    long = build_model("inception1d", input_shape=(128, 1), num_classes=2)
    assert long.get_layer("module1_conv1").kernel_size[0] == 40
    fcn = build_model("fcn1d", input_shape=(8, 3), num_classes=2, kernel_sizes=(9, 5, 3))
    assert fcn.get_layer("conv1").kernel_size[0] == 8


def test_inception_structure():
    """Bottleneck only where it narrows; one shortcut around the three default modules."""
    model = build_model("inception1d", input_shape=(32, 3), num_classes=2)  # width 0.25
    names = {layer.name for layer in model.layers}
    assert "module1_bottleneck" not in names  # 3 input channels: nothing to narrow to 8
    assert {"module2_bottleneck", "module3_pool_proj", "residual1_proj", "residual1_add"} <= names
    assert model.get_layer("module3").output.shape[-1] == 4 * 8
    flat = build_model("inception1d", input_shape=(32, 3), num_classes=2, residual=False)
    assert not any(layer.name.startswith("residual") for layer in flat.layers)


def test_resnet_shortcuts_project_only_when_channels_change():
    model = build_model("resnet1d", input_shape=(16, 3), num_classes=2, width=0.25)
    names = {layer.name for layer in model.layers}
    assert {"block1_shortcut", "block2_shortcut", "block3_add"} <= names
    assert "block3_shortcut" not in names  # 32 -> 32 channels: identity
    assert model.get_layer("block3_conv1").kernel_size[0] == 8


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("fcn1d", {"filters": (32, 64)}, "kernel_sizes must be 2 positive integers"),
        ("resnet1d", {"kernel_sizes": (8, 0, 3)}, "kernel_sizes must be one or more positive"),
        ("inception1d", {"depth": 0}, "depth must be a positive integer such as 3; got 0"),
        ("inception1d", {"residual": "yes"}, "residual must be true or false; got 'yes'"),
    ],
)
def test_bad_options_are_refused_in_one_line(name, options, message):
    with pytest.raises(ModelError, match=message) as err:
        build_model(name, input_shape=(16, 1), num_classes=2, **options)
    assert "\n" not in str(err.value)


def test_models_and_summary_show_the_families(monkeypatch):
    from edgecnn.training.models import registry

    # Only these families: building the whole zoo again costs seconds (test_cli lists it all).
    monkeypatch.setattr(registry, "MODELS", {name: MODELS[name] for name in FAMILIES})
    listed = CliRunner().invoke(cli, ["models", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    for name in FAMILIES:
        assert rows[name]["kind"] == "sequence" and rows[name]["input_shape"] == [128, 3]
        assert 0 < rows[name]["params"] < 100_000 and rows[name]["macs"] > 0
    shown = CliRunner().invoke(cli, ["summary", "resnet1d", "--input-shape", "24x1", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    built = build_model(
        "resnet1d", input_shape=(24, 1), num_classes=MODELS["resnet1d"].default_num_classes
    )
    assert data["total_params"] == built.count_params() and data["total_macs"] > 0
