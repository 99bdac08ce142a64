"""The streaming front end: overlapping windows reuse their shared frames, same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.device.audiostream import StreamingFrontEnd
from tests.audio_clips import small_front_end

FRONT = small_front_end()


def windows(stream: np.ndarray, hop: int):
    for start in range(0, len(stream) - FRONT.clip_samples + 1, hop):
        yield stream[start : start + FRONT.clip_samples]


@pytest.mark.parametrize("hop, reuses", [(128, True), (384, True), (100, False), (2000, False)])
def test_streaming_features_equal_whole_clip_features(hop, reuses):
    stream = np.random.default_rng(hop).standard_normal(12000).astype(np.float32) * 0.2
    front = StreamingFrontEnd(FRONT, hop=hop)
    count = 0
    for clip in windows(stream, hop):
        assert np.array_equal(front(clip), FRONT.compute(clip))
        count += 1
    assert (front.reused == count - 1) if reuses else front.reused == 0


def test_a_window_that_does_not_continue_is_computed_whole():
    rng = np.random.default_rng(1)
    front = StreamingFrontEnd(FRONT, hop=128)
    first, other = rng.standard_normal((2, 2000)).astype(np.float32)
    front(first)
    assert np.array_equal(front(other), FRONT.compute(other)) and front.reused == 0
    moved = np.concatenate([other[128:], rng.standard_normal(128).astype(np.float32)])
    assert np.array_equal(front(moved), FRONT.compute(moved)) and front.reused == 1


def test_input_feed_streams_audio_windows():
    from edgecnn.core.preprocess import DataKind, Preprocessing
    from edgecnn.device.feed import InputFeed
    from edgecnn.device.interpreter import TensorInfo

    pre = Preprocessing(
        kind=DataKind.AUDIO, input_shape=FRONT.feature_shape, audio=FRONT, window=2000,
        hop=128, sample_rate_hz=8000, mean=(-3.0,), std=(4.0,),
    )  # fmt: skip
    tensor = TensorInfo(shape=(1, *FRONT.feature_shape), dtype="int8", scale=0.05, zero_point=-3)
    feed = InputFeed(pre, tensor)
    stream = np.random.default_rng(2).standard_normal(6000).astype(np.float32) * 0.2
    for clip in windows(stream, 128):
        expected = tensor.quantize(pre.apply(clip)[np.newaxis])
        assert np.array_equal(feed(clip[:, np.newaxis]), expected)
    assert feed.audio.reused > 0


def test_int16_pcm_is_scaled_like_float_samples():
    from edgecnn.core.preprocess import DataKind, Preprocessing

    pcm = np.random.default_rng(4).integers(-20000, 20000, 2000).astype(np.int16)
    pre = Preprocessing(kind=DataKind.AUDIO, input_shape=FRONT.feature_shape, audio=FRONT,
                        window=2000, hop=128, sample_rate_hz=8000)  # fmt: skip
    as_float = pcm.astype(np.float32) / 32768
    assert np.array_equal(pre.apply(pcm), pre.apply(as_float))
    assert np.array_equal(StreamingFrontEnd(FRONT, hop=128)(pcm), FRONT.compute(as_float))
