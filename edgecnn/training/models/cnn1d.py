"""1-D CNN for multichannel sensor windows (IMU, vibration, audio features)."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8,)


def cnn1d(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: tuple[int, ...] = (32, 64, 128),
    kernel_size: int = 5,
    dropout: float = 0.3,
    l2: float = 1e-4,
) -> Any:
    """Builds Conv1D-BN-ReLU-MaxPool blocks, average pooling over time and a dense classifier.

    Pools halve the window only while it is longer than one sample, so 8-sample windows fit.

    Args:
        input_shape: (T, C): samples per window x channels, at least 8 samples.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of each block before the width multiplier.
        kernel_size: temporal kernel length of every convolution.
        dropout: dropout rate before the classifier.
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_sequence_input("cnn1d", input_shape, MIN_INPUT)
    layers.check_options("cnn1d", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = inputs
    for i, channels in enumerate(filters, start=1):
        x = layers.conv_bn_relu(
            x, layers.scaled(channels, width), kernel_size, name=f"conv{i}", l2=l2
        )
        x = layers.max_pool(x, name=f"pool{i}")
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="cnn1d")
