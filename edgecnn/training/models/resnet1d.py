"""ResNet for time series (Wang et al. 2017), the strongest baseline of Fawaz et al. 2019."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

# The first kernel of each block is 8 samples long; shorter windows would not fill it.
MIN_INPUT = (8,)
# Width 0.125 (8-16-16 channels): with three convs per block, 0.25 is 82 ms on a 64 MHz
# Cortex-M4 at 24x1 windows; 0.125 is 21 ms (`edgecnn estimate`, int8; README's table).
DEFAULT_WIDTH = 0.125


def resnet1d(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: tuple[int, ...] = (64, 128, 128),
    kernel_sizes: tuple[int, ...] = (8, 5, 3),
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds the residual network of Wang et al. (2017) as in Fawaz et al. (2019).

    One residual block per entry of ``filters``: a Conv1D-BN-ReLU per kernel length (the
    last without ReLU), added to a shortcut, then ReLU. The shortcut is a 1x1 conv + BN
    where the channel count changes and the identity where it does not (the reference
    uses a lone BN there; the identity converts to one ADD instead of MUL + ADD). Width 1
    is the published model (64-128-128 channels, kernels 8/5/3); no pooling until the
    average over the whole window. Kernels longer than the window are shortened to it.

    Args:
        input_shape: (T, C): samples per window x channels, at least 8 samples.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of each residual block before the width multiplier.
        kernel_sizes: temporal kernel lengths of the convs inside every block.
        dropout: dropout rate before the classifier (the paper has none).
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_sequence_input("resnet1d", input_shape, MIN_INPUT)
    layers.check_options("resnet1d", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    filters = layers.check_sizes("filters", filters)
    kernels = tuple(
        layers.window_kernel(k, input_shape[0])
        for k in layers.check_sizes("kernel_sizes", kernel_sizes)
    )
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = inputs
    for b, channels in enumerate(filters, start=1):
        x = _block(x, layers.scaled(channels, width), kernels, name=f"block{b}", l2=l2)
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="resnet1d")


def _block(x: Any, channels: int, kernels: tuple[int, ...], *, name: str, l2: float) -> Any:
    """One residual block: convs of ``kernels`` lengths, shortcut, add, ReLU."""
    keras = tfdeps.keras()
    y = x
    for i, kernel in enumerate(kernels, start=1):
        last = i == len(kernels)
        y = layers.conv_bn_relu(y, channels, kernel, name=f"{name}_conv{i}", l2=l2, relu=not last)
    shortcut = x
    if int(x.shape[-1]) != channels:
        shortcut = layers.conv_bn_relu(x, channels, 1, name=f"{name}_shortcut", l2=l2, relu=False)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.ReLU(name=f"{name}_relu")(x)
