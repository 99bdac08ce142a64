"""ResNet-8, the MLPerf Tiny image-classification reference (CIFAR-10)."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)


def resnet8(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: tuple[int, ...] = (16, 32, 64),
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds ResNet-8 as in the MLPerf Tiny reference (78,666 params at 32x32x3, 10 classes).

    A 3x3 stem, then one residual stack per entry of ``filters``: two 3x3 convs with BN,
    an identity shortcut in the first stack and a 1x1 stride-2 projection (no BN) in the
    others. Convolutions keep their bias, as in the reference. Strides are equal on both
    axes (``layers.conv_strides``), so thin inputs such as 49x10 train on every CPU kernel.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of each stack before the width multiplier.
        dropout: dropout rate before the classifier (the reference has none).
        l2: L2 weight decay on conv kernels (1e-4 in the reference).
    """
    input_shape = layers.check_image_input("resnet8", input_shape, MIN_INPUT)
    layers.check_options("resnet8", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = layers.conv_bn_relu(
        inputs, layers.scaled(filters[0], width), 3, name="conv1", l2=l2, use_bias=True
    )
    for s, channels in enumerate(filters, start=1):
        x = _stack(x, layers.scaled(channels, width), name=f"stack{s}", first=s == 1, l2=l2)
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="resnet8")


def _stack(x: Any, channels: int, *, name: str, first: bool, l2: float) -> Any:
    """One residual stack: conv-BN-ReLU, conv-BN, add the shortcut, ReLU."""
    keras = tfdeps.keras()
    strides = 1 if first else layers.conv_strides(layers.spatial(x))
    y = layers.conv_bn_relu(
        x, channels, 3, strides=strides, name=f"{name}_conv1", l2=l2, use_bias=True
    )
    y = layers.conv_bn_relu(y, channels, 3, name=f"{name}_conv2", l2=l2, use_bias=True, relu=False)
    if not first:
        x = keras.layers.Conv2D(
            channels,
            1,
            strides=strides,
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=layers.regularizer(l2),
            name=f"{name}_shortcut",
        )(x)
    x = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.ReLU(name=f"{name}_relu")(x)
