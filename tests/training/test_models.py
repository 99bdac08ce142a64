"""The model zoo: every family builds and runs at its default, tiny and non-square inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from edgecnn.core.errors import ModelError
from edgecnn.training.models import MODELS, InputKind, build_model, builder_options, get_spec
from tests.testkit import accuracy_of, assert_learned

IMAGE_MODELS = [n for n, s in MODELS.items() if s.kind is InputKind.IMAGE]
SEQUENCE_MODELS = [n for n, s in MODELS.items() if s.kind is InputKind.SEQUENCE]
SMALL_INPUTS = [(n, (8, 8, 1)) for n in IMAGE_MODELS] + [(n, (8, 3)) for n in SEQUENCE_MODELS]
ODD_INPUTS = [(n, (49, 10, 1)) for n in IMAGE_MODELS] + [(n, (49, 10)) for n in SEQUENCE_MODELS]


def forward(model, shape, num_classes):
    """Runs two random inputs through the model and checks the softmax output."""
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    y = np.asarray(model(x, training=False))
    assert y.shape == (2, num_classes)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_importing_the_zoo_and_summary_does_not_import_keras():
    code = (
        "import sys, edgecnn.training.models, edgecnn.training.models.registry, "
        "edgecnn.training.summary, edgecnn.training.modelio; "
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", list(MODELS))
def test_builds_and_runs_at_default_input(name):
    spec = MODELS[name]
    model = build_model(
        name, input_shape=spec.default_input_shape, num_classes=spec.default_num_classes
    )
    assert model.name == name
    assert model.layers[0].name == "input"
    head = model.get_layer("predictions")
    assert head.dtype_policy.compute_dtype == "float32"
    assert head.units == spec.default_num_classes
    forward(model, spec.default_input_shape, spec.default_num_classes)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shape"), SMALL_INPUTS + ODD_INPUTS)
def test_builds_trains_and_runs_at_small_and_non_square_inputs(name, shape):
    """One real training step too: TensorFlow's CPU kernels refuse some layer settings
    (a depthwise conv with unequal strides) only when they run. Eagerly: the same kernels,
    forward and backward, without a graph to trace (15x faster here)."""
    model = build_model(name, input_shape=shape, num_classes=3)
    forward(model, shape, 3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    x = np.random.default_rng(1).random((4, *shape), dtype=np.float32)
    loss = model.train_on_batch(x, np.array([0, 1, 2, 0]))
    assert np.isfinite(loss)
    forward(model, shape, 3)


@pytest.mark.parametrize("name", IMAGE_MODELS)
@pytest.mark.parametrize("shape", [(4, 4, 1), (7, 32, 3)])
def test_too_small_image_is_refused(name, shape):
    got = "x".join(map(str, shape))
    with pytest.raises(ModelError, match=f"takes images shaped HxWxC of at least 8x8; got {got}$"):
        build_model(name, input_shape=shape, num_classes=2)


def test_too_short_window_is_refused():
    with pytest.raises(ModelError, match="of at least 8 samples; got 4x3$"):
        build_model("cnn1d", input_shape=(4, 3), num_classes=2)


def test_error_messages_name_the_model_the_shape_and_the_fix():
    with pytest.raises(ModelError) as err:
        build_model("lenet5", input_shape=(4, 4, 1), num_classes=10)
    assert str(err.value) == "model lenet5 takes images shaped HxWxC of at least 8x8; got 4x4x1"
    with pytest.raises(ModelError) as err:
        build_model("cnn1d", input_shape=(32, 32, 3), num_classes=10)
    assert str(err.value) == (
        "model cnn1d takes windows shaped TxC (samples x channels); got 32x32x3 — "
        "use an image model such as lenet5"
    )
    with pytest.raises(ModelError, match="got 128x6 — add the channel count .* cnn1d"):
        build_model("resnet8", input_shape=(128, 6), num_classes=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 1}, "needs at least 2 classes; got 1"),
        ({"width": 0}, "width must be a positive multiplier .* got 0"),
        ({"dropout": 1.5}, "dropout must be a rate .* got 1.5"),
        ({"l2": -1.0}, "l2 must be a weight-decay factor .* got -1.0"),
        ({"kernel": 3}, "model vgg_tiny has no option 'kernel'; its options are filters, "),
        ({"input_shape": (0, 8, 1)}, "needs positive input sizes; got 0x8x1"),
        ({"input_shape": "8x8x1"}, "needs an input shape of positive integers .* got '8x8x1'"),
    ],
)
def test_bad_options_are_refused_with_one_line(kwargs, message):
    args = {"input_shape": (8, 8, 1), "num_classes": 3} | kwargs
    with pytest.raises(ModelError, match=message) as err:
        build_model("vgg_tiny", **args)
    assert "\n" not in str(err.value)


def test_get_spec_normalizes_names_and_lists_known_ones():
    assert get_spec("MobileNet-V1").name == "mobilenet_v1"
    with pytest.raises(ModelError, match="unknown model 'resnet50'; known models: lenet5, "):
        get_spec("resnet50")


def test_specs_are_json_ready_and_list_their_options():
    for spec in MODELS.values():
        data = json.loads(json.dumps(spec.to_dict()))
        assert data["kind"] in ("image", "sequence")
        assert len(data["min_input"]) == len(data["default_input_shape"]) - 1
    assert builder_options("dscnn")["dropout"] == 0.4
    assert get_spec("mobilenet_v1").default_width == 0.25


@pytest.mark.parametrize(
    ("name", "params", "width"),
    [("resnet8", 78_666, None), ("dscnn", 24_908, None), ("mobilenet_v1", 221_794, 0.25)],
)
def test_mlperf_tiny_references_have_exact_param_counts(name, params, width):
    spec = MODELS[name]
    for w in {None, width}:
        model = build_model(
            name,
            input_shape=spec.default_input_shape,
            num_classes=spec.default_num_classes,
            width=w,
        )
        assert model.count_params() == params


def test_lenet5_is_classic_at_32x32():
    model = build_model("lenet5", input_shape=(32, 32, 1), num_classes=10)
    assert model.count_params() == 61_706
    assert model.get_layer("pool2").output.shape[1:] == (5, 5, 16)


def test_layer_names_are_stable():
    names = {
        "resnet8": ["conv1", "conv1_bn", "stack1_add", "stack2_shortcut", "stack3_relu"],
        "dscnn": ["conv1_dropout", "block1_dw", "block4_pw_relu", "avg_pool", "dropout"],
        "mobilenet_v1": ["block1_dw_bn", "block2_dw", "block13_pw_relu", "avg_pool"],
        "densenet_tiny": ["block1_layer1_concat", "transition2_pool", "final_relu"],
        "inception_tiny": ["mixed1_5x5a", "mixed3_pool_proj", "mixed3"],
        "vgg_tiny": ["block3_conv2_relu", "block3_pool", "dropout"],
        "lenet5": ["conv2", "fc2"],
        "cnn1d": ["conv3_relu", "pool3"],
    }
    for name, expected in names.items():
        spec = MODELS[name]
        model = build_model(name, input_shape=spec.default_input_shape, num_classes=2)
        present = {layer.name for layer in model.layers}
        assert set(expected) <= present, name


def test_strides_and_pools_adapt_to_thin_inputs():
    model = build_model("mobilenet_v1", input_shape=(8, 64, 3), num_classes=2)
    assert model.get_layer("block13_pw").output.shape[1:3] == (1, 2)
    model = build_model("vgg_tiny", input_shape=(49, 10, 1), num_classes=2)
    assert model.get_layer("block3_pool").output.shape[1:3] == (6, 1)


def test_width_scales_channels():
    model = build_model("vgg_tiny", input_shape=(8, 8, 1), num_classes=2, width=0.5)
    assert model.get_layer("block1_conv1").filters == 8
    assert model.get_layer("block3_conv2").filters == 32


def test_seed_makes_initial_weights_reproducible():
    def weights(seed):
        model = build_model("cnn1d", input_shape=(8, 3), num_classes=2, seed=seed)
        return model.get_layer("conv1").get_weights()[0]

    np.testing.assert_array_equal(weights(3), weights(3))
    assert not np.array_equal(weights(3), weights(4))


def test_output_stays_float32_under_mixed_precision():
    from edgecnn.training import tfdeps

    keras = tfdeps.keras()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = build_model("dscnn", input_shape=(16, 16, 1), num_classes=3)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model.get_layer("conv1").compute_dtype == "float16"
    assert model.output.dtype == "float32"


SEED = 0  # the smoke training's; seeds 0-2 were each run three times without a failure


def test_a_zoo_model_lowers_its_loss_and_beats_chance():
    """A few epochs on three classes a bright band of rows tells apart (seeded, eager)."""
    from edgecnn.training import tfdeps

    tfdeps.keras().utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    y = np.arange(24) % 3
    x = 0.2 * rng.random((24, 8, 8, 1), dtype=np.float32)
    for i, label in enumerate(y):
        x[i, 3 * label : 3 * label + 2] += 0.8
    model = build_model("lenet5", input_shape=(8, 8, 1), num_classes=3, seed=SEED)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert_learned(history.history["loss"], accuracy_of(model.predict(x, verbose=0), y), 3)
