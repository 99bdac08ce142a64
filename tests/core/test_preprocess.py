import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import DataKind, Preprocessing, channel_stats


def test_apply_scales_then_normalizes_per_channel():
    pre = Preprocessing(kind=DataKind.SENSOR, input_shape=(4, 2), scale=2.0).with_stats(
        np.array([1.0, -1.0]), np.array([2.0, 0.0])
    )
    raw = np.array([[1.0, 0.5]] * 4)
    out = pre.apply(raw)
    assert out.dtype == np.float32
    assert np.allclose(out, [[(2 - 1) / 2, (1 + 1) / 1]] * 4)  # zero std is replaced by 1


def test_round_trip_through_dict():
    pre = Preprocessing(
        kind=DataKind.IMAGE, input_shape=(8, 8, 1), scale=1 / 16, color_mode="grayscale"
    )
    assert Preprocessing.from_dict(pre.to_dict()) == pre


def test_unknown_key_and_wrong_shape_are_refused():
    with pytest.raises(BadInputError, match="unknown keys"):
        Preprocessing.from_dict({"kind": "image", "input_shape": [1], "colour": "x"})
    pre = Preprocessing(kind=DataKind.ARRAY, input_shape=(3,))
    with pytest.raises(BadInputError, match="does not end with"):
        pre.apply(np.zeros((2, 4)))


def test_channel_stats():
    x = np.stack([np.zeros((10, 5)), np.ones((10, 5)) * 4], axis=-1)
    mean, std = channel_stats(x, scale=0.5, offset=1.0)
    assert np.allclose(mean, [1.0, 3.0]) and np.allclose(std, [0.0, 0.0])
