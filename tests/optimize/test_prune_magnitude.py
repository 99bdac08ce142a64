import gzip

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.optimize.pruning.finetune import sparsity_schedule
from edgecnn.optimize.pruning.magnitude import (
    ConstantSparsity,
    MagnitudePruning,
    PolynomialDecay,
    find_targets,
    magnitude_mask,
    overall_sparsity,
    prune_once,
    sparsity_report,
    strip_pruning,
)
from edgecnn.training import tfdeps
from edgecnn.training.modelio import load_keras_model, save_keras_model
from edgecnn.training.models import build_model

keras = tfdeps.keras()


def vgg():
    return build_model("vgg_tiny", input_shape=(8, 8, 1), num_classes=3, seed=0)


def zeros(variable):
    return int(np.sum(np.asarray(variable) == 0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConstantSparsity(1.0), r"target_sparsity must be in \[0, 1\); got 1.0"),
        (lambda: ConstantSparsity(-0.1), r"target_sparsity must be in \[0, 1\); got -0.1"),
        (lambda: ConstantSparsity(0.5, begin_step=-1), "begin_step must be an integer >= 0"),
        (lambda: ConstantSparsity(0.5, frequency=0), "frequency must be an integer >= 1; got 0"),
        (lambda: ConstantSparsity(0.5, begin_step=10, end_step=5), "end_step must be greater"),
        (lambda: PolynomialDecay(0.0, 1.2, 0, 100), r"final_sparsity must be in \[0, 1\)"),
        (lambda: PolynomialDecay(0.9, 0.5, 0, 0), "end_step must be greater than begin_step"),
        (lambda: PolynomialDecay(0.1, 0.5, 50, 20), "begin_step \\(50\\); got 20"),
        (lambda: PolynomialDecay(0.1, 0.5, 0, -1), "end_step must be an integer >= 0"),
        (lambda: PolynomialDecay(0.1, 0.5, 0, 10, frequency=1.5), "frequency must be an integer"),
        (lambda: PolynomialDecay(0.1, "x", 0, 10), r"final_sparsity must be in \[0, 1\); got 'x'"),
    ],
)
def test_schedules_refuse_bad_values_like_tf_mot(make, message):
    with pytest.raises(BadInputError, match=message):
        make()


def test_polynomial_decay_follows_the_cubic_ramp():
    schedule = PolynomialDecay(0.0, 0.8, begin_step=10, end_step=110, frequency=10)
    assert schedule(10) == (True, 0.0)
    assert schedule(60)[1] == pytest.approx(0.8 - 0.8 * 0.5**3)
    assert schedule(110) == (True, pytest.approx(0.8))
    assert schedule(500) == (False, pytest.approx(0.8))  # masks stay, no more updates
    assert schedule(5)[0] is False and schedule(15)[0] is False and schedule(20)[0] is True


def test_constant_sparsity_updates_on_its_frequency_within_its_range():
    schedule = ConstantSparsity(0.5, begin_step=2, end_step=8, frequency=3)
    assert [s for s in range(12) if schedule(s)[0]] == [2, 5, 8]
    assert schedule(0) == (False, 0.5)
    assert [s for s in range(7) if ConstantSparsity(0.5, frequency=3)(s)[0]] == [0, 3, 6]


def test_magnitude_mask_drops_exactly_the_smallest_weights():
    values = np.array([[0.5, -0.1], [3.0, -2.0], [0.05, 1.0]])
    keep = magnitude_mask(values, 0.5)
    np.testing.assert_array_equal(keep, [[False, False], [True, True], [False, True]])
    assert magnitude_mask(values, 0.0).all()
    big = np.random.default_rng(0).normal(size=(3, 3, 16, 32))
    assert (~magnitude_mask(big, 0.8)).sum() == round(0.8 * big.size)


def test_targets_are_kernels_only_and_small_or_first_layers_can_be_skipped():
    model = vgg()
    targets, skipped = find_targets(model, min_weights=150)
    assert {t.weight for t in targets} == {"kernel"}
    assert [s["name"] for s in skipped] == ["block1_conv1"]  # 3x3x1x16 = 144 weights
    assert skipped[0]["skipped"] == "fewer than 150 weights"
    targets, skipped = find_targets(model, min_weights=0, skip_first=True)
    assert [s["skipped"] for s in skipped] == ["first layer"]
    names = [t.layer for t in targets]
    assert "block1_conv1" not in names and "predictions" in names
    assert not any("bn" in name for name in names)


def test_the_callback_keeps_pruned_weights_at_zero_while_training():
    model = vgg()
    targets, _ = find_targets(model, min_weights=0)
    # Masks are set at step 0 and never updated: the same weights must stay zero.
    callback = MagnitudePruning(targets, ConstantSparsity(0.7, frequency=10_000))
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
        run_eagerly=True,  # a few tiny steps: tracing would cost more than running
    )  # fmt: skip
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    model.fit(x, np.arange(32) % 3, batch_size=8, epochs=2, callbacks=[callback], verbose=0)
    for i, target in enumerate(targets):
        values = np.asarray(target.variable)
        np.testing.assert_array_equal(values == 0, ~callback.masks[i])
        assert (values == 0).mean() == pytest.approx(0.7, abs=0.01)
    assert zeros(model.get_layer("predictions").bias) == 0  # starts at 0, trains, not pruned
    bn = model.get_layer("block1_conv1_bn")
    assert zeros(bn.gamma) == 0 and zeros(bn.moving_variance) == 0


@pytest.mark.slow
def test_a_polynomial_ramp_reaches_its_target_during_fit():
    model = vgg()
    targets, _ = find_targets(model, min_weights=0)
    callback = MagnitudePruning(targets, sparsity_schedule(0.6, steps=12))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    x = np.random.default_rng(0).normal(size=(24, 8, 8, 1)).astype("float32")
    model.fit(x, np.arange(24) % 3, batch_size=8, epochs=4, callbacks=[callback], verbose=0)
    assert callback.sparsity == pytest.approx(0.6)
    rows = sparsity_report(model, targets, [])
    assert all(row["sparsity"] == pytest.approx(0.6, abs=0.01) for row in rows)


def test_stripped_model_is_the_plain_model_with_zeros_and_compresses(tmp_path):
    model = vgg()
    targets, skipped = find_targets(model, min_weights=64)
    dense_path = save_keras_model(model, tmp_path / "dense.keras")
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)  # its slots must not be saved
    prune_once(targets, 0.8)
    stripped = strip_pruning(model)
    assert not stripped.compiled
    assert [w.path for w in stripped.weights] == [w.path for w in model.weights]
    path = save_keras_model(stripped, tmp_path / "sparse.keras")
    loaded = load_keras_model(path)
    assert len(loaded.weights) == len(vgg().weights)
    rows = sparsity_report(loaded, find_targets(loaded, min_weights=64)[0], skipped)
    assert len(rows) == len(targets)
    assert all(row["sparsity"] == pytest.approx(0.8, abs=0.005) for row in rows)
    assert overall_sparsity(rows) == pytest.approx(0.8, abs=0.001)
    x = np.ones((1, 8, 8, 1), "float32")
    np.testing.assert_allclose(loaded(x), stripped(x), atol=1e-6)
    dense_gz = len(gzip.compress(dense_path.read_bytes()))
    assert len(gzip.compress(path.read_bytes())) < 0.5 * dense_gz
    assert abs(path.stat().st_size - dense_path.stat().st_size) < 0.05 * dense_path.stat().st_size


def test_the_fine_tuning_schedule_lands_on_the_target():
    for steps in (1, 3, 40, 1000):
        schedule = sparsity_schedule(0.8, steps=steps)
        last = max(s for s in range(steps) if schedule(s)[0])
        assert schedule(last)[1] == pytest.approx(0.8)
