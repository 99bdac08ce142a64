"""The runtime's fast per-window path gives exactly the numbers of the general path."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.feed import InputFeed, OutputDecoder
from edgecnn.device.interpreter import TensorInfo
from edgecnn.device.post import PostProcessor
from edgecnn.device.runner import Runner
from tests.testkit import FIXTURES

SHAPE = (16, 16, 3)

TENSORS = {
    "int8 1/255": TensorInfo((1, *SHAPE), "int8", 1 / 255, -128),
    "int8 1/256": TensorInfo((1, *SHAPE), "int8", 0.003906190162524581, -128),
    "int8 coarse": TensorInfo((1, *SHAPE), "int8", 0.0173, 3),
    "uint8": TensorInfo((1, *SHAPE), "uint8", 0.0041, 128),
    "int16": TensorInfo((1, *SHAPE), "int16", 3.1e-05, 0),
    "float32": TensorInfo((1, *SHAPE), "float32", 0.0, 0),
}
PREPROCESSINGS = {
    "image": Preprocessing(DataKind.IMAGE, SHAPE, scale=1 / 255),
    "offset": Preprocessing(DataKind.IMAGE, SHAPE, scale=1 / 127.5, offset=-1.0),
    "per-channel": Preprocessing(
        DataKind.ARRAY, SHAPE, scale=1 / 255, mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26)
    ),
}


def general_path(pre: Preprocessing, tensor: TensorInfo, raw: np.ndarray) -> np.ndarray:
    return tensor.quantize(pre.apply(raw)[np.newaxis])


def every_byte_in_every_channel() -> np.ndarray:
    """Samples that together hold each value 0..255 at each position of every channel."""
    rng = np.random.default_rng(0)
    shifted = [(np.arange(np.prod(SHAPE)) + k) % 256 for k in range(256)]
    samples = np.stack(shifted).astype(np.uint8).reshape(-1, *SHAPE)
    return np.concatenate([samples, rng.integers(0, 256, (8, *SHAPE), np.uint8)])


@pytest.mark.parametrize("tensor_name", TENSORS)
@pytest.mark.parametrize("pre_name", PREPROCESSINGS)
def test_8bit_samples_get_exactly_the_general_paths_tensor(pre_name, tensor_name):
    pre, tensor = PREPROCESSINGS[pre_name], TENSORS[tensor_name]
    feed = InputFeed(pre, tensor)
    for raw in every_byte_in_every_channel()[::17]:
        fast, slow = feed(raw), general_path(pre, tensor, raw)
        assert fast.dtype == slow.dtype and fast.shape == slow.shape == (1, *SHAPE)
        assert fast.tobytes() == slow.tobytes()


def test_the_table_covers_every_byte_value():
    pre, tensor = PREPROCESSINGS["per-channel"], TENSORS["int8 coarse"]
    feed = InputFeed(pre, tensor)
    samples = every_byte_in_every_channel()
    fast = np.concatenate([feed(raw) for raw in samples])
    assert fast.tobytes() == general_path(pre, tensor, samples)[0].tobytes()


def test_float_and_misshapen_samples_take_the_general_path():
    pre, tensor = PREPROCESSINGS["image"], TENSORS["int8 coarse"]
    feed = InputFeed(pre, tensor)
    halves = (np.arange(np.prod(SHAPE)) / 2).reshape(SHAPE).astype(np.float32)  # .5 ties
    assert feed(halves).tobytes() == general_path(pre, tensor, halves).tobytes()
    with pytest.raises(BadInputError, match="does not end with the model input shape"):
        feed(np.zeros((4, 4, 3), np.uint8))


def test_results_are_not_overwritten_by_the_next_sample():
    feed = InputFeed(PREPROCESSINGS["per-channel"], TENSORS["int8 coarse"])
    first = feed(np.zeros(SHAPE, np.uint8))
    kept = first.copy()
    feed(np.full(SHAPE, 255, np.uint8))
    assert np.array_equal(first, kept)


@pytest.mark.parametrize(
    "tensor",
    [
        TensorInfo((1, 10), "int8", 1 / 256, -128),
        TensorInfo((1, 10), "uint8", 0.0039, 3),
        TensorInfo((1, 10), "int16", 3.1e-05, 0),
        TensorInfo((1, 10), "float32", 0.0, 0),
    ],
)
def test_output_decoding_equals_dequantize_for_every_value(tensor):
    decode = OutputDecoder(tensor)
    kind = np.dtype(tensor.dtype)
    if kind.kind == "f":
        values = np.linspace(-3, 3, 10, dtype=np.float32)
    else:
        low, high = np.iinfo(kind).min, np.iinfo(kind).max
        values = np.linspace(low, high, 256 * 10).astype(kind)
    for row in values.reshape(-1, 10):
        fast, slow = decode(row), tensor.dequantize(row)
        assert fast.dtype == np.float32 and fast.tobytes() == slow.tobytes()


@pytest.mark.parametrize("stem", ["digits-lenet5-int8", "digits-lenet5-fp32"])
def test_runner_fast_path_equals_predict_raw(stem):
    runner = Runner(FIXTURES / f"{stem}.tflite")
    raw = np.random.default_rng(1).integers(0, 17, (40, *runner.input_shape), np.uint8)
    fast = np.stack([runner.infer(runner.feed(r)) for r in raw])
    assert fast.tobytes() == runner.predict_raw(raw).tobytes()


def test_post_processing_ranks_like_a_stable_numpy_sort():
    labels = list("abcdef")
    rng = np.random.default_rng(2)
    cases = [rng.random(6).astype(np.float32) for _ in range(50)]
    cases += [np.array([0.2, 0.4, 0.4, 0.0, 0.4, 0.1], np.float32)]  # three-way tie
    cases += [np.array([0.2, np.nan, 0.5, 0.3, 0.0, 0.1], np.float32)]
    post = PostProcessor(labels, top_k=3)
    for probs in cases:
        order = np.argsort(-probs.astype(np.float64), kind="stable")[:3]
        decision = post(probs)
        assert [label for label, _ in decision.top] == [labels[i] for i in order]
        assert decision.label == labels[order[0]]


def test_smoothing_averages_the_last_windows():
    post = PostProcessor(["a", "b"], smooth=2)
    post(np.array([0.9, 0.1], np.float32))
    second = post(np.array([0.2, 0.8], np.float32))
    assert second.label == "a" and second.score == pytest.approx(0.55, abs=1e-4)
    third = post(np.array([0.2, 0.8], np.float32))
    assert third.label == "b" and third.score == pytest.approx(0.8, abs=1e-4)


def test_many_per_feature_stats_take_one_fancy_index_with_the_same_numbers():
    features = 784
    rng = np.random.default_rng(3)
    pre = Preprocessing(
        DataKind.ARRAY,
        (features,),
        scale=1 / 255,
        mean=tuple(rng.uniform(0, 1, features)),
        std=tuple(rng.uniform(0.1, 1, features)),
    )
    tensor = TensorInfo((1, features), "int8", 0.031, -7)
    feed = InputFeed(pre, tensor)
    for raw in rng.integers(0, 256, (20, features), np.uint8):
        assert feed(raw).tobytes() == general_path(pre, tensor, raw).tobytes()


def test_int32_inputs_clip_at_their_limits():
    tensor = TensorInfo((1, 3), "int32", 1.0, 0)
    q = tensor.quantize(np.float32([3e9, -3e9, 7.5]))
    assert q.tolist() == [2**31 - 1, -(2**31), 8]


def test_post_processing_scores_are_floats_and_keep_the_first_windows_value():
    assert isinstance(PostProcessor(["a", "b"])(np.array([1, 0])).score, float)
    first = PostProcessor(["a"], smooth=2)(np.float32([-0.0]))
    assert str(first.score) == "-0.0"  # as before: the first window is not averaged


def test_stats_that_do_not_match_the_channels_are_refused():
    with pytest.raises(BadInputError, match="mean has 3 values; the input shape"):
        Preprocessing(DataKind.IMAGE, (8, 8, 1), mean=(0.1, 0.2, 0.3))
    data = PREPROCESSINGS["per-channel"].to_dict() | {"std": [1.0]}
    with pytest.raises(BadInputError, match="std has 1 values"):
        Preprocessing.from_dict(data)
