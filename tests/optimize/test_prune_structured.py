import numpy as np
import pytest

from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.optimize.pruning.channels import analyze
from edgecnn.optimize.pruning.structured import apply_plan, plan_structured, prune_structured
from edgecnn.training import tfdeps
from edgecnn.training.models import MODELS, InputKind, build_model
from edgecnn.training.summary import summarize
from tests.testkit import accuracy_of, assert_learned

keras = tfdeps.keras()
L = keras.layers

SEED = 0  # the smoke training's; seeds 0-2 were each run three times without a failure


def small_model(name, num_classes=5):
    shape = (32, 4) if MODELS[name].kind == InputKind.SEQUENCE else (16, 16, 3)
    return build_model(name, input_shape=shape, num_classes=num_classes, seed=0)


def randomize(model, seed=0):
    """Random biases and BN statistics, so a misaligned copy cannot pass by luck."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for w in layer.weights:
            value = np.asarray(w)
            if w.name in ("gamma", "moving_variance"):
                value = rng.uniform(0.5, 1.5, value.shape)
            elif w.name in ("beta", "moving_mean", "bias"):
                value = rng.normal(0, 0.2, value.shape)
            w.assign(value.astype("float32"))


def zero_removed(model, plan):
    """Makes every channel the plan removes exactly 0 wherever it is used."""
    for layer in model.layers:
        values = {w.name: np.asarray(w).copy() for w in layer.weights}
        if layer.name in plan.graph.producers:
            gone = ~plan.output_mask(layer.name)
            key = "pointwise_kernel" if "pointwise_kernel" in values else "kernel"
            values[key][..., gone] = 0
            if "bias" in values:
                values["bias"][gone] = 0
        elif isinstance(layer, L.DepthwiseConv2D | L.DepthwiseConv1D) and "bias" in values:
            values["bias"][~np.repeat(plan.input_mask(layer.name), layer.depth_multiplier)] = 0
        elif isinstance(layer, L.BatchNormalization):
            gone = ~plan.input_mask(layer.name)
            values["beta"][gone] = 0
            values["moving_mean"][gone] = 0
        for w in layer.weights:
            w.assign(values[w.name])


def inputs_for(model, n=4, seed=1):
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype("float32")


def assert_equivalent(model, plan):
    """Pruning channels that contribute nothing must not change the outputs."""
    randomize(model)
    zero_removed(model, plan)
    replanned = plan_structured(model, ratio=plan.ratio, scope=plan.scope)
    for group, mask in plan.keep.items():  # zero filters are the lowest L1 norms
        np.testing.assert_array_equal(replanned.keep[group], mask)
    thin = apply_plan(model, plan)
    x = inputs_for(model)
    np.testing.assert_allclose(thin(x), model(x), atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_every_family_gets_smaller_and_still_predicts(name):
    model = small_model(name)
    thin, plan = prune_structured(model, ratio=0.5)
    before, after = summarize(model), summarize(thin)
    assert after.total_params < before.total_params
    assert after.total_macs < before.total_macs
    assert thin(inputs_for(model)).shape == (4, 5)
    assert [layer.name for layer in thin.layers] == [layer.name for layer in model.layers]
    assert any(row["channels_after"] < row["channels_before"] for row in plan.layers())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_removing_channels_that_output_zero_keeps_the_outputs(name):
    model = small_model(name)
    assert_equivalent(model, plan_structured(model, ratio=0.5))


def test_global_scope_is_equivalent_too():
    model = small_model("resnet8")
    assert_equivalent(model, plan_structured(model, ratio=0.4, scope="global"))


def test_depth_multiplier_and_separable_convs_stay_aligned():
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", name="c1")(inputs)
    x = L.BatchNormalization(name="c1_bn")(x)
    x = L.ReLU()(x)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.ReLU()(x)
    x = L.SeparableConv2D(6, 3, depth_multiplier=2, padding="same", name="sep")(x)
    x = L.BatchNormalization(name="sep_bn")(x)
    x = L.ReLU()(x)
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    plan = plan_structured(model, ratio=0.5)
    assert plan.input_mask("dw_bn").size == 16 and plan.input_mask("dw_bn").sum() == 8
    assert_equivalent(model, plan)
    thin = apply_plan(model, plan)
    assert thin.get_layer("dw").depth_multiplier == 2
    assert thin.get_layer("sep").pointwise_kernel.shape == (1, 1, 4 * 2 * 2, 3)


def test_sequential_models_with_flatten_are_pruned():
    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        L.Conv2D(6, 3, activation="relu", name="c1"),
        L.MaxPooling2D(name="pool"),
        L.Flatten(name="flat"),
        L.Dense(10, activation="relu", name="d1"),
        L.Dense(3, name="out"),
    ])  # fmt: skip
    plan = plan_structured(model, ratio=0.5)
    assert plan.input_mask("d1").size == 3 * 3 * 6  # the channel mask repeats per position
    assert_equivalent(model, plan)


def test_add_prunes_its_inputs_together():
    model = small_model("resnet8")
    graph = analyze(model)
    stack1 = {graph.producers[n] for n in ("conv1", "stack1_conv2")}
    stack2 = {graph.producers[n] for n in ("stack2_shortcut", "stack2_conv2")}
    assert len(stack1) == 1 and len(stack2) == 1
    assert graph.producers["stack1_conv1"] not in stack1  # inside a block: its own group
    rows = {row["name"]: row for row in plan_structured(model, ratio=0.5).layers()}
    assert rows["stack2_shortcut"]["channels_after"] == rows["stack2_conv2"]["channels_after"]
    assert rows["stack2_shortcut"]["shared_with"] == ["stack2_conv2"]


def test_concatenate_chains_the_masks_of_its_inputs():
    model = small_model("inception_tiny")
    plan = plan_structured(model, ratio=0.5)
    branches = ("mixed1_1x1", "mixed1_3x3", "mixed1_5x5b", "mixed1_pool_proj")
    chained = np.concatenate([plan.output_mask(b) for b in branches])
    np.testing.assert_array_equal(plan.input_mask("mixed2_1x1"), chained)


def test_model_input_and_output_keep_all_channels():
    model = small_model("vgg_tiny")
    graph = analyze(model)
    output_group = graph.groups[graph.producers["predictions"]]
    assert output_group.fixed and output_group.size == 5
    plan = plan_structured(model, ratio=0.9)
    assert plan.input_mask("block1_conv1").all()
    assert plan.output_mask("predictions").all()
    assert all(row["channels_after"] >= 1 for row in plan.layers())


def test_an_add_of_different_layouts_keeps_those_channels():
    inputs = keras.Input((8, 8, 3))
    a = L.Conv2D(8, 1, name="a")(inputs)
    b = L.Conv2D(4, 1, name="b")(inputs)
    c = L.Conv2D(4, 1, name="c")(inputs)
    x = L.Add(name="add")([a, L.Concatenate(name="cat")([b, c])])
    x = L.Conv2D(6, 3, name="d")(x)
    outputs = L.Dense(2, name="out")(L.Flatten()(x))
    model = keras.Model(inputs, outputs)
    plan = plan_structured(model, ratio=0.5)
    rows = {row["name"]: row for row in plan.layers()}
    assert all(rows[n]["fixed"] and rows[n]["channels_after"] == rows[n]["channels_before"]
               for n in "abc")  # fmt: skip
    assert rows["d"]["channels_after"] == 3
    assert_equivalent(model, plan)


def test_global_scope_spreads_the_ratio_and_caps_each_group():
    model = small_model("vgg_tiny")
    plan = plan_structured(model, ratio=0.6, scope="global", max_group_ratio=0.5)
    rows = [row for row in plan.layers() if not row["fixed"]]
    for row in rows:
        assert row["channels_after"] >= row["channels_before"] / 2
    plan = plan_structured(model, ratio=0.5, scope="global")
    before = sum(row["channels_before"] for row in rows)
    after = sum(row["channels_after"] for row in plan.layers() if not row["fixed"])
    assert after == before / 2
    assert all(row["channels_after"] >= 1 for row in plan.layers())


def test_bn_criterion_ranks_channels_by_gamma():
    model = small_model("vgg_tiny")
    bn = model.get_layer("block1_conv1_bn")
    gamma = np.ones(16, "float32")
    gamma[8:] = 0.01  # the last half barely matters to the BN
    bn.gamma.assign(gamma)
    plan = plan_structured(model, ratio=0.5, criterion="bn")
    np.testing.assert_array_equal(plan.output_mask("block1_conv1"), np.arange(16) < 8)


def test_pruned_model_still_learns():
    """The thinner model trains: its loss falls and it tells apart five classes whose inputs
    differ in mean level (seeded; a high learning rate makes three epochs enough)."""
    keras.utils.set_random_seed(SEED)
    model = small_model("resnet8")
    thin, _ = prune_structured(model, ratio=0.5)
    y = np.arange(20) % 5
    x = 0.3 * inputs_for(model, n=20, seed=SEED) + (y - 2)[:, None, None, None].astype("float32")
    # Eager: a few steps do not pay for tracing the training function.
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    thin.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", run_eagerly=True)
    history = thin.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert_learned(history.history["loss"], accuracy_of(thin.predict(x, verbose=0), y), 5)


class Scale(L.Layer):
    def call(self, x):
        return x * 2.0


@pytest.mark.parametrize("layer", [L.Conv2DTranspose(4, 3, name="up"), Scale(name="up")])
def test_layers_it_cannot_prune_are_named(layer):
    inputs = keras.Input((8, 8, 3))
    x = layer(L.Conv2D(4, 3, name="c")(inputs))
    model = keras.Model(inputs, L.Dense(2)(L.Flatten()(x)))
    with pytest.raises(ModelError, match=r"'up' \((Conv2DTranspose|Scale)\)"):
        plan_structured(model, ratio=0.5)


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.1, True, "half", float("nan")])
def test_ratio_must_be_strictly_between_0_and_1(ratio):
    with pytest.raises(BadInputError, match="ratio must be a fraction"):
        plan_structured(small_model("lenet5"), ratio=ratio)


def test_unknown_scope_and_criterion_list_the_choices():
    with pytest.raises(BadInputError, match="scope must be one of layer, global; got 'net'"):
        plan_structured(small_model("lenet5"), ratio=0.5, scope="net")
    with pytest.raises(BadInputError, match="criterion must be one of l1, bn"):
        plan_structured(small_model("lenet5"), ratio=0.5, criterion="l2")


@pytest.mark.parametrize("name", ["vgg_tiny", "resnet8"])
def test_half_the_channels_cost_about_a_quarter_of_the_macs(name):
    model = small_model(name)
    thin, _ = prune_structured(model, ratio=0.5)
    ratio = summarize(thin).total_macs / summarize(model).total_macs
    assert 0.25 <= ratio <= 0.55
