"""The runtime's per-window path at the interpreter boundary: raw sample in, scores out.

Same numbers as ``Preprocessing.apply`` then ``TensorInfo.quantize`` (and
``TensorInfo.dequantize`` on the way out), with less work per window: 8-bit raw samples
(camera frames, image files) and 8-bit outputs go through 256-entry tables made by those
very functions, so every value is what the general path gives, bit for bit; other samples
take the general path. Audio windows go through a streaming front end that computes only
the frames a window adds to the previous one (the same numbers as the whole clip's).

Device side: numpy only.
"""

from __future__ import annotations

import numpy as np

from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.audiostream import StreamingFrontEnd
from edgecnn.device.interpreter import TensorInfo

BYTE_VALUES = np.arange(256, dtype=np.uint8)
# Up to this many channels a Python loop over them beats one two-array fancy index (RGB:
# 14 vs 24 us for 32x32x3 here); beyond it the loop's per-channel cost dominates.
FEW_CHANNELS = 8


class InputFeed:
    """Turns one raw sample into the model's batch-of-one input tensor.

    Args:
        pre: the model's preprocessing.
        tensor: the model's input tensor.
    """

    def __init__(self, pre: Preprocessing, tensor: TensorInfo) -> None:
        self.pre, self.tensor = pre, tensor
        self.sample_shape = tuple(pre.input_shape)
        self.batch_shape = (1, *self.sample_shape)
        self.per_channel = pre.mean is not None or pre.std is not None
        self.table = _input_table(pre, tensor, self.per_channel)
        # int8/uint8 input: bytes.translate maps every byte through a 256-byte table in C,
        # a faster gather than numpy's (which first widens the indices to intp).
        one_byte = self.table.dtype.itemsize == 1 and not self.per_channel
        self.byte_table = self.table.tobytes() if one_byte else None
        self.audio = StreamingFrontEnd(pre.audio, hop=pre.hop or 1) if pre.audio else None

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw)
        if self.audio is not None and raw.shape[:1] == self.pre.raw_shape:
            features = self.audio(raw)  # only the frames a new window adds are computed
            return self.tensor.quantize(self.pre.transform(features)[np.newaxis])
        if raw.dtype != np.uint8 or raw.shape != self.sample_shape:
            return self.tensor.quantize(self.pre.apply(raw)[np.newaxis])
        if self.byte_table is not None:
            mapped = raw.tobytes().translate(self.byte_table)
            return np.frombuffer(mapped, self.table.dtype).reshape(self.batch_shape)
        if not self.per_channel:
            return self.table.take(raw)[np.newaxis]  # the method skips np.take's dispatch
        channels = self.table.shape[1]
        if channels > FEW_CHANNELS:  # e.g. per-feature stats of a flat (784,) sample
            return self.table[raw, np.arange(channels)][np.newaxis]
        out = np.empty(self.batch_shape, self.table.dtype)
        for channel in range(channels):
            out[0, ..., channel] = self.table[raw[..., channel], channel]
        return out


class OutputDecoder:
    """Turns the raw output tensor of one sample into float32 scores.

    Args:
        tensor: the model's output tensor.
    """

    def __init__(self, tensor: TensorInfo) -> None:
        self.tensor = tensor
        self.table = None
        if tensor.quantized and np.dtype(tensor.dtype).itemsize == 1:
            every_value = BYTE_VALUES.view(tensor.dtype)  # int8: 0..127, -128..-1 by bits
            self.table = tensor.dequantize(every_value)

    def __call__(self, raw_scores: np.ndarray) -> np.ndarray:
        if self.table is None:
            return self.tensor.dequantize(raw_scores)
        return self.table.take(raw_scores.view(np.uint8))


def _input_table(pre: Preprocessing, tensor: TensorInfo, per_channel: bool) -> np.ndarray:
    """The input tensor's value for every 8-bit raw value: (256,), or (256, channels)."""
    values = BYTE_VALUES
    if per_channel:
        values = np.repeat(BYTE_VALUES[:, np.newaxis], pre.input_shape[-1], axis=1)
    return np.ascontiguousarray(tensor.quantize(pre.transform(values)))
