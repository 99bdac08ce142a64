"""Helpers shared by the model families: input checks and small Keras building blocks.

Checks are plain Python; the building blocks import Keras only when called, so importing
this module stays cheap.
"""

from __future__ import annotations

import numbers
from typing import Any

from edgecnn.core.errors import ModelError
from edgecnn.core.shapes import format_shape
from edgecnn.training import tfdeps

IMAGE_MODEL_HINT = "lenet5"
BN_MOMENTUM = 0.9
SEQUENCE_MODEL_HINT = "cnn1d"


def check_image_input(
    family: str, input_shape: tuple[int, ...], min_hw: tuple[int, int]
) -> tuple[int, int, int]:
    """Checks an image input shape (H, W, C) against a family's minimum size.

    Raises:
        ModelError: when the rank is not 3, a size is not positive or H/W are too small.

    Returns:
        The shape as a tuple of ints.
    """
    shape = _as_ints(family, input_shape)
    got = format_shape(shape)
    least = format_shape(min_hw)
    if len(shape) != 3:
        hint = f"use a sequence model such as {SEQUENCE_MODEL_HINT}"
        if len(shape) == 2:
            hint = f"add the channel count (e.g. {got}x1) or {hint}"
        elif len(shape) > 3:
            hint = f"leave out the batch axis (e.g. {format_shape(shape[-3:])})"
        raise ModelError(
            f"model {family} takes images shaped HxWxC (height x width x channels); "
            f"got {got} — {hint}"
        )
    if shape[0] < min_hw[0] or shape[1] < min_hw[1]:
        raise ModelError(f"model {family} takes images shaped HxWxC of at least {least}; got {got}")
    return shape  # type: ignore[return-value]


def check_sequence_input(
    family: str, input_shape: tuple[int, ...], min_t: tuple[int]
) -> tuple[int, int]:
    """Checks a window input shape (T, C) against a family's minimum length.

    Raises:
        ModelError: when the rank is not 2, a size is not positive or T is too short.

    Returns:
        The shape as a tuple of ints.
    """
    shape = _as_ints(family, input_shape)
    got = format_shape(shape)
    if len(shape) != 2:
        hint = f"use an image model such as {IMAGE_MODEL_HINT}"
        if len(shape) == 1:
            hint = f"give the channel count too, e.g. {got}x1"
        raise ModelError(
            f"model {family} takes windows shaped TxC (samples x channels); got {got} — {hint}"
        )
    if shape[0] < min_t[0]:
        raise ModelError(
            f"model {family} takes windows shaped TxC (samples x channels) of at least "
            f"{min_t[0]} samples; got {got}"
        )
    return shape  # type: ignore[return-value]


def check_options(
    family: str, *, num_classes: int, width: float, dropout: float = 0.0, l2: float = 0.0
) -> None:
    """Checks the options every family shares.

    Raises:
        ModelError: naming the first option that is out of range.
    """
    if not _is_int(num_classes) or num_classes < 2:
        raise ModelError(f"model {family} needs at least 2 classes; got {num_classes!r}")
    if not _is_number(width) or width <= 0:
        raise ModelError(f"width must be a positive multiplier such as 0.5 or 1.0; got {width!r}")
    check_rate("dropout", dropout)
    if not _is_number(l2) or l2 < 0:
        raise ModelError(f"l2 must be a weight-decay factor >= 0 such as 1e-4; got {l2!r}")


def check_rate(option: str, value: float) -> None:
    """Checks a dropout-like rate is in [0, 1).

    Raises:
        ModelError: naming the option and the value received.
    """
    if not _is_number(value) or not 0 <= value < 1:
        raise ModelError(f"{option} must be a rate from 0 up to (not including) 1; got {value!r}")


def check_sizes(option: str, values: Any, *, count: int | None = None) -> tuple[int, ...]:
    """Checks a tuple option of positive integers (filters, kernel lengths); returns it.

    Raises:
        ModelError: naming the option, the value received and ``count`` (None: one or more).
    """
    try:
        sizes = tuple(values)
    except TypeError:
        sizes = ()
    fits = bool(sizes) and all(_is_int(v) and v >= 1 for v in sizes)
    if not fits or (count is not None and len(sizes) != count):
        many = f"{count}" if count is not None else "one or more"
        raise ModelError(
            f"{option} must be {many} positive integers such as (8, 5, 3); got {values!r}"
        )
    return tuple(int(v) for v in sizes)


def check_count(option: str, value: Any) -> int:
    """Checks a count option (depth, channels) is a positive integer; returns it.

    Raises:
        ModelError: naming the option and the value received.
    """
    if not _is_int(value) or value < 1:
        raise ModelError(f"{option} must be a positive integer such as 3; got {value!r}")
    return int(value)


def window_kernel(kernel: int, window: int) -> int:
    """A temporal kernel length shortened to the window when it is longer.

    With 'same' padding a kernel longer than the window mostly multiplies padding: it costs
    parameters and MACs and learns little. Shortening keeps each family's structure at any
    window down to its minimum (InceptionTime's 40-sample kernels on a 24-sample window).
    """
    return max(1, min(int(kernel), int(window)))


def scaled(channels: int, width: float) -> int:
    """Scales a channel count by the width multiplier, keeping at least one channel."""
    return max(1, int(round(channels * width)))


def halving(dims: tuple[int, ...]) -> tuple[int, ...]:
    """Per-axis factor 2, or 1 on axes already down to one element.

    Used for pool sizes and strides so small or thin inputs (8x8, 49x10) still fit.
    """
    return tuple(2 if d >= 2 else 1 for d in dims)


def conv_strides(dims: tuple[int, ...]) -> tuple[int, ...]:
    """Stride 2 on every axis (1 when every axis is down to one element).

    For strided 'same'-padded convolutions on thin inputs (49x10 ends at 4x1): stride 2 over
    a one-element axis computes exactly what stride 1 does, and TensorFlow's CPU kernel for
    depthwise convolutions trains only with equal row and column strides.
    """
    stride = 2 if any(d >= 2 for d in dims) else 1
    return (stride,) * len(dims)


def spatial(x: Any) -> tuple[int, ...]:
    """The spatial (or temporal) sizes of a channels-last tensor."""
    return tuple(int(d) for d in x.shape[1:-1])


def regularizer(l2: float) -> Any:
    """An L2 kernel regularizer, or None when weight decay is off."""
    keras = tfdeps.keras()
    return keras.regularizers.L2(l2) if l2 else None


def conv_bn_relu(
    x: Any,
    filters: int,
    kernel: int | tuple[int, ...],
    *,
    name: str,
    l2: float,
    strides: int | tuple[int, ...] = 1,
    padding: str = "same",
    use_bias: bool = False,
    relu: bool = True,
) -> Any:
    """Conv (1-D or 2-D, from the input rank) then BatchNorm then optional ReLU.

    Layers are named ``name``, ``name_bn`` and ``name_relu``. The bias is off by default
    because the BatchNorm right after it has its own shift.
    """
    keras = tfdeps.keras()
    conv = keras.layers.Conv1D if len(x.shape) == 3 else keras.layers.Conv2D
    x = conv(
        filters,
        kernel,
        strides=strides,
        padding=padding,
        use_bias=use_bias,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer(l2),
        name=name,
    )(x)
    return bn_relu(x, name=name, relu=relu)


def separable_block(x: Any, channels: int, *, name: str, l2: float, strides: Any = 1) -> Any:
    """3x3 depthwise conv (``name_dw``, with stride), BN, ReLU, then 1x1 conv, BN, ReLU.

    The depthwise-separable block of DS-CNN and MobileNet v1; the pointwise conv keeps its
    bias as the MLPerf Tiny reference models do.
    """
    keras = tfdeps.keras()
    x = keras.layers.DepthwiseConv2D(
        3,
        strides=strides,
        padding="same",
        depthwise_initializer="he_normal",
        depthwise_regularizer=regularizer(l2),
        name=f"{name}_dw",
    )(x)
    x = bn_relu(x, name=f"{name}_dw")
    return conv_bn_relu(x, channels, 1, name=f"{name}_pw", l2=l2, use_bias=True)


def bn_relu(x: Any, *, name: str, relu: bool = True) -> Any:
    """BatchNorm (``name_bn``) then optional ReLU (``name_relu``)."""
    keras = tfdeps.keras()
    # Momentum 0.9, not Keras' 0.99: edge datasets are small, and with a few dozen steps per
    # epoch the slower moving averages leave inference-mode BN far off (val accuracy stuck
    # at chance for many epochs).
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def max_pool(x: Any, *, name: str) -> Any:
    """2x (per axis) max pooling; axes already at size 1 are left alone, or the pool skipped."""
    return _halving_pool(x, name=name, average=False)


def avg_pool(x: Any, *, name: str) -> Any:
    """2x (per axis) average pooling; axes already at size 1 are left alone, or skipped."""
    return _halving_pool(x, name=name, average=True)


def _halving_pool(x: Any, *, name: str, average: bool) -> Any:
    keras = tfdeps.keras()
    size = halving(spatial(x))
    if all(s == 1 for s in size):
        return x
    kinds = {
        (False, 1): keras.layers.MaxPooling1D,
        (False, 2): keras.layers.MaxPooling2D,
        (True, 1): keras.layers.AveragePooling1D,
        (True, 2): keras.layers.AveragePooling2D,
    }
    return kinds[average, len(size)](pool_size=size, strides=size, name=name)(x)


def classifier(x: Any, num_classes: int, *, dropout: float = 0.0) -> Any:
    """Average pool over the whole map, flatten, optional dropout, softmax Dense.

    A full-map AveragePooling + Flatten (as in the MLPerf Tiny references) rather than
    GlobalAveragePooling: it converts to AVERAGE_POOL_2D + RESHAPE, which every TFLite
    Micro build supports. The Dense stays float32 so mixed-precision training is stable.
    """
    keras = tfdeps.keras()
    dims = spatial(x)
    if dims:
        pool = keras.layers.AveragePooling1D if len(dims) == 1 else keras.layers.AveragePooling2D
        x = pool(pool_size=dims, name="avg_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    return head(x, num_classes, dropout=dropout)


def head(x: Any, num_classes: int, *, dropout: float = 0.0) -> Any:
    """Optional dropout then the float32 softmax ``predictions`` layer."""
    keras = tfdeps.keras()
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="predictions"
    )(x)


def model_input(shape: tuple[int, ...]) -> Any:
    """The model's input tensor, named ``input``."""
    keras = tfdeps.keras()
    return keras.Input(shape=tuple(shape), name="input")


def _as_ints(family: str, input_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if not shape or not all(_is_int(d) for d in shape):
        raise ModelError(
            f"model {family} needs an input shape of positive integers like 32x32x3; "
            f"got {input_shape!r}"
        )
    shape = tuple(int(d) for d in shape)
    if min(shape) < 1:
        raise ModelError(f"model {family} needs positive input sizes; got {format_shape(shape)}")
    return shape


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
