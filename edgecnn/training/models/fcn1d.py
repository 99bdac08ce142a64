"""FCN for time series (Wang et al. 2017), the baseline of Fawaz et al. 2019."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

# The first kernel is 8 samples long; shorter windows would not fill even one kernel.
MIN_INPUT = (8,)
# Width 0.25 (32-64-32 channels): an int8 model of 18k params, 43 ms on a 64 MHz
# Cortex-M4 at 24x1 windows (`edgecnn estimate`, int8; README's table).
DEFAULT_WIDTH = 0.25


def fcn1d(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: tuple[int, ...] = (128, 256, 128),
    kernel_sizes: tuple[int, ...] = (8, 5, 3),
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds the fully convolutional network of Wang et al. (2017).

    Conv1D-BN-ReLU blocks that keep the window length (no pooling), average pooling over
    the whole window and a softmax classifier. Width 1 with the default filters and kernels
    is the published model (128-256-128 channels, kernels 8/5/3). Kernels longer than the
    window are shortened to it (``layers.window_kernel``).

    Args:
        input_shape: (T, C): samples per window x channels, at least 8 samples.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of each block before the width multiplier.
        kernel_sizes: temporal kernel length of each block, one per entry of ``filters``.
        dropout: dropout rate before the classifier (the paper has none).
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_sequence_input("fcn1d", input_shape, MIN_INPUT)
    layers.check_options("fcn1d", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    filters = layers.check_sizes("filters", filters)
    kernel_sizes = layers.check_sizes("kernel_sizes", kernel_sizes, count=len(filters))
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = inputs
    for i, (channels, kernel) in enumerate(zip(filters, kernel_sizes, strict=True), start=1):
        x = layers.conv_bn_relu(
            x,
            layers.scaled(channels, width),
            layers.window_kernel(kernel, input_shape[0]),
            name=f"conv{i}",
            l2=l2,
        )
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="fcn1d")
