import numpy as np
import pytest

from edgecnn.core.errors import BadInputError, DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.augment import augment_batch, parse_augment
from edgecnn.training.data.balance import Balance, class_weights, resample


def test_parse_defaults_and_amounts():
    spec = parse_augment("shift, rotate=15,noise", DataKind.IMAGE)
    assert spec.to_dict() == {"shift": 0.1, "rotate": 15.0, "noise": 0.02}
    assert not parse_augment(None, DataKind.IMAGE) and not parse_augment("none", DataKind.SENSOR)


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("jitter", DataKind.IMAGE, "does not apply"),
        ("shift", DataKind.SENSOR, "does not apply"),
        ("shift=abc", DataKind.IMAGE, "must be a number"),
        ("zoom=3", DataKind.IMAGE, "out of range"),
    ],
)
def test_parse_errors(text, kind, message):
    with pytest.raises(BadInputError, match=message):
        parse_augment(text, kind)


def test_image_augmentation_keeps_shape_and_changes_pixels():
    rng = np.random.default_rng(0)
    x = rng.random((4, 8, 8, 1)).astype(np.float32)
    spec = parse_augment("shift=0.2,zoom,rotate=20,hflip,noise", DataKind.IMAGE)
    out = augment_batch(x, spec, np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.allclose(out, x)
    assert np.array_equal(augment_batch(x, spec, np.random.default_rng(1)), out)  # seeded


def test_sensor_augmentation():
    x = np.tile(np.arange(20, dtype=np.float32)[None, :, None], (3, 1, 2))
    spec = parse_augment("timeshift=0.2,scale,jitter", DataKind.SENSOR)
    out = augment_batch(x, spec, np.random.default_rng(0))
    assert out.shape == x.shape and not np.allclose(out, x)


def test_magnitude_warp_is_a_smooth_gain_per_channel():
    x = np.ones((2, 64, 3), dtype=np.float32)
    spec = parse_augment("magwarp=0.3", DataKind.SENSOR)
    gains = augment_batch(x, spec, np.random.default_rng(0))
    assert gains.shape == x.shape and gains.std() > 0.05  # it changes magnitudes...
    assert np.abs(np.diff(gains, axis=1)).max() < 0.1  # ...smoothly over time
    assert not np.allclose(gains[0, :, 0], gains[0, :, 1])  # independently per channel
    assert np.array_equal(augment_batch(x, spec, np.random.default_rng(0)), gains)  # seeded


def test_class_weights_and_resampling():
    y = np.array([0] * 8 + [1] * 2)
    weights = class_weights(y, 2)
    assert weights[1] == pytest.approx(4 * weights[0])
    x = np.arange(10, dtype=np.float32)[:, None, None]
    xo, yo = resample(x, y, Balance.OVERSAMPLE, seed=0)
    assert np.bincount(yo).tolist() == [8, 8] and set(xo[:, 0, 0]) == set(range(10))
    assert (y[xo[:, 0, 0].astype(int)] == yo).all() and yo[:8].tolist() != sorted(yo[:8])
    xu, yu = resample(x, y, Balance.UNDERSAMPLE, seed=0)
    assert np.bincount(yu).tolist() == [2, 2] and set(xu[yu == 1, 0, 0]) == {8, 9}
    again, _ = resample(x, y, Balance.UNDERSAMPLE, seed=0)
    assert (again == xu).all()  # seeded
    single, _ = resample(x[:8], y[:8], Balance.OVERSAMPLE, seed=0)
    assert sorted(single[:, 0, 0]) == list(range(8))


def test_smote_makes_new_minority_samples():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (20, 4, 2)), rng.normal(5, 1, (5, 4, 2))])
    y = np.array([0] * 20 + [1] * 5)
    xs, ys = resample(x.astype(np.float32), y, Balance.SMOTE, seed=0)
    assert xs.shape[1:] == (4, 2) and np.bincount(ys).tolist() == [20, 20]
    with pytest.raises(DataError, match="SMOTE"):
        resample(x[:21], y[:21], Balance.SMOTE, seed=0)
