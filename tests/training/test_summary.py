"""Per-layer summaries: params match Keras, MACs match hand formulas and MLPerf Tiny."""

from __future__ import annotations

import json
import math

import pytest

from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.training import tfdeps
from edgecnn.training.models import MODELS, build_model
from edgecnn.training.summary import format_table, summarize, summarize_source

keras = tfdeps.keras()
L = keras.layers


def rows(summary):
    return {r.name: r for r in summary.layers}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_totals_match_keras_for_every_family(name):
    spec = MODELS[name]
    model = build_model(
        name, input_shape=spec.default_input_shape, num_classes=spec.default_num_classes
    )
    summary = summarize(model)
    assert summary.total_params == model.count_params()
    assert summary.trainable_params == sum(math.prod(w.shape) for w in model.trainable_weights)
    assert {r.name for r in summary.layers} == {layer.name for layer in model.layers}
    assert summary.input_shape == spec.default_input_shape
    assert summary.total_macs > 0 and summary.peak_activation_bytes > 0


@pytest.mark.parametrize(
    ("name", "params", "macs"),
    [
        ("resnet8", 78_666, 12_501_632),
        ("dscnn", 24_908, 2_656_768),
        ("mobilenet_v1", 221_794, 7_489_664),
    ],
)
def test_mlperf_tiny_reference_counts(name, params, macs):
    summary = summarize_source(name)  # default input, classes and width
    assert (summary.total_params, summary.total_macs) == (params, macs)


def test_macs_follow_the_hand_formulas():
    inp = keras.Input((10, 12, 3))
    x = L.Conv2D(4, 3, padding="valid", name="valid")(inp)  # 8x10x4
    x = L.Conv2D(6, 3, strides=2, padding="same", name="strided")(x)  # 4x5x6
    x = L.BatchNormalization(name="bn")(x)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)  # 4x5x12
    x = L.Conv2D(6, 1, groups=3, name="grouped")(x)  # 4x5x6
    x = L.SeparableConv2D(5, 3, padding="same", name="sep")(x)  # 4x5x5
    x = L.Dense(7, name="dense3d")(x)  # 4x5x7, applied per position
    x = L.Flatten(name="flat")(x)
    out = L.Dense(3, name="head")(x)
    summary = summarize(keras.Model(inp, out))
    expected = {
        "valid": 8 * 10 * 9 * 3 * 4,
        "strided": 4 * 5 * 9 * 4 * 6,
        "bn": 0,
        "dw": 4 * 5 * 9 * 6 * 2,
        "grouped": 4 * 5 * 1 * (12 // 3) * 6,
        "sep": 4 * 5 * 9 * 6 + 4 * 5 * 6 * 5,
        "dense3d": 4 * 5 * 5 * 7,
        "flat": 0,
        "head": 140 * 3,
    }
    got = rows(summary)
    assert {name: got[name].macs for name in expected} == expected
    assert summary.total_macs == sum(expected.values())
    assert got["sep"].output_shape == (4, 5, 5)


def test_macs_of_1d_and_transposed_convolutions():
    inp = keras.Input((16, 2))
    x = L.Conv1D(4, 5, name="c1d")(inp)  # 12x4
    x = L.DepthwiseConv1D(3, padding="same", name="dw1d")(x)  # 12x4
    out = L.Reshape((4, 3, 4))(x)
    out = L.Conv2DTranspose(3, 3, strides=2, padding="same", name="up")(out)  # 8x6x3
    got = rows(summarize(keras.Model(inp, out)))
    assert got["c1d"].macs == 12 * 5 * 2 * 4
    assert got["dw1d"].macs == 12 * 3 * 4
    assert got["up"].macs == 4 * 3 * 9 * 4 * 3  # every input position meets the whole kernel


def test_peak_activation_of_a_sequential_model_is_the_largest_input_plus_output():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(4, 3, padding="same", name="conv"),
            L.MaxPooling2D(name="pool"),
            L.Flatten(name="flat"),
            L.Dense(2, name="head"),
        ]
    )
    summary = summarize(model)
    sizes = [r.activation_bytes for r in summary.layers]
    assert sizes == [8 * 8 * 4, 8 * 8 * 4 * 4, 4 * 4 * 4 * 4, 64 * 4, 2 * 4]
    pairs = zip(sizes[:-1], sizes[1:], strict=True)
    assert summary.peak_activation_bytes == max(a + b for a, b in pairs) == 1280
    assert summary.total_params == model.count_params()


def test_peak_activation_keeps_the_skip_tensor_alive():
    inp = keras.Input((4, 4, 1))  # 64 bytes
    c1 = L.Conv2D(8, 3, padding="same", name="c1")(inp)  # 512 bytes each from here
    c2 = L.Conv2D(8, 3, padding="same", name="c2")(c1)
    c3 = L.Conv2D(8, 3, padding="same", name="c3")(c2)
    out = L.Add(name="add")([c1, c3])
    summary = summarize(keras.Model(inp, out))
    # While c3 runs, c1 (the skip), c2 (its input) and c3 (its output) are all held.
    assert summary.peak_activation_bytes == 3 * 512


def test_activation_bytes_follow_the_compute_dtype():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build_model("cnn1d", input_shape=(8, 3), num_classes=2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    got = rows(summarize(model))
    assert got["conv1"].activation_bytes == 8 * 32 * 2
    assert got["predictions"].activation_bytes == 2 * 4


def test_nested_model_is_one_row_with_its_own_macs():
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, L.Dense(4, name="inner_dense")(inner_in), name="inner")
    inp = keras.Input((8,))
    out = L.Dense(2, name="head")(inner(inp))
    model = keras.Model(inp, out)
    summary = summarize(model)
    got = rows(summary)
    assert (got["inner"].params, got["inner"].macs) == (36, 32)
    assert summary.total_params == model.count_params()
    assert summary.total_macs == 32 + 8


def test_shared_layer_counts_params_once_and_macs_per_call():
    inp = keras.Input((4,))
    shared = L.Dense(4, name="shared")
    model = keras.Model(inp, shared(shared(inp)))
    summary = summarize(model)
    got = rows(summary)
    assert (got["shared"].params, got["shared (shared)"].params) == (20, 0)
    assert summary.total_params == model.count_params()
    assert summary.total_macs == 2 * 16


def test_subclassed_model_is_refused_clearly():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(keras.ops.zeros((1, 3)))
    with pytest.raises(ModelError, match="only functional and Sequential Keras models"):
        summarize(model)


def test_unknown_input_size_is_refused_clearly():
    inp = keras.Input((None, 3))
    model = keras.Model(inp, L.Conv1D(2, 3)(inp))
    with pytest.raises(ModelError, match=r"unknown size \?x3; build the model with a fixed"):
        summarize(model)


def test_to_dict_is_json_ready():
    data = json.loads(json.dumps(summarize_source("dscnn").to_dict()))
    assert {"layers", "total_params", "total_macs", "peak_activation_bytes"} <= set(data)
    assert data["layers"][0] == {
        "name": "input",
        "type": "InputLayer",
        "output_shape": [49, 10, 1],
        "params": 0,
        "macs": 0,
        "activation_bytes": 49 * 10 * 4,
    }


def test_format_table_is_readable():
    text = format_table(summarize_source("resnet8"))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "params", "MACs", "activations"]
    assert any(line.split()[:3] == ["conv1", "Conv2D", "32x32x16"] for line in lines)
    assert "params: 78,666 (78,186 trainable, 480 non-trainable)" in text
    assert "MACs: 12.50 M (12,501,632) per input" in text
    assert "peak activations: 192.0 KiB (196,608 bytes)" in text


def test_summarize_source_builds_zoo_models_at_a_given_shape():
    summary = summarize_source("mobilenet-v1", input_shape=(8, 8, 1), num_classes=3)
    assert summary.input_shape == (8, 8, 1)
    assert summary.layers[-1].output_shape == (3,)


def test_summarize_source_reads_keras_files(tmp_path):
    from edgecnn.training.modelio import save_keras_model

    model = build_model("cnn1d", input_shape=(8, 3), num_classes=2)
    path = save_keras_model(model, tmp_path / "m.keras")
    assert summarize_source(str(path)).total_params == model.count_params()
    with pytest.raises(BadInputError, match="apply to zoo models only"):
        summarize_source(str(path), input_shape=(16, 3))


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("model.tflite", BadInputError, "summary of .tflite files is not supported yet"),
        ("resnet50", BadInputError, "'resnet50' is neither a zoo model .*lenet5.* nor a .keras"),
        ("missing.keras", ModelError, "missing.keras does not exist"),
        ("model.h5", ModelError, "legacy HDF5"),
    ],
)
def test_summarize_source_names_what_is_accepted(tmp_path, source, error, message):
    if source.endswith(".h5"):
        (tmp_path / source).write_bytes(b"\x89HDF")
    with pytest.raises(error, match=message):
        summarize_source(str(tmp_path / source) if "." in source else source)
