"""InceptionTime-style network (Ismail Fawaz et al. 2020), a few modules deep."""

from __future__ import annotations

from typing import Any

from edgecnn.core.errors import ModelError
from edgecnn.training import tfdeps
from edgecnn.training.models import layers

# Same floor as cnn1d, fcn1d and resnet1d; the long kernels are shortened to the window.
MIN_INPUT = (8,)
# Width 0.25 (8 channels per branch, 32 per module): an int8 model of 9k params, 23 ms on
# a 64 MHz Cortex-M4 at 24x1 windows (`edgecnn estimate`, int8; README's table).
DEFAULT_WIDTH = 0.25
# InceptionTime adds a shortcut around every three modules.
RESIDUAL_EVERY = 3


def inception1d(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    depth: int = 3,
    filters: int = 32,
    bottleneck: int = 32,
    kernel_sizes: tuple[int, ...] = (40, 20, 10),
    residual: bool = True,
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds ``depth`` inception modules, average pooling over the window and a classifier.

    A module is a linear 1x1 bottleneck conv (skipped when its input has no more channels
    than the bottleneck, where it would widen instead of narrow), parallel convs of each
    kernel length on it, and a 3-sample stride-1 max pool of the module input followed by
    a 1x1 conv; each branch is BN + ReLU'd and the branches concatenated. The reference
    concatenates first and normalizes after: per-channel BN and ReLU commute with the
    concatenation, and per branch the BN folds into its conv when converted. With
    ``residual``, a shortcut (1x1 conv + BN, or the identity when channels match) is
    added around every three modules, then ReLU. Width 1 and depth 6 is the published
    network (32 channels per branch, kernels 40/20/10); kernels longer than the window
    are shortened to it.

    Args:
        input_shape: (T, C): samples per window x channels, at least 8 samples.
        num_classes: number of classes (>= 2).
        width: multiplier on ``filters`` and ``bottleneck``.
        depth: number of inception modules.
        filters: channels of each branch before the width multiplier.
        bottleneck: channels of the 1x1 bottleneck before the width multiplier.
        kernel_sizes: temporal kernel length of each parallel conv branch.
        residual: add a shortcut around every three modules.
        dropout: dropout rate before the classifier (the paper has none).
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_sequence_input("inception1d", input_shape, MIN_INPUT)
    layers.check_options(
        "inception1d", num_classes=num_classes, width=width, dropout=dropout, l2=l2
    )
    depth, filters, bottleneck = (
        layers.check_count(option, value)
        for option, value in (("depth", depth), ("filters", filters), ("bottleneck", bottleneck))
    )
    if not isinstance(residual, bool):
        raise ModelError(f"residual must be true or false; got {residual!r}")
    kernels = tuple(
        layers.window_kernel(k, input_shape[0])
        for k in layers.check_sizes("kernel_sizes", kernel_sizes)
    )
    keras = tfdeps.keras()
    channels = (layers.scaled(filters, width), layers.scaled(bottleneck, width))
    inputs = layers.model_input(input_shape)
    x = shortcut = inputs
    for m in range(1, depth + 1):
        x = _module(x, channels, kernels, name=f"module{m}", l2=l2)
        if residual and m % RESIDUAL_EVERY == 0:
            x = _add_shortcut(shortcut, x, name=f"residual{m // RESIDUAL_EVERY}", l2=l2)
            shortcut = x
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="inception1d")


def _module(
    x: Any, channels: tuple[int, int], kernels: tuple[int, ...], *, name: str, l2: float
) -> Any:
    """One inception module; its branches are concatenated into layer ``name``."""
    keras = tfdeps.keras()
    filters, bottleneck = channels
    narrow = x
    if int(x.shape[-1]) > bottleneck:
        narrow = keras.layers.Conv1D(
            bottleneck,
            1,
            use_bias=False,
            kernel_initializer="he_normal",
            kernel_regularizer=layers.regularizer(l2),
            name=f"{name}_bottleneck",
        )(x)
    branches = [
        layers.conv_bn_relu(narrow, filters, kernel, name=f"{name}_conv{i}", l2=l2)
        for i, kernel in enumerate(kernels, start=1)
    ]
    pooled = keras.layers.MaxPooling1D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branches.append(layers.conv_bn_relu(pooled, filters, 1, name=f"{name}_pool_proj", l2=l2))
    return keras.layers.Concatenate(name=name)(branches)


def _add_shortcut(source: Any, x: Any, *, name: str, l2: float) -> Any:
    """Adds ``source`` (projected by a 1x1 conv + BN if its channels differ) to ``x``, ReLU."""
    keras = tfdeps.keras()
    channels = int(x.shape[-1])
    if int(source.shape[-1]) != channels:
        source = layers.conv_bn_relu(source, channels, 1, name=f"{name}_proj", l2=l2, relu=False)
    x = keras.layers.Add(name=f"{name}_add")([source, x])
    return keras.layers.ReLU(name=f"{name}_relu")(x)
